// File: scheduler/service/extender_json.h
//
// The scheduler extender v1 bodies (k8s-apis.md §2.1) as small structs. The Go types have no
// json tags, so kube-scheduler sends capitalised keys (`Pod`, `NodeNames`, `PodName`, ...) and
// Go's decoder matches keys case-insensitively: the parsers here do the same (an exact match
// wins over a case-insensitive one). Results are written with the capitalised keys, every key
// present, as the Go encoder would.
//
// Thread safety: pure functions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::scheduler {

struct FilterArgs {
  const nlohmann::json* pod = nullptr;  // points into the parsed body
  // NodeNames (nodeCacheCapable), or the names of Nodes.items when NodeNames is null;
  // nullopt when both are null.
  std::optional<std::vector<std::string>> node_names;
};

// ParseFilterArgs: kInvalidArgument when `body` is not an object, has no Pod object, or its
// NodeNames / Nodes have the wrong shape. The result points into `body`.
Result<FilterArgs> ParseFilterArgs(const nlohmann::json& body);

// FilterResultJson: ExtenderFilterResult. `node_names` nullopt is written as null.
nlohmann::json FilterResultJson(const std::optional<std::vector<std::string>>& node_names,
                                const std::map<std::string, std::string>& failed,
                                const std::string& error);

struct BindArgs {
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::string node;
};

// ParseBindArgs: kInvalidArgument when `body` is not an object or PodName / Node are missing
// or not strings. A missing PodNamespace reads as "default".
Result<BindArgs> ParseBindArgs(const nlohmann::json& body);

// BindResultJson: ExtenderBindingResult {"Error": error}.
nlohmann::json BindResultJson(const std::string& error);

}  // namespace npushare::scheduler
