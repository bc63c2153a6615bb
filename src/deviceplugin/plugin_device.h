// File: deviceplugin/plugin_device.h
//
// The seams between the three parts of npushare-device-plugin, as plain types (no protobuf):
//   devices/  discovers chips over DCMI and publishes a NodeDevices snapshot;
//   kubelet/  serves the kubelet device-plugin gRPC API, one PluginServer per chip resource,
//             advertising the PluginDevice list it is given and delegating Allocate and
//             GetPreferredAllocation to an AllocateBackend;
//   allocate/ implements AllocateBackend from the pod annotations the scheduler wrote.
// main.cc wires them: NodeDevices -> PluginDevices per resource -> PluginServer::UpdateDevices.
//
// Thread safety: value types; interfaces document their own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::deviceplugin {

// Chip: one physical Ascend chip as the plugin sees it after filterDevices.
struct Chip {
  uint32_t index = 0;      // position in the plugin's filtered list (node-register `index`)
  int32_t logic_id = -1;   // DCMI logic id
  int32_t phys_id = -1;    // physical id: what ASCEND_VISIBLE_DEVICES carries
  int32_t card_id = -1;    // DCMI card id
  int32_t device_id = -1;  // DCMI device (chip) id within the card
  std::string uuid;        // die id UUID (node-register `id`)
  std::string chip_name;   // DCMI chip name, e.g. "910B3"
  bool healthy = false;    // DCMI health code == 0
};

// NodeDevices: everything the other parts need about this node's chips, published as an
// immutable snapshot (a new one replaces the old on every change).
struct NodeDevices {
  std::string common_word;     // e.g. "Ascend910B3" (config entry)
  std::string resource_name;   // e.g. "huawei.com/Ascend910B3"
  uint64_t memory_mb = 0;      // config memoryAllocatable
  int32_t aicore = 0;          // config aiCore (100 when hami_vnpu_core)
  int32_t vdevice_count = 0;   // virtual IDs per chip advertised to kubelet
  bool hami_vnpu_core = false; // soft slicing enabled on this node
  std::vector<Chip> chips;
};

// DeviceSnapshotSource: read side of the current NodeDevices (devices/ implements it).
class DeviceSnapshotSource {
 public:
  virtual ~DeviceSnapshotSource() = default;
  // Current: never null after start-up succeeded.
  virtual std::shared_ptr<const NodeDevices> Current() const = 0;
};

inline constexpr const char* kHealthy = "Healthy";
inline constexpr const char* kUnhealthy = "Unhealthy";

// PluginDevice: one ID advertised in ListAndWatch.
struct PluginDevice {
  std::string id;  // "<uuid>-<k>" (HAMi semantics), at most 63 characters
  bool healthy = false;
  friend bool operator==(const PluginDevice&, const PluginDevice&) = default;
};

// MountSpec / DeviceNodeSpec: the kubelet Mount / DeviceSpec messages.
struct MountSpec {
  std::string container_path;
  std::string host_path;
  bool read_only = true;
  friend bool operator==(const MountSpec&, const MountSpec&) = default;
};
struct DeviceNodeSpec {
  std::string container_path;
  std::string host_path;
  std::string permissions;  // "rw", "rwm", ...
  friend bool operator==(const DeviceNodeSpec&, const DeviceNodeSpec&) = default;
};

// ContainerAllocation: the ContainerAllocateResponse for one container.
struct ContainerAllocation {
  std::map<std::string, std::string> envs;
  std::vector<MountSpec> mounts;
  std::vector<DeviceNodeSpec> devices;
  std::map<std::string, std::string> annotations;
};

// AllocateBackend: what a PluginServer delegates to. Called from gRPC threads, possibly
// concurrently for different resources: implementations are thread-safe.
class AllocateBackend {
 public:
  virtual ~AllocateBackend() = default;
  // AllocateContainer: kubelet's Allocate for one ContainerAllocateRequest of `resource_name`
  // with the IDs kubelet picked. An error fails the pod's admission on the node; its message
  // reaches the user in the pod's events, so it says what is wrong in plain words.
  virtual Result<ContainerAllocation> AllocateContainer(
      const std::string& resource_name, const std::vector<std::string>& device_ids) = 0;
  // PreferredAllocation: GetPreferredAllocation for one container: `allocation_size` IDs
  // chosen from `available` (always including `must_include`). Deterministic. Never fails
  // (kubelet fails the pod on an error): returns an empty list when it has no preference.
  virtual std::vector<std::string> PreferredAllocation(
      const std::string& resource_name, const std::vector<std::string>& available,
      const std::vector<std::string>& must_include, int32_t allocation_size) = 0;
};

}  // namespace npushare::deviceplugin
