// File: sim/kube/resource_registry.h
//
// The resource types the local API server serves, and the discovery documents built from
// them (k8s-apis.md §4.13): /version, /api, /apis, /api/v1, /apis/<group>, /apis/<g>/<v>.
// Served: core/v1 namespaces, nodes (+status), pods (+status, +binding), configmaps, events,
// services (+status), serviceaccounts, secrets; coordination.k8s.io/v1 leases; apps/v1
// deployments, daemonsets (+status); rbac.authorization.k8s.io/v1 clusterroles,
// clusterrolebindings, roles, rolebindings; admissionregistration.k8s.io/v1
// mutatingwebhookconfigurations, validatingwebhookconfigurations (stored; only the mutating
// ones are called, see admission_webhooks.h); node.k8s.io/v1 runtimeclasses. Every group is
// served at v1 only.
//
// Thread safety: immutable after static initialization; pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace npushare::kube_local {

struct ResourceInfo {
  std::string group;  // "" for core
  std::string version;
  std::string plural;
  std::string singular;
  std::string kind;
  bool namespaced = true;
  bool has_status = false;  // a /status subresource exists (main updates keep status)
  std::vector<std::string> short_names;

  // StoreName: "pods" or "leases.coordination.k8s.io".
  std::string StoreName() const { return group.empty() ? plural : plural + "." + group; }
  // ApiVersion: "v1" or "coordination.k8s.io/v1".
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

// AllResources: every served resource.
const std::vector<ResourceInfo>& AllResources();

// FindResource: the resource with that group/version/plural, or null.
const ResourceInfo* FindResource(std::string_view group, std::string_view version,
                                 std::string_view plural);

// Discovery documents.
nlohmann::json VersionDocument();
nlohmann::json ApiVersionsDocument(const std::string& server_address);
nlohmann::json ApiGroupListDocument();
// ApiGroupDocument: null when the group is not served.
nlohmann::json ApiGroupDocument(std::string_view group);
// ApiResourceListDocument: null when group/version is not served.
nlohmann::json ApiResourceListDocument(std::string_view group, std::string_view version);

}  // namespace npushare::kube_local
