// File: deviceplugin/allocate/container_plan.h
//
// PlanContainer: the pure core of one kubelet ContainerAllocateRequest (hami-protocol.md §5.3
// steps 2-4): from the located pod's annotations and this node's chips, which container is
// being allocated, its devices with their physical ids and RuntimeInfo, and the
// `-devices-to-allocate` text that remains. No I/O.
//
// Check order and errors (kInvalidArgument unless noted; upstream's texts where the compat
// vectors pin them):
//   1. `huawei.com/<cw>` absent -> "build runtimeInfo lookup: annotation huawei.com/<cw> not
//      set"; malformed -> its decode error.
//   2. `hami.io/<cw>-devices-to-allocate` absent -> "device <cw> not found in pod
//      annotations"; malformed -> its decode error.
//   3. no non-empty entry -> kNotFound "no pending device allocation found".
//   4. entry index beyond the pod's containers (init + regular) -> error naming the index.
//   5. entry size != kubelet's ID count -> "device number not matched: annotation has X,
//      request has Y".
//   6. a device UUID that is not a chip of this node -> "build container allocate response:
//      unknown uuid: <uuid>".
//   7. a kubelet ID that this plugin does not advertise (ResolveKubeletIds).
//
// RuntimeInfo per container (fix of upstream bug §9.10): the scheduler writes one RuntimeInfo
// element per allocated device, flattened over containers in the order of
// `hami.io/<cw>-devices-allocated` (which nobody modifies after Filter). When that annotation
// decodes, its flattened UUIDs equal the RuntimeInfo UUIDs element by element, and its entry
// at the popped index lists the popped devices, the popped container's elements are taken by
// position: two containers on one chip keep their own template/memory. Otherwise the lookup is
// by UUID with the last element winning, as upstream.
//
// ResolveKubeletIds: kubelet's IDs must be ones this plugin advertises, "<uuid>-<k>" with
// <uuid> a chip of this node and 0 <= k < vdevice_count; anything else is kInvalidArgument.
// Which chips kubelet picked does not decide anything (HAMi semantics: the annotation does);
// a difference is reported in ContainerPlan::kubelet_chips_differ for logging.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "deviceplugin/plugin_device.h"
#include "hami/types.h"
#include "kube/objects.h"

namespace npushare::deviceplugin::allocate {

// PlannedDevice: one device of the container being allocated.
struct PlannedDevice {
  hami::ContainerDevice device;                   // from -devices-to-allocate
  int32_t phys_id = -1;                           // the chip's physical id
  std::optional<hami::RuntimeInfoEntry> runtime;  // its huawei.com/<cw> element, if any
};

// ContainerPlan: what one Allocate call does.
struct ContainerPlan {
  size_t container_index = 0;  // in the annotation (init containers first)
  std::string container_name;
  bool init_container = false;
  std::vector<PlannedDevice> devices;
  std::string remaining_text;  // -devices-to-allocate after this container (upstream encoding)
  bool last = false;           // no container of this chip type is left to allocate
  bool per_container_runtime_info = false;  // RuntimeInfo matched by position
  bool kubelet_chips_differ = false;        // kubelet picked other chips than the annotation
};

// ResolveKubeletIds: the chip UUID of each kubelet ID (see the file comment).
Result<std::vector<std::string>> ResolveKubeletIds(const NodeDevices& devices,
                                                   const std::vector<std::string>& ids);

// PlanContainer: see the file comment. `kubelet_ids` are kubelet's IDs for this container.
Result<ContainerPlan> PlanContainer(const kube::PodView& pod, const NodeDevices& devices,
                                    const std::vector<std::string>& kubelet_ids);

}  // namespace npushare::deviceplugin::allocate
