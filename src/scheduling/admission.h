// File: scheduling/admission.h
//
// Admission mutation for Ascend chips (the mutating webhook's per-container
// step, hami-protocol.md §4.1), as a pure function over PodSpec.
//
// MutateContainer(chip, container, pod), in order:
//   1. count resource absent from limits -> not ours (overwriteEnv adds
//      ASCEND_VISIBLE_DEVICES="" to the container)
//   2. 910C super-pod: count 1 -> 2, other odd counts rejected
//   3. -core without huawei.com/vnpu-mode: hami-core -> rejected
//   4. memory: validated (npushare: MB only, see below), hard slicing rounds it up
//      to a template (TrimMemory); absent memory means the whole card
//   5. several devices with a partial-card hard slice -> rejected
//   6. limits and requests get the final memory amount
//   7. runtimeClassName filled when the pod has none
//
// Deliberate deviations from upstream (docs/compat.md):
//   * memory that is clearly bytes (a binary suffix such as 16Gi, or any value
//     above 2^31-1) is rejected with "memory is in MB, e.g. 16384 for 16 GiB",
//     in both modes (upstream lets hami-core pods through and drops the request);
//   * negative and non-integral memory is rejected (upstream maps negative to the
//     smallest template and "500m" to the whole card);
//   * a count that is not a positive whole number is rejected.
//
// Thread safety: pure functions.
#pragma once

#include "common/status.h"
#include "config/device_config.h"
#include "scheduling/pod_spec.h"

namespace npushare::scheduling {

struct ContainerAdmission {
  // found: the container requests this chip (true even when `error` is set for the
  // multi-device rule, matching upstream's (found, err) pair).
  bool found = false;
  Status error;  // kInvalidArgument when the pod must be rejected
};

// MutateContainer: applies steps 1-7 to `container` (and `pod.runtime_class_name`).
// On error the container may be partly modified; callers reject the whole pod.
ContainerAdmission MutateContainer(const config::ChipConfig& chip, ContainerSpec& container,
                                   PodSpec& pod);

struct PodAdmission {
  bool found = false;  // some container requests some configured chip
  Status error;        // first error (init containers first, then containers; chips in
                       // config order), kInvalidArgument
};

// MutatePod: MutateContainer for every init container and container and every chip.
PodAdmission MutatePod(const config::DeviceConfig& config, PodSpec& pod);

}  // namespace npushare::scheduling
