#include "scheduler/service/extender_json.h"

#include <strings.h>

namespace npushare::scheduler {
namespace {

using nlohmann::json;

// FieldCI: body[key] with Go's rule (exact match first, then case-insensitive), or nullptr.
const json* FieldCI(const json& body, const char* key) {
  if (auto it = body.find(key); it != body.end()) {
    return &*it;
  }
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (strcasecmp(it.key().c_str(), key) == 0) {
      return &*it;
    }
  }
  return nullptr;
}

Result<std::string> OptionalString(const json& body, const char* key) {
  const json* v = FieldCI(body, key);
  if (v == nullptr || v->is_null()) {
    return std::string();
  }
  if (!v->is_string()) {
    return InvalidArgumentError(std::string(key) + " must be a string");
  }
  return v->get<std::string>();
}

}  // namespace

Result<FilterArgs> ParseFilterArgs(const json& body) {
  if (!body.is_object()) {
    return InvalidArgumentError("ExtenderArgs must be a JSON object");
  }
  FilterArgs out;
  out.pod = FieldCI(body, "Pod");
  if (out.pod == nullptr || !out.pod->is_object()) {
    return InvalidArgumentError("ExtenderArgs.Pod must be a Pod object");
  }
  const json* names = FieldCI(body, "NodeNames");
  if (names != nullptr && !names->is_null()) {
    if (!names->is_array()) {
      return InvalidArgumentError("ExtenderArgs.NodeNames must be a list of strings");
    }
    std::vector<std::string> v;
    v.reserve(names->size());
    for (const auto& n : *names) {
      if (!n.is_string()) {
        return InvalidArgumentError("ExtenderArgs.NodeNames must be a list of strings");
      }
      v.push_back(n.get<std::string>());
    }
    out.node_names = std::move(v);
    return out;
  }
  const json* nodes = FieldCI(body, "Nodes");
  if (nodes != nullptr && !nodes->is_null()) {
    const json* items = nodes->is_object() ? FieldCI(*nodes, "items") : nullptr;
    if (items == nullptr || !(items->is_array() || items->is_null())) {
      return InvalidArgumentError("ExtenderArgs.Nodes must be a NodeList");
    }
    std::vector<std::string> v;
    if (items->is_array()) {
      for (const auto& n : *items) {
        const json* meta = n.is_object() ? FieldCI(n, "metadata") : nullptr;
        const json* name = meta != nullptr && meta->is_object() ? FieldCI(*meta, "name") : nullptr;
        if (name == nullptr || !name->is_string()) {
          return InvalidArgumentError("ExtenderArgs.Nodes.items[] must have metadata.name");
        }
        v.push_back(name->get<std::string>());
      }
    }
    out.node_names = std::move(v);
  }
  return out;
}

json FilterResultJson(const std::optional<std::vector<std::string>>& node_names,
                      const std::map<std::string, std::string>& failed, const std::string& error) {
  json out = json::object();
  out["Nodes"] = nullptr;
  out["NodeNames"] = node_names ? json(*node_names) : json(nullptr);
  out["FailedNodes"] = json::object();
  for (const auto& [n, r] : failed) {
    out["FailedNodes"][n] = r;
  }
  out["FailedAndUnresolvableNodes"] = json::object();
  out["Error"] = error;
  return out;
}

Result<BindArgs> ParseBindArgs(const json& body) {
  if (!body.is_object()) {
    return InvalidArgumentError("ExtenderBindingArgs must be a JSON object");
  }
  BindArgs a;
  NPUSHARE_ASSIGN_OR_RETURN(a.pod_name, OptionalString(body, "PodName"));
  NPUSHARE_ASSIGN_OR_RETURN(a.pod_namespace, OptionalString(body, "PodNamespace"));
  NPUSHARE_ASSIGN_OR_RETURN(a.pod_uid, OptionalString(body, "PodUID"));
  NPUSHARE_ASSIGN_OR_RETURN(a.node, OptionalString(body, "Node"));
  if (a.pod_name.empty() || a.node.empty()) {
    return InvalidArgumentError("ExtenderBindingArgs needs PodName and Node");
  }
  if (a.pod_namespace.empty()) {
    a.pod_namespace = "default";
  }
  return a;
}

json BindResultJson(const std::string& error) {
  return json{{"Error", error}};
}

}  // namespace npushare::scheduler
