#include "sim/kube/resource_registry.h"

#include <algorithm>

namespace npushare::kube_local {

using nlohmann::json;

const std::vector<ResourceInfo>& AllResources() {
  static const auto* resources = new std::vector<ResourceInfo>{
      {"", "v1", "namespaces", "namespace", "Namespace", false, true, {"ns"}},
      {"", "v1", "nodes", "node", "Node", false, true, {"no"}},
      {"", "v1", "pods", "pod", "Pod", true, true, {"po"}},
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, false, {"cm"}},
      {"", "v1", "events", "event", "Event", true, false, {"ev"}},
      {"", "v1", "services", "service", "Service", true, true, {"svc"}},
      {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, false, {"sa"}},
      {"", "v1", "secrets", "secret", "Secret", true, false, {}},
      {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, false, {}},
      {"apps", "v1", "deployments", "deployment", "Deployment", true, true, {"deploy"}},
      {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, true, {"ds"}},
      {"rbac.authorization.k8s.io",
       "v1",
       "clusterroles",
       "clusterrole",
       "ClusterRole",
       false,
       false,
       {}},
      {"rbac.authorization.k8s.io",
       "v1",
       "clusterrolebindings",
       "clusterrolebinding",
       "ClusterRoleBinding",
       false,
       false,
       {}},
      {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, false, {}},
      {"rbac.authorization.k8s.io",
       "v1",
       "rolebindings",
       "rolebinding",
       "RoleBinding",
       true,
       false,
       {}},
      {"admissionregistration.k8s.io",
       "v1",
       "mutatingwebhookconfigurations",
       "mutatingwebhookconfiguration",
       "MutatingWebhookConfiguration",
       false,
       false,
       {}},
      {"admissionregistration.k8s.io",
       "v1",
       "validatingwebhookconfigurations",
       "validatingwebhookconfiguration",
       "ValidatingWebhookConfiguration",
       false,
       false,
       {}},
      {"node.k8s.io", "v1", "runtimeclasses", "runtimeclass", "RuntimeClass", false, false, {}},
      {"policy",
       "v1",
       "poddisruptionbudgets",
       "poddisruptionbudget",
       "PodDisruptionBudget",
       true,
       true,
       {"pdb"}},
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

// ServedGroups: the named API groups, in the order of AllResources().
std::vector<std::string> ServedGroups() {
  std::vector<std::string> groups;
  for (const auto& r : AllResources()) {
    if (!r.group.empty() && std::find(groups.begin(), groups.end(), r.group) == groups.end()) {
      groups.push_back(r.group);
    }
  }
  return groups;
}
}  // namespace

json ApiGroupListDocument() {
  json groups = json::array();
  for (const auto& g : ServedGroups()) {
    groups.push_back(GroupEntry(g));
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

json ApiGroupDocument(std::string_view group) {
  auto served = ServedGroups();
  if (group.empty() || std::find(served.begin(), served.end(), group) == served.end()) {
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
