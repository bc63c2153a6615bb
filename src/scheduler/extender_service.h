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
#include <string>

#include "common/status.h"

namespace npushare::scheduler {

class ExtenderService {
 public:
  virtual ~ExtenderService() = default;
  // Filter: ExtenderArgs (nodeCacheCapable: `nodenames`, `pod`) -> ExtenderFilterResult
  // (`nodenames`, `failedNodes`, `failedAndUnresolvableNodes`, `error`). Errors in the
  // result's `error` field, never as a Status, except kInvalidArgument for a body that is
  // not ExtenderArgs at all (the HTTP layer answers 400).
  virtual Result<nlohmann::json> Filter(const nlohmann::json& extender_args) = 0;
  // Bind: ExtenderBindingArgs (`podName`, `podNamespace`, `podUID`, `node`) ->
  // ExtenderBindingResult (`error` empty on success). A follower (not leader) answers with
  // an error saying so.
  virtual Result<nlohmann::json> Bind(const nlohmann::json& binding_args) = 0;
  // Ready: caches synced (what /readyz reports).
  virtual bool Ready() const = 0;
};

}  // namespace npushare::scheduler
