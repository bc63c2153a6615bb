// File: sim/kubelet/container_spec_builder.h
//
// Pure translations from a pod object (core/v1 JSON) to what the kubelet stand-in needs to run
// one of its containers:
//   ExtendedRequests    the device-plugin resources a container needs (kubelet's device manager:
//                       limits, else requests; only resources a plugin serves; integers only);
//   ExpandVars          kubelet's $(VAR) expansion of env values, command and args;
//   ContainerRuntimeId  a runtime id for one run of one container, valid for ContainerSpec::id;
//   BuildContainerSpec  the container_sim::ContainerSpec: args = command + args, env = pod env
//                       (value, valueFrom.fieldRef) overlaid by the Allocate envs, mounts =
//                       Allocate mounts + emptyDir/hostPath volumeMounts, devices = Allocate
//                       DeviceSpecs, uid/gid from securityContext, ascend_runtime from
//                       runtimeClassName == "ascend".
// The image is not used: every container's root is the host view the runtime builds
// (docs/kubelet-sim.md).
//
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "deviceplugin/plugin_device.h"
#include "sim/container/container_runtime.h"

namespace npushare::kubelet_sim {

// ExtendedRequest: `count` devices of `resource` for one container.
struct ExtendedRequest {
  std::string resource;
  int32_t count = 0;
};

// ExtendedRequests: for `container` (a pod spec container object), one entry per resource for
// which `is_plugin_resource` is true and the quantity is > 0, in name order. Errors:
// kInvalidArgument when such a quantity is not a non-negative integer below 2^20 (kubelet's
// apiserver validation makes extended resources integers).
Result<std::vector<ExtendedRequest>> ExtendedRequests(
    const nlohmann::json& container,
    const std::function<bool(const std::string&)>& is_plugin_resource);

// ExpandVars: replaces $(NAME) with vars[NAME] when defined (else leaves "$(NAME)"), and "$$"
// with "$", as kubelet's expansion does.
std::string ExpandVars(std::string_view in, const std::map<std::string, std::string>& vars);

// ContainerRuntimeId: "<name prefix>-<16 hex digits of a hash of uid/name>-<attempt>", at most
// 64 characters of [a-z0-9_.-] starting with [a-z0-9]: distinct for distinct pods, containers
// and attempts.
std::string ContainerRuntimeId(std::string_view pod_uid, std::string_view container, int attempt);

// ContainerSpecInputs: what BuildContainerSpec combines.
struct ContainerSpecInputs {
  const nlohmann::json* pod = nullptr;        // REQUIRES: non-null
  const nlohmann::json* container = nullptr;  // REQUIRES: non-null, an entry of the pod spec
  // allocations: the Allocate responses of this container (one per resource).
  std::vector<deviceplugin::ContainerAllocation> allocations{};
  std::string runtime_id{};
  std::string log_path{};
  // volumes_dir: where emptyDir volumes live (<dir>/<volume name>, created 0750 by the caller
  // from the returned `empty_dirs`).
  std::string volumes_dir{};
  std::string pod_ip = "127.0.0.1";
};

// BuiltContainerSpec: the spec plus what the caller must do or report.
struct BuiltContainerSpec {
  container_sim::ContainerSpec spec;
  std::vector<std::string> empty_dirs;  // host directories to create before Start
  std::vector<std::string> warnings;    // unsupported volumes / env sources, skipped
};

// BuildContainerSpec: see the file comment. Errors: kInvalidArgument when the container has no
// command (there is no image entrypoint to fall back on), or a field has the wrong JSON type.
Result<BuiltContainerSpec> BuildContainerSpec(const ContainerSpecInputs& in);

}  // namespace npushare::kubelet_sim
