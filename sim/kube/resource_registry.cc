#include "sim/kube/resource_registry.h"

namespace npushare::kube_local {

using nlohmann::json;

const std::vector<ResourceInfo>& AllResources() {
  static const auto* resources = new std::vector<ResourceInfo>{
      {"", "v1", "namespaces", "namespace", "Namespace", false, true, {"ns"}},
      {"", "v1", "nodes", "node", "Node", false, true, {"no"}},
      {"", "v1", "pods", "pod", "Pod", true, true, {"po"}},
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, false, {"cm"}},
      {"", "v1", "events", "event", "Event", true, false, {"ev"}},
      {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, false, {}},
  };
  return *resources;
}

const ResourceInfo* FindResource(std::string_view group, std::string_view version,
                                 std::string_view plural) {
  for (const auto& r : AllResources()) {
    if (r.group == group && r.version == version && r.plural == plural) {
      return &r;
    }
  }
  return nullptr;
}

json VersionDocument() {
  return {{"major", "1"},
          {"minor", "30"},
          {"gitVersion", "v1.30.0-npushare-local"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2024-05-01T00:00:00Z"},
          {"goVersion", "go1.22.0"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

json ApiVersionsDocument(const std::string& server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

namespace {
json GroupEntry(const std::string& group) {
  json gv = {{"groupVersion", group + "/v1"}, {"version", "v1"}};
  return {{"name", group}, {"versions", {gv}}, {"preferredVersion", gv}};
}
}  // namespace

json ApiGroupListDocument() {
  return {{"kind", "APIGroupList"},
          {"apiVersion", "v1"},
          {"groups", {GroupEntry("coordination.k8s.io")}}};
}

json ApiGroupDocument(std::string_view group) {
  if (group != "coordination.k8s.io") {
    return nullptr;
  }
  json g = GroupEntry(std::string(group));
  g["kind"] = "APIGroup";
  g["apiVersion"] = "v1";
  return g;
}

json ApiResourceListDocument(std::string_view group, std::string_view version) {
  json resources = json::array();
  for (const auto& r : AllResources()) {
    if (r.group != group || r.version != version) {
      continue;
    }
    json verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
    json entry = {{"name", r.plural},
                  {"singularName", r.singular},
                  {"namespaced", r.namespaced},
                  {"kind", r.kind},
                  {"verbs", verbs}};
    if (!r.short_names.empty()) {
      entry["shortNames"] = r.short_names;
    }
    resources.push_back(entry);
    if (r.has_status) {
      resources.push_back({{"name", r.plural + "/status"},
                           {"singularName", ""},
                           {"namespaced", r.namespaced},
                           {"kind", r.kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
    if (r.plural == "pods") {
      resources.push_back({{"name", "pods/binding"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"kind", "Binding"},
                           {"verbs", {"create"}}});
    }
  }
  if (resources.empty()) {
    return nullptr;
  }
  std::string gv =
      group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", gv},
          {"resources", resources}};
}

}  // namespace npushare::kube_local
