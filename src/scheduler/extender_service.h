// File: scheduler/extender_service.h
//
// The seam between npushare-scheduler's HTTP layer (http/, webhook, TLS, routes) and its
// scheduling service (caches fed by informers, Filter, Bind with the node lock). The HTTP
// layer parses and size-limits bodies and answers in the wire format; this interface takes
// and returns the extender v1 JSON types (k8s-apis.md §2.1) as nlohmann::json.
//
// Thread safety: implementations are safe for concurrent calls.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace npushare::scheduler {

// ExtenderFilterArgs: ExtenderArgs already shape-checked and split by the HTTP layer
// (http/extender_wire.h ParseExtenderArgs), with NodeNames as plain strings: a JSON array of
// 1,000s of names costs more to build and walk than the filter itself.
struct ExtenderFilterArgs {
  nlohmann::json pod;                                  // a Pod object
  nlohmann::json nodes;                                // null or a NodeList object
  std::optional<std::vector<std::string>> node_names;  // nullopt: NodeNames was null
};

class ExtenderService {
 public:
  virtual ~ExtenderService() = default;
  // Filter: ExtenderArgs (nodeCacheCapable: `nodenames`, `pod`) -> ExtenderFilterResult
  // (`nodenames`, `failedNodes`, `failedAndUnresolvableNodes`, `error`). Errors in the
  // result's `error` field, never as a Status, except kInvalidArgument for a body that is
  // not ExtenderArgs at all (the HTTP layer answers 400).
  virtual Result<nlohmann::json> Filter(const nlohmann::json& extender_args) = 0;
  // FilterSplit: Filter for args the HTTP layer has split; same results and errors. The
  // default rebuilds the canonical ExtenderArgs JSON and calls Filter; implementations on the
  // hot path override it.
  virtual Result<nlohmann::json> FilterSplit(ExtenderFilterArgs args) {
    nlohmann::json body = nlohmann::json::object();
    body["Pod"] = std::move(args.pod);
    body["Nodes"] = std::move(args.nodes);
    body["NodeNames"] =
        args.node_names ? nlohmann::json(std::move(*args.node_names)) : nlohmann::json(nullptr);
    return Filter(body);
  }
  // Bind: ExtenderBindingArgs (`podName`, `podNamespace`, `podUID`, `node`) ->
  // ExtenderBindingResult (`error` empty on success). A follower (not leader) answers with
  // an error saying so.
  virtual Result<nlohmann::json> Bind(const nlohmann::json& binding_args) = 0;
  // Ready: caches synced (what /readyz reports).
  virtual bool Ready() const = 0;
};

}  // namespace npushare::scheduler
