// File: scheduling/allocation_annotations.h
//
// The pod annotations the scheduler writes at Filter time once a node is chosen
// (hami-protocol.md §3.2-§3.4):
//   hami.io/vgpu-node                   chosen node
//   hami.io/vgpu-time                   unix seconds
// and, for every <cw> in the allocation that has at least one device entry list:
//   hami.io/<cw>-devices-to-allocate    allocation text (init containers first)
//   hami.io/<cw>-devices-allocated      identical text
//   predicate-time                      unix seconds
//   huawei.com/<cw>                     RuntimeInfo JSON: UUID, temp (hard slicing
//                                       only: TrimMemory of usedmem), memory, core
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "config/device_config.h"
#include "hami/types.h"
#include "scheduling/node_usage.h"

namespace npushare::scheduling {

// ChipAllocationAnnotations: the four per-<cw> keys for one chip (upstream PatchAnnotations).
// `devices` null means the chip is absent from the allocation: nothing is written.
hami::Annotations ChipAllocationAnnotations(const config::ChipConfig& chip, bool pod_hami_core,
                                            const hami::PodDevices* devices,
                                            int64_t now_unix_seconds);

// FilterAnnotations: everything written for a pod placed on `node` with `allocation`.
hami::Annotations FilterAnnotations(const config::DeviceConfig& config, bool pod_hami_core,
                                    const std::string& node, const PodAllocation& allocation,
                                    int64_t now_unix_seconds);

}  // namespace npushare::scheduling
