// File: sim/scheduler/extender_client.h
//
// ExtenderClient: calls one scheduler extender the way kube-scheduler's HTTPExtender does
// (k8s-apis.md §2.1-2.2): POST <urlPrefix>/<verb> with a JSON body, HTTP 200 required, the
// extender v1 types with capitalised keys, the `httpTimeout` as a whole-call deadline, TLS per
// enableHTTPS/tlsConfig (no CA and not insecure: system roots; enableHTTPS without a CA:
// verification off, as upstream).
//   Filter      ExtenderArgs with NodeNames (nodeCacheCapable) or a full NodeList; the answer's
//               NodeNames (or Nodes.items) are the survivors, which must all be input nodes;
//               a null list means none passed; a non-empty Error is an error.
//   Prioritize  HostPriorityList scores (0..10).
//   Bind        ExtenderBindingArgs; a non-empty Error is an error.
// IsInterested: with managedResources, only pods that request or limit one of them (containers
// or init containers); without, every pod.
//
// Thread safety: safe for concurrent use (const after construction; the OutboundHttp is).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "sim/kube/http_client.h"
#include "sim/scheduler/scheduler_config.h"

namespace npushare::kube_scheduler_sim {

struct ExtenderFilterResult {
  std::vector<std::string> node_names;              // survivors, in the order answered
  std::map<std::string, std::string> failed;        // FailedNodes
  std::map<std::string, std::string> unresolvable;  // FailedAndUnresolvableNodes
};

class ExtenderClient {
 public:
  // ExtenderClient: REQUIRES: http outlives this.
  ExtenderClient(ExtenderConfig config, kube_local::OutboundHttp& http);

  const ExtenderConfig& config() const { return config_; }
  // name: the urlPrefix (what kube-scheduler's logs call the extender).
  const std::string& name() const { return config_.url_prefix; }
  bool IsInterested(const nlohmann::json& pod) const;
  bool IsFilter() const { return !config_.filter_verb.empty(); }
  bool IsPrioritizer() const { return !config_.prioritize_verb.empty(); }
  bool IsBinder() const { return !config_.bind_verb.empty(); }

  // Filter: `nodes` are full Node objects (names are sent when nodeCacheCapable).
  // @return the result; transport errors as OutboundHttp, kUnavailable for a non-200 answer,
  //   kInvalidArgument for an undecodable answer or an unknown node name, kUnknown for a
  //   non-empty Error.
  Result<ExtenderFilterResult> Filter(const nlohmann::json& pod,
                                      const std::vector<const nlohmann::json*>& nodes) const;
  // Prioritize: host -> score. Errors as Filter.
  Result<std::map<std::string, int64_t>> Prioritize(
      const nlohmann::json& pod, const std::vector<const nlohmann::json*>& nodes) const;
  // Bind: errors as Filter.
  Status Bind(const std::string& ns, const std::string& name, const std::string& uid,
              const std::string& node) const;

 private:
  Result<nlohmann::json> Call(const std::string& verb, const nlohmann::json& args) const;
  nlohmann::json Args(const nlohmann::json& pod,
                      const std::vector<const nlohmann::json*>& nodes) const;

  const ExtenderConfig config_;
  kube_local::OutboundHttp& http_;
};

}  // namespace npushare::kube_scheduler_sim
