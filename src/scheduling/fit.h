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
//   shared device), CardComputeUnitsExhausted, then npushare's placement rule
//   (vnpu_placement.h, a deliberate fix over upstream, docs/compat.md deviation 7):
//   CardInUseWhole, CardSplitIntoVnpus, CardVnpuTemplateMix, CardVnpuLimit,
//   CardInsufficientAiCore, CardInsufficientAiCpu.
// What a grant becomes on the chip: a hard-slicing pod whose memory rounds up to a
// template (TrimMemory, as the `temp` the device plugin reads) gets a vNPU of that
// template; a hard-slicing pod above every template and every hami-core pod use the
// physical chip.
// Afterwards 910C requests of more than one die are paired into complete modules
// (index/2), and Ascend910* nodes whose devices all carry a NetworkID pick the
// largest same-network group. A failure is summarised by GenReason.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/device_config.h"
#include "hami/types.h"
#include "scheduling/device_usage.h"
#include "scheduling/vnpu_placement.h"

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
// npushare's placement-rule reasons (vnpu_placement.h Verdict, prefixed "Card").
inline constexpr char kCardInUseWhole[] = "CardInUseWhole";
inline constexpr char kCardSplitIntoVnpus[] = "CardSplitIntoVnpus";
inline constexpr char kCardVnpuTemplateMix[] = "CardVnpuTemplateMix";
inline constexpr char kCardVnpuLimit[] = "CardVnpuLimit";
inline constexpr char kCardInsufficientAiCore[] = "CardInsufficientAiCore";
inline constexpr char kCardInsufficientAiCpu[] = "CardInsufficientAiCpu";

// The plain reason Filter gives for a node missing from the usage map (upstream's string).
inline constexpr char kNodeUnregistered[] = "node unregistered";

// FitReason: every reason Fit and Filter give, as a small index (FitReasonName spells it).
// The first fourteen are per-device reasons in Fit's check order.
enum class FitReason : uint8_t {
  kNotHealthy,
  kTypeMismatch,
  kUuidMismatch,
  kSlotsExhausted,
  kExclusiveConflict,
  kNoMemory,
  kNoCore,
  kComputeUnitsExhausted,
  kInUseWhole,
  kSplitIntoVnpus,
  kVnpuTemplateMix,
  kVnpuLimit,
  kNoAiCore,
  kNoAiCpu,
  kInsufficientRequest,
  kModeMismatch,
  kNodeNoDevice,       // plain node-level reason (no "<n>/<total>")
  kNodeNotRegistered,  // plain node-level reason
};
inline constexpr size_t kFitReasonCount = 18;

// FitReasonName: the reason's upstream spelling (the k* constants above).
std::string_view FitReasonName(FitReason r);

// FitReasonNames: the names of the reasons set in `mask` (bit i = FitReason i), sorted.
std::vector<std::string> FitReasonNames(uint32_t mask);

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
  // What the grant occupies on the chip (file comment): a vNPU of `slice` when
  // `hard_slice`, else the physical chip.
  bool hard_slice = false;
  vnpu::SliceShape slice;
};

// ChipBudgetOf: the placement-rule budget of a configured chip (aiCore, aiCPU, and the
// one-template rule from its chipName / commonWord).
vnpu::ChipBudget ChipBudgetOf(const config::ChipConfig& chip);

// SliceFor: the vNPU a hard-slicing grant of `memory_mb` becomes on `chip` (the smallest
// template holding it; id = its index in chip.templates), or nullopt when it is above every
// template (whole card).
std::optional<vnpu::SliceShape> SliceFor(const config::ChipConfig& chip, int64_t memory_mb);

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
  // ChipBudgetOf(*chip), when the caller computed it once for many nodes; nullopt lets Fit.
  std::optional<vnpu::ChipBudget> budget;
};

struct FitResult {
  bool fit = false;
  std::vector<AllocatedDevice> devices;  // in allocation order, empty when !fit
  std::string reason;                    // GenReason text, "" on success
  ReasonCounts reasons;
};

// Fit: see file comment. `devices` is the node's list after the policy sort.
FitResult Fit(const DeviceUsageList& devices, const FitInput& in);

// FitFailure: why a fit failed, without strings: a count per FitReason and the denominator
// GenReason prints ("<count>/<total>").
struct FitFailure {
  int32_t counts[kFitReasonCount] = {};
  int32_t total = 0;
  // Bit i: reason i is reported even with a zero count (upstream prints
  // "0/2 AllocatedCardsInsufficientRequest" when no 910C module could be paired).
  uint32_t zero_counts = 0;
  friend bool operator==(const FitFailure&, const FitFailure&) = default;
  // Set: reason `r` with count `n` (Add: +1).
  void Set(FitReason r, int32_t n);
  void Add(FitReason r) { Set(r, counts[static_cast<size_t>(r)] + 1); }
  // Mask: bit i set when reason i is reported (a key for grouping nodes by reason).
  uint32_t Mask() const;
  ReasonCounts ToReasonCounts() const;
  // Text: GenReason of the counts, or the plain node-level reason when one is set.
  std::string Text() const;
};

// FitInto: Fit for callers that evaluate many nodes (Filter): `devices` in policy order as
// pointers (nothing copied), the chosen devices in `picked` (cleared first; its capacity is
// reused), the reasons in `failure` (reset first). Returns whether the request fits; on
// failure `picked` is empty. Same decisions as Fit, which is written on top of it.
bool FitInto(std::span<const DeviceUsage* const> devices, const FitInput& in,
             std::vector<AllocatedDevice>& picked, FitFailure& failure);

// HasUuidRules: the pod has a use/no-use UUID list for chip `cw` (annotation present).
bool HasUuidRules(const hami::Annotations& pod_annotations, const std::string& cw);

// NodeSupportsHamiCore: the global vnpus.hamiVnpuCore, overridden by the node annotation
// hami-vnpu-core when present ("true" -> true, anything else -> false).
bool NodeSupportsHamiCore(bool global, const hami::Annotations& node_annotations);

}  // namespace npushare::scheduling
