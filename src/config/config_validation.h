// File: config/config_validation.h
//
// Semantic validation of device and node configs (HAMi schema, hami-protocol.md §7): the
// rules that do not depend on YAML, so they apply equally to a loaded file and to a config
// built in code. Positions come from a SourceMap filled by the loader (empty map: line 0).
// Fields the decoder already rejected (SourceMap::IsInvalid) are not reported again.
//
// Every rule appends to *diags and never stops early. `field` of each diagnostic is the
// dotted schema path; the rule list with severities:
//   device config
//     error   vnpus.configs empty or absent
//     error   commonWord / resourceName / resourceMemoryName missing; memoryAllocatable /
//             memoryCapacity missing or <= 0; a template without name or memory
//     error   commonWord not usable in annotation keys (config/names.h); a resource name that
//             is not a valid extended resource name; bad template name; bad runtimeClassName
//     error   a commonWord, chipName or resource name used twice (a resource name reused
//             between roles, e.g. as one chip's memory and another's core name, included)
//     error   memoryAllocatable > memoryCapacity; template memory > memoryCapacity
//     error   negative or absurd numbers: memory above kMaxMemoryMb, aiCore/aiCPU above
//             kMaxCores, memoryFactor above kMaxMemoryFactor, anything negative
//     error   two templates of one chip with the same name
//     warning chipName missing (the device plugin matches chips by it)
//     warning two templates of one chip with the same memory (rounding picks the first)
//     warning template aiCore/aiCPU above the chip's
//     warning superPod on a chip whose commonWord is not Ascend910C (upstream ignores it)
//   node config
//     error   name missing or not a node name; a node listed twice
//     error   vDeviceCount negative or above kMaxVDeviceCount
//     error   filterDevices.index negative or above kMaxCardIndex; empty filterDevices.uuid
//     warning the same index or uuid listed twice
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "config/device_config.h"
#include "config/diagnostics.h"
#include "config/node_config.h"
#include "config/source_map.h"

namespace npushare::config {

inline constexpr int64_t kMaxMemoryMb = int64_t{1} << 24;  // 16 TiB per chip
inline constexpr int32_t kMaxCores = 1024;                 // aiCore / aiCPU
inline constexpr int32_t kMaxMemoryFactor = 1024;
inline constexpr int32_t kMaxVDeviceCount = 1024;
inline constexpr int32_t kMaxCardIndex = 65535;

// ValidateDeviceConfig: appends findings about `cfg` (see the list above).
void ValidateDeviceConfig(const DeviceConfig& cfg, const SourceMap& positions,
                          std::string_view source, Diagnostics* diags);

// ValidateNodeConfig: appends findings about `cfg` (see the list above).
void ValidateNodeConfig(const NodeConfig& cfg, const SourceMap& positions, std::string_view source,
                        Diagnostics* diags);

// CheckSoftSlicingReachable: cross-file rule for `resourceCoreName`. A -core request needs
// soft slicing (hami-vnpu-core) on the node, which is on when the node-config entry for that
// node says so, else when vnpus.hamiVnpuCore is true (hami-protocol.md §2.3). One device
// config alone cannot decide it: upstream ships resourceCoreName on 910B3/910C with the
// global switch off, expecting node-config to enable nodes. So this check runs only when the
// node config is known too, and warns (on each chip's resourceCoreName) when the global
// switch is off and no node entry turns hami-vnpu-core on: -core requests could never be
// scheduled. It is a warning, not an error, because the plugin's node config can change
// without the scheduler's device config changing.
void CheckSoftSlicingReachable(const DeviceConfig& device, const SourceMap& positions,
                               std::string_view source, const NodeConfig& nodes,
                               Diagnostics* diags);

}  // namespace npushare::config
