// File: kube/resource.h
//
// ResourceType names one REST collection of the Kubernetes API (group, version, plural) and
// builds its URL paths. The well-known types npushare uses are provided as constants.
//
// Usage:
//   std::string p = ObjectPath(kPods, "default", "web-0", "binding");
//   // "/api/v1/namespaces/default/pods/web-0/binding"
//
// Thread safety: values; all functions are pure.
#pragma once

#include <string>
#include <string_view>

namespace npushare::kube {

// ResourceType: a REST resource. `group` is empty for the core ("legacy") group.
struct ResourceType {
  std::string_view group;
  std::string_view version;
  std::string_view plural;
  std::string_view kind;
  bool namespaced = true;
};

inline constexpr ResourceType kPods{"", "v1", "pods", "Pod", true};
inline constexpr ResourceType kNodes{"", "v1", "nodes", "Node", false};
inline constexpr ResourceType kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline constexpr ResourceType kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
inline constexpr ResourceType kEvents{"", "v1", "events", "Event", true};
inline constexpr ResourceType kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};

// ApiVersion: "v1" or "<group>/<version>".
std::string ApiVersion(const ResourceType& type);

// CollectionPath: "/api/v1/pods" (ns empty or cluster-scoped) or
// "/api/v1/namespaces/<ns>/pods". Names are used verbatim: REQUIRES: ns is a DNS label.
std::string CollectionPath(const ResourceType& type, std::string_view ns);

// ObjectPath: CollectionPath + "/<name>" [+ "/<subresource>"].
std::string ObjectPath(const ResourceType& type, std::string_view ns, std::string_view name,
                       std::string_view subresource = {});

// UrlEncode: percent-encodes everything except RFC 3986 unreserved characters.
std::string UrlEncode(std::string_view s);

// UrlDecode: reverses UrlEncode (and '+' as space); malformed escapes are kept literally.
std::string UrlDecode(std::string_view s);

}  // namespace npushare::kube
