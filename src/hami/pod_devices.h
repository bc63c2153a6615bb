// File: hami/pod_devices.h
//
// The allocation text of hami.io/<cw>-devices-to-allocate and -devices-allocated
// (hami-protocol.md §3.3):
//
//   annotation = *( container ";" )     one entry per container, init containers first
//   container  = *( device ":" )
//   device     = uuid "," type "," usedmem "," usedcores    (decimal int32s)
//
// ':' and ';' are terminators, so the decoder's split keeps a trailing empty piece:
// decode("U,T,1,2:;") has two containers, the second empty. Encoding what was
// decoded therefore adds one ';' each round; upstream relies on this being harmless.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "hami/types.h"

namespace npushare::hami {

// Limits applied by DecodePodDevices (upstream has none; a pod cannot legitimately
// come near them).
inline constexpr size_t kMaxPodDevicesTextBytes = 1 << 20;
inline constexpr size_t kMaxPodDevicesContainers = 1024;
inline constexpr size_t kMaxDevicesPerContainer = 1024;

// EncodeContainerDevices: "uuid,type,mem,cores:" per device, concatenated.
std::string EncodeContainerDevices(const ContainerDevices& devices);
// EncodePodDevices: EncodeContainerDevices(c) + ";" per container; "" for no containers.
std::string EncodePodDevices(const PodDevices& pod);

// DecodeContainerDevices: one container piece. Split on ':'; pieces without ',' are
// skipped; a piece with fewer than 4 ','-fields fails with "pod annotation format
// error, missing fields, do not use nodeName in task spec"; fields 3 and 4 must be
// base-10 int32 ("invalid memory field" / "invalid core field"); extra fields are
// ignored. More than kMaxDevicesPerContainer devices fails. All errors kInvalidArgument.
Result<ContainerDevices> DecodeContainerDevices(std::string_view piece);

// DecodePodDevices: split on ';' keeping empty pieces (so "" -> one empty container),
// each piece decoded as above. Fails (kInvalidArgument) on the first bad piece, on text
// longer than kMaxPodDevicesTextBytes or on more than kMaxPodDevicesContainers pieces.
// The upstream error texts above are part of the wire contract.
Result<PodDevices> DecodePodDevices(std::string_view text);

// PoppedContainer: what the device plugin takes for one kubelet Allocate request.
struct PoppedContainer {
  size_t container_index = 0;  // position in the annotation (init containers first)
  ContainerDevices devices;
};

// PopFirstNonEmptyContainer: finds the first container entry with devices, blanks it in
// `pod` and returns it. kNotFound "no pending device allocation found" when every entry
// is empty (the plugin's Allocate error text); `pod` is unchanged then.
Result<PoppedContainer> PopFirstNonEmptyContainer(PodDevices& pod);

}  // namespace npushare::hami
