// File: scheduling/admission.h
//
// Admission mutation for Ascend chips (the mutating webhook's per-container
// step, hami-protocol.md §4.1), as a pure function over PodSpec.
//
// MutateContainer(chip, container, pod), in order:
//   1. count resource absent from limits -> not ours (overwriteEnv adds
//      ASCEND_VISIBLE_DEVICES="" to the container)
//   2. 910C super-pod: count 1 -> 2, other odd counts rejected
//   3. -core: must be a whole percentage 0..100 (npushare); above 0 without
//      huawei.com/vnpu-mode: hami-core -> rejected
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
//   * a count that is not a positive whole number is rejected;
//   * memory 0 is rejected (upstream rounds it up to the smallest template while its
//     scheduler reads 0 as "whole card"): omit the resource to get the whole chip;
//   * memory above the chip's memoryCapacity is rejected in both modes, saying so
//     ("... is invalid: it exceeds the chip's 65536 MB"; upstream admits it for hami-core
//     pods, which then never fit);
//   * -core must be plain digits 0..100 in both modes: "-1", "abc", "101", "1e9", "500m"
//     are rejected (upstream admits them and then ignores the request, or clamps to 100,
//     or rounds 500m up to 1). 0 means best effort: no reserved compute share;
//   * a pod that requests NPUs and has more than hami::kMaxPodDevicesContainers containers
//     (init + app) is rejected: its allocation annotation could not be decoded.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>

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

// MutatePod: MutateContainer for every init container and container and every chip, then
// the pod-level container limit (see the deviations above).
PodAdmission MutatePod(const config::DeviceConfig& config, PodSpec& pod);

// PodTooManyContainersMessage: the reason given when a pod has more containers than the
// allocation annotation can carry (admission and FilterPod use the same words).
std::string PodTooManyContainersMessage(size_t containers);

}  // namespace npushare::scheduling
