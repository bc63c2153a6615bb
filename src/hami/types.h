// File: hami/types.h
//
// Value types of HAMi's wire protocol (hami-protocol.md §2-§3), shared by the
// codecs in this directory and by the scheduling core. Plain data, no I/O.
//
// How they relate:
//   DeviceInfo        one entry of the node annotation hami.io/node-register-<cw>
//                     (what the device plugin registers for one chip).
//   ContainerDevice   one device granted to one container: uuid,type,usedmem,usedcores.
//   PodDevices        per container (init containers first) the list of its devices;
//                     the text form is hami.io/<cw>-devices-to-allocate / -allocated.
//   RuntimeInfoEntry  one element of the pod annotation huawei.com/<cw>.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace npushare::hami {

// Annotations: an object's metadata.annotations (or labels). Transparent comparator so
// lookups by std::string_view do not allocate.
using Annotations = std::map<std::string, std::string, std::less<>>;

// Well-known annotation keys and values (hami-protocol.md §1).
inline constexpr char kNodeRegisterPrefix[] = "hami.io/node-register-";
inline constexpr char kNodeHandshakePrefix[] = "hami.io/node-handshake-";
inline constexpr char kHamiVnpuCoreNodeAnnotation[] = "hami-vnpu-core";
inline constexpr char kNodeLockAnnotation[] = "hami.io/mutex.lock";
inline constexpr char kVnpuModeAnnotation[] = "huawei.com/vnpu-mode";
inline constexpr char kVnpuModeHamiCore[] = "hami-core";
inline constexpr char kAssignedNodeAnnotation[] = "hami.io/vgpu-node";
inline constexpr char kAssignedTimeAnnotation[] = "hami.io/vgpu-time";
inline constexpr char kPredicateTimeAnnotation[] = "predicate-time";
inline constexpr char kBindTimeAnnotation[] = "hami.io/bind-time";
inline constexpr char kBindPhaseAnnotation[] = "hami.io/bind-phase";
inline constexpr char kNodeSchedulerPolicyAnnotation[] = "hami.io/node-scheduler-policy";
inline constexpr char kGpuSchedulerPolicyAnnotation[] = "hami.io/gpu-scheduler-policy";
inline constexpr char kDeviceScoringWeightsAnnotation[] = "hami.io/device-scoring-weights";
inline constexpr char kNumaBindAnnotation[] = "nvidia.com/numa-bind";

// Keys that embed the chip's commonWord.
std::string NodeRegisterKey(const std::string& cw);       // hami.io/node-register-<cw>
std::string NodeHandshakeKey(const std::string& cw);      // hami.io/node-handshake-<cw>
std::string DevicesToAllocateKey(const std::string& cw);  // hami.io/<cw>-devices-to-allocate
std::string DevicesAllocatedKey(const std::string& cw);   // hami.io/<cw>-devices-allocated
std::string RuntimeInfoKey(const std::string& cw);        // huawei.com/<cw>
std::string UseUuidKey(const std::string& cw);            // hami.io/use-<cw>-uuid
std::string NoUseUuidKey(const std::string& cw);          // hami.io/no-use-<cw>-uuid

// DeviceInfo: one registered device (JSON keys in comments).
struct DeviceInfo {
  std::string id;             // "id": die UUID
  uint32_t index = 0;         // "index": position in the plugin's filtered list
  int32_t count = 0;          // "count": max concurrent allocations (slots)
  int32_t devmem = 0;         // "devmem": MB
  int32_t devcore = 0;        // "devcore"
  std::string type;           // "type": <cw>
  int32_t numa = 0;           // "numa"
  std::string mode;           // "mode" (unused for Ascend)
  bool health = false;        // "health" (absent = false)
  std::string device_vendor;  // "devicevendor": set to <cw> by the decoder
  // "custominfo": present or not; NetworkID inside it present or not.
  bool has_custom_info = false;
  std::optional<double> network_id;
};

// ContainerDevice: one device of one container in the allocation text.
struct ContainerDevice {
  std::string uuid;
  std::string type;
  int32_t usedmem = 0;    // MB, already multiplied by memoryFactor
  int32_t usedcores = 0;  // percent

  friend bool operator==(const ContainerDevice&, const ContainerDevice&) = default;
};

using ContainerDevices = std::vector<ContainerDevice>;
// PodDevices: one entry per container, init containers first, in spec order.
using PodDevices = std::vector<ContainerDevices>;

// RuntimeInfoEntry: one element of huawei.com/<cw>. Absent fields are std::nullopt / "".
struct RuntimeInfoEntry {
  std::string uuid;               // "UUID"
  std::string temp;               // "temp": template name, legacy mode only
  std::optional<int64_t> memory;  // "memory" (MB)
  std::optional<int32_t> core;    // "core" (percent)
};

// ContainerDeviceRequest: what one container asks of one chip type (HAMi ContainerDeviceRequest).
struct ContainerDeviceRequest {
  int32_t nums = 0;
  std::string type;
  int32_t memreq = 0;              // MB
  int32_t mem_percentage_req = 0;  // 100 = whole device memory; 101 = NVIDIA "unset"
  int32_t coresreq = 0;

  friend bool operator==(const ContainerDeviceRequest&, const ContainerDeviceRequest&) = default;
};

// ScoringWeights: hami.io/device-scoring-weights (defaults 1/1/1).
struct ScoringWeights {
  int32_t slot = 1;
  int32_t core = 1;
  int32_t memory = 1;
  friend bool operator==(const ScoringWeights&, const ScoringWeights&) = default;
};

}  // namespace npushare::hami
