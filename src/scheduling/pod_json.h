// File: scheduling/pod_json.h
//
// Conversions between Kubernetes objects (nlohmann::json, as served by the API server or
// read from manifests) and the scheduling core's plain values, shared by the dry run
// (`npushare schedule`), the scheduler service and the webhook:
//   * PodSpecFromJson: a Pod object -> PodSpec;
//   * PlacedPodOf: the usage a pod already holds (hami.io/vgpu-node + <cw>-devices-allocated);
//   * NodeStateFromAnnotations: a node's registered devices from hami.io/node-register-<cw>,
//     one chip type at a time, so a garbled annotation costs only that chip type.
// Every input is untrusted: type mismatches and oversized inputs are kInvalidArgument with the
// field named, never an exception.
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(PodSpec pod, PodSpecFromJson(obj));
//   NPUSHARE_ASSIGN_OR_RETURN(auto placed, PlacedPodOf(pod, config));  // nullopt: holds nothing
//   NodeRegistration reg = NodeStateFromAnnotations("node-a", annotations, config);
//   for (auto& [cw, err] : reg.errors) log(...);
//
// Thread safety: pure functions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "config/device_config.h"
#include "hami/types.h"
#include "scheduling/node_usage.h"
#include "scheduling/pod_spec.h"

namespace npushare::scheduling {

// kMaxPodContainers: init + app containers a pod may have to be scheduled; the allocation
// text decoder (hami::kMaxPodDevicesContainers) accepts no more, so a larger pod could be
// placed but never read back.
inline constexpr size_t kMaxPodContainers = 1024;

// ReadStringMap: copies the string map `obj[key]` (metadata.annotations / labels) into `out`.
// Absent or null is OK; numbers and booleans keep their JSON text (an unquoted YAML scalar);
// anything else is kInvalidArgument naming `where`.`key`.
Status ReadStringMap(const nlohmann::json& obj, const char* key, hami::Annotations& out,
                     const std::string& where);

// PodSpecFromJson: kInvalidArgument naming the field when `obj` is not a usable Pod
// (missing metadata.name, wrong JSON types, more than kMaxPodContainers containers).
// A missing namespace reads as "default".
Result<PodSpec> PodSpecFromJson(const nlohmann::json& obj);

// PlacedPodOf: the usage of a pod that carries hami.io/vgpu-node and at least one
// hami.io/<cw>-devices-allocated of a configured chip, unless it is Succeeded/Failed;
// nullopt otherwise. kInvalidArgument when an allocation annotation is malformed.
Result<std::optional<PlacedPod>> PlacedPodOf(const PodSpec& pod,
                                             const config::DeviceConfig& config);

// NodeRegistration: the decoded node plus the chip types whose annotation did not decode
// (those are left out of state.registered).
struct NodeRegistration {
  NodeState state;
  std::map<std::string, Status, std::less<>> errors;  // <cw> -> decode error
};

// NodeStateFromAnnotations: decodes hami.io/node-register-<cw> for every configured chip
// present in `annotations`.
NodeRegistration NodeStateFromAnnotations(std::string name, hami::Annotations annotations,
                                          const config::DeviceConfig& config);

}  // namespace npushare::scheduling
