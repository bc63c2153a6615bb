// File: deviceplugin/devices/node_devices.h
//
// BuildNodeDevices: turns the discovered chips plus device-config.yaml and node-config.yaml
// into the NodeDevices snapshot (plugin_device.h) the rest of the plugin works from, following
// HAMi's plugin (hami-protocol.md §5.1, §7):
//   * chip model: the first chip whose DCMI chip_type is "Ascend" picks the config entry whose
//     chipName equals its chip_name exactly; chips of another name or type are left out (a
//     node runs one model; HAMi's plugin serves only one);
//   * node entry: the node-config entry named like this node, if any;
//   * filterDevices: a chip is hidden when its UUID is in `uuid` or its DCMI *card id* is in
//     `index` (upstream compares `index` with the card id, not the position; kept as is);
//   * Chip.index: the position in the filtered list (0-based, contiguous), as upstream;
//   * hamiVnpuCore: the node entry's `hami-vnpu-core` when it sets one, else the global
//     vnpus.hamiVnpuCore (npushare's loader keeps "absent" distinct from "false"; upstream
//     reads an absent key of a present entry as false);
//   * aicore: 100 on soft-slicing nodes (core shares are percent), else the config's aiCore;
//   * memory_mb: memoryAllocatable;
//   * vdevice_count: VDeviceCount below.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/device_config.h"
#include "config/node_config.h"
#include "deviceplugin/devices/discovery.h"
#include "deviceplugin/plugin_device.h"
#include "softslice/shared_state.h"

namespace npushare::deviceplugin::devices {

// kSoftSlicingVDeviceCount: slots per chip advertised on a soft-slicing (hami-vnpu-core)
// node when node-config sets no vDeviceCount. Upstream derives the count from the templates
// (memoryAllocatable / smallest template = 4 on a 910B3) on soft nodes too, so a chip takes at
// most 4 soft pods however little memory and compute they ask for (ascend-device-plugin#128).
// A soft slice has no template, so the only real limit on pods per chip is our runtime's:
// npushare-arbiter and libvnpu.so serve at most VNPU_MAX_TENANTS soft-sliced containers per
// node (src/softslice/shared_state.h), all of which may share one chip. Advertising exactly
// that many slots means the slot count binds only where the runtime itself would refuse a
// tenant; memory and cores bind first for every pod above 1/64 of a chip. A larger count
// would let the scheduler place pods the arbiter cannot adopt (they would run throttled).
inline constexpr int32_t kSoftSlicingVDeviceCount = VNPU_MAX_TENANTS;

// IsHamiVnpuCore: node entry's hami-vnpu-core when set, else the global switch.
bool IsHamiVnpuCore(const config::DeviceConfig& device_config,
                    const config::NodeConfigEntry* node_entry);

// VDeviceCount: the per-chip slot count:
//   node entry vDeviceCount > 0                   -> it (upstream's override);
//   soft-slicing node                             -> kSoftSlicingVDeviceCount;
//   no templates (or a template of 0 MB)          -> 1;
//   else                                          -> memoryAllocatable / smallest template
//                                                    memory (integer division), at least 1.
int32_t VDeviceCount(const config::ChipConfig& chip, const config::NodeConfigEntry* node_entry,
                     bool hami_vnpu_core);

// BuildNodeDevices: the snapshot for `node_name`. `node_config` may be nullptr (no file).
// Errors: kFailedPrecondition when no chip is of type "Ascend" or no config entry has the
// chip's chipName (the message names the chip). Filtering every chip away is not an error
// (the snapshot then has no chips).
Result<NodeDevices> BuildNodeDevices(const std::vector<DiscoveredChip>& chips,
                                     const config::DeviceConfig& device_config,
                                     const config::NodeConfig* node_config,
                                     const std::string& node_name);

}  // namespace npushare::deviceplugin::devices
