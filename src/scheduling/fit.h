// File: scheduling/fit.h
//
// Ascend Fit: chooses devices on one node for one container's request of one
// chip type (hami-protocol.md §4.3). The device list arrives already sorted by
// the device policy; Fit scans it from the LAST element to the first, so the
// preferred device sits at the end.
//
// Per device, the first failing check names the reason (in this order):
//   CardNotHealth, CardTypeMismatch, CardUuidMismatch, CardTimeSlicingExhausted,
//   ExclusiveDeviceAllocateConflict (mutex policy), CardInsufficientMemory,
//   CardInsufficientCore, ExclusiveDeviceAllocateConflict (whole-core request on a
//   shared device), CardComputeUnitsExhausted.
// Afterwards 910C requests of more than one die are paired into complete modules
// (index/2), and Ascend910* nodes whose devices all carry a NetworkID pick the
// largest same-network group. A failure is summarised by GenReason.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/device_config.h"
#include "hami/types.h"
#include "scheduling/device_usage.h"

namespace npushare::scheduling {

// Reason names, exactly as upstream spells them.
inline constexpr char kCardNotHealth[] = "CardNotHealth";
inline constexpr char kCardTypeMismatch[] = "CardTypeMismatch";
inline constexpr char kCardUuidMismatch[] = "CardUuidMismatch";
inline constexpr char kCardTimeSlicingExhausted[] = "CardTimeSlicingExhausted";
inline constexpr char kExclusiveDeviceAllocateConflict[] = "ExclusiveDeviceAllocateConflict";
inline constexpr char kCardInsufficientMemory[] = "CardInsufficientMemory";
inline constexpr char kCardInsufficientCore[] = "CardInsufficientCore";
inline constexpr char kCardComputeUnitsExhausted[] = "CardComputeUnitsExhausted";
inline constexpr char kAllocatedCardsInsufficientRequest[] = "AllocatedCardsInsufficientRequest";
inline constexpr char kModeNotFit[] = "ModeNotFit";
inline constexpr char kNodeInsufficientDevice[] = "NodeInsufficientDevice";

// ReasonCounts: reason -> number of devices (or units) it applies to.
using ReasonCounts = std::map<std::string, int32_t, std::less<>>;

// GenReason: "<n>/<total> <Reason>" per entry, sorted lexicographically as strings, joined
// with ", " (so "10/16 X" sorts before "2/16 Y", as upstream). Empty map -> "".
std::string GenReason(const ReasonCounts& reasons, int32_t total);

// AllocatedDevice: one device Fit picked (upstream ContainerDevice plus Idx).
// `uuid` views the DeviceUsage's id, `type` the chip's commonWord (same lifetimes).
struct AllocatedDevice {
  uint32_t idx = 0;
  std::string_view uuid;
  std::string_view type;
  int32_t usedmem = 0;
  int32_t usedcores = 0;
  // Copied from the device, for the topology score.
  bool has_custom_info = false;
  std::optional<double> network_id;
};

struct FitInput {
  const config::ChipConfig* chip = nullptr;  // REQUIRES: non-null
  hami::ContainerDeviceRequest request;
  const hami::Annotations* pod_annotations = nullptr;  // REQUIRES: non-null
  bool pod_hami_core = false;
  bool node_supports_hami_core = false;  // NodeSupportsHamiCore()
  bool mutex_policy = false;             // device policy contains "mutex"
  // Whether the pod carries hami.io/use-<cw>-uuid or no-use-<cw>-uuid. Callers that place
  // one pod on many nodes compute it once; nullopt lets Fit look it up.
  std::optional<bool> uuid_rules;
  // Registered devices of the node (for the NetworkID lookup of topology grouping).
  const std::vector<hami::DeviceInfo>* node_devices = nullptr;  // may be null
};

struct FitResult {
  bool fit = false;
  std::vector<AllocatedDevice> devices;  // in allocation order, empty when !fit
  std::string reason;                    // GenReason text, "" on success
  ReasonCounts reasons;
};

// Fit: see file comment. `devices` is the node's list after the policy sort.
FitResult Fit(const DeviceUsageList& devices, const FitInput& in);

// HasUuidRules: the pod has a use/no-use UUID list for chip `cw` (annotation present).
bool HasUuidRules(const hami::Annotations& pod_annotations, const std::string& cw);

// NodeSupportsHamiCore: the global vnpus.hamiVnpuCore, overridden by the node annotation
// hami-vnpu-core when present ("true" -> true, anything else -> false).
bool NodeSupportsHamiCore(bool global, const hami::Annotations& node_annotations);

}  // namespace npushare::scheduling
