// File: sim/npu/state/visibility.h
//
// Which chips a process sees, and under which numbers, from the environment the container
// runtime sets (ascend-abi.md §4.2):
//   ASCEND_VISIBLE_DEVICES     physical chip ids ("0,2", "0-3", "void"/"" = none); with
//                              ASCEND_RUNTIME_OPTIONS containing VIRTUAL they are vNPU ids.
//   ASCEND_RT_VISIBLE_DEVICES  (runtime only) indices into the list above, in the given order.
// Devices are renumbered 0..n-1 in list order, as a container's /dev/davinci* would be.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::sim {

// ParseDeviceList: "0,2,4-6" -> {0,2,4,5,6}; "" and "void" -> {}. Rejects mixed "npu-1" forms,
// negative numbers, descending ranges, duplicates, ids > 65535 and lists longer than 256.
Result<std::vector<uint32_t>> ParseDeviceList(const std::string& text);

// VisibleDevice: one device as a process sees it.
struct VisibleDevice {
  uint32_t chip;     // index into NpuSimState.chips (== phy id)
  uint32_t vnpu_id;  // 0 = the whole chip
};

// ResolveVisibleDevices: applies the environment to a node of `chip_count` chips.
// `vnpu_chip` maps a vNPU id to its chip (returns false when unknown). With
// `apply_rt_visible` the ASCEND_RT_VISIBLE_DEVICES selection is applied too.
// kInvalidArgument on malformed variables; unknown ids are dropped (the real runtime would not
// have the /dev node either).
template <typename VnpuLookup>
Result<std::vector<VisibleDevice>> ResolveVisibleDevices(uint32_t chip_count, bool apply_rt_visible,
                                                         VnpuLookup vnpu_chip);

// GetEnv: the value of `name` or "" with `*set` telling whether it was present.
std::string GetEnv(const char* name, bool* set);

}  // namespace npushare::sim

#include "state/visibility_inl.h"
