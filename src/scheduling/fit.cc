#include "scheduling/fit.h"

#include <algorithm>
#include <iterator>
#include <optional>

#include "hami/uuid_filter.h"

namespace npushare::scheduling {
namespace {

constexpr char kAscend910Prefix[] = "Ascend910";
constexpr char kAscend910C[] = "Ascend910C";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

AllocatedDevice Accept(const DeviceUsage& d, std::string_view cw, int32_t mem, int32_t cores,
                       const std::optional<vnpu::SliceShape>& slice) {
  AllocatedDevice a;
  a.idx = d.index;
  a.uuid = d.id;
  a.type = cw;
  a.usedmem = mem;
  a.usedcores = cores;
  a.has_custom_info = d.has_custom_info;
  a.network_id = d.network_id;
  a.hard_slice = slice.has_value();
  if (slice) {
    a.slice = *slice;
  }
  return a;
}

// PairModules910C: 910C dies come in modules of two (module = index / 2); only complete
// modules are taken, the fullest first (ties: first seen in collection order), until
// `want` dies are covered.
std::vector<AllocatedDevice> PairModules910C(const std::vector<AllocatedDevice>& collected,
                                             int32_t want) {
  struct Module {
    uint32_t id;
    std::vector<const AllocatedDevice*> members;
  };
  std::vector<Module> modules;
  for (const auto& d : collected) {
    uint32_t m = d.idx / 2;
    auto it =
        std::find_if(modules.begin(), modules.end(), [m](const Module& x) { return x.id == m; });
    if (it == modules.end()) {
      modules.push_back({m, {&d}});
    } else {
      it->members.push_back(&d);
    }
  }
  std::stable_sort(modules.begin(), modules.end(), [](const Module& a, const Module& b) {
    return a.members.size() > b.members.size();
  });
  std::vector<AllocatedDevice> out;
  for (const auto& m : modules) {
    if (m.members.size() != 2) {
      continue;
    }
    if (static_cast<int32_t>(out.size()) + 2 > want) {
      break;
    }
    for (const auto* d : m.members) {
      out.push_back(*d);
    }
  }
  return out;
}

// BestNetworkCombination: groups the collected devices by the NetworkID the node registered
// for them, largest group first (ties: first seen), and takes devices group by group in
// collection order until `want` are taken. Devices without a registered NetworkID go last.
std::vector<AllocatedDevice> BestNetworkCombination(
    const std::vector<AllocatedDevice>& collected, int32_t want,
    const std::vector<hami::DeviceInfo>* node_devices) {
  struct Group {
    std::optional<double> network;
    std::vector<const AllocatedDevice*> members;
  };
  auto lookup = [&](std::string_view id) -> std::optional<double> {
    if (node_devices == nullptr) {
      return std::nullopt;
    }
    for (const auto& d : *node_devices) {
      if (d.id == id) {
        return d.network_id;
      }
    }
    return std::nullopt;
  };
  std::vector<Group> groups;
  for (const auto& d : collected) {
    std::optional<double> net = lookup(d.uuid);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const Group& g) { return g.network == net; });
    if (it == groups.end()) {
      groups.push_back({net, {&d}});
    } else {
      it->members.push_back(&d);
    }
  }
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    if (a.network.has_value() != b.network.has_value()) {
      return a.network.has_value();
    }
    return a.members.size() > b.members.size();
  });
  std::vector<AllocatedDevice> out;
  for (const auto& g : groups) {
    for (const auto* d : g.members) {
      if (static_cast<int32_t>(out.size()) == want) {
        return out;
      }
      out.push_back(*d);
    }
  }
  return out;
}

}  // namespace

vnpu::ChipBudget ChipBudgetOf(const config::ChipConfig& chip) {
  vnpu::ChipBudget b;
  b.ai_core = chip.ai_core;
  b.ai_cpu = chip.ai_cpu;
  b.one_template =
      vnpu::OneTemplatePerChip(chip.chip_name) || vnpu::OneTemplatePerChip(chip.common_word);
  return b;
}

std::optional<vnpu::SliceShape> SliceFor(const config::ChipConfig& chip, int64_t memory_mb) {
  // TrimMemory's first rule, without building the name (this runs per device in Fit).
  for (size_t i = 0; i < chip.templates.size() && i < static_cast<size_t>(vnpu::kMaxTemplateIds);
       ++i) {
    const config::VnpuTemplate& t = chip.templates[i];
    if (memory_mb <= t.memory_mb) {
      return vnpu::SliceShape{static_cast<int32_t>(i), t.ai_core, t.ai_cpu};
    }
  }
  return std::nullopt;
}

bool HasUuidRules(const hami::Annotations& pod_annotations, const std::string& cw) {
  return pod_annotations.count(hami::UseUuidKey(cw)) != 0 ||
         pod_annotations.count(hami::NoUseUuidKey(cw)) != 0;
}

std::string GenReason(const ReasonCounts& reasons, int32_t total) {
  std::vector<std::string> parts;
  parts.reserve(reasons.size());
  for (const auto& [name, n] : reasons) {
    parts.push_back(std::to_string(n) + "/" + std::to_string(total) + " " + name);
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) {
      out += ", ";
    }
    out += p;
  }
  return out;
}

bool NodeSupportsHamiCore(bool global, const hami::Annotations& node_annotations) {
  auto it = node_annotations.find(hami::kHamiVnpuCoreNodeAnnotation);
  if (it == node_annotations.end()) {
    return global;
  }
  return it->second == "true";
}

std::string_view FitReasonName(FitReason r) {
  static constexpr const char* kNames[] = {kCardNotHealth,
                                           kCardTypeMismatch,
                                           kCardUuidMismatch,
                                           kCardTimeSlicingExhausted,
                                           kExclusiveDeviceAllocateConflict,
                                           kCardInsufficientMemory,
                                           kCardInsufficientCore,
                                           kCardComputeUnitsExhausted,
                                           kCardInUseWhole,
                                           kCardSplitIntoVnpus,
                                           kCardVnpuTemplateMix,
                                           kCardVnpuLimit,
                                           kCardInsufficientAiCore,
                                           kCardInsufficientAiCpu,
                                           kAllocatedCardsInsufficientRequest,
                                           kModeNotFit,
                                           kNodeInsufficientDevice,
                                           kNodeUnregistered};
  static_assert(std::size(kNames) == kFitReasonCount);
  const auto i = static_cast<size_t>(r);
  return i < kFitReasonCount ? kNames[i] : "Unknown";
}

void FitFailure::Set(FitReason r, int32_t n) {
  const auto i = static_cast<size_t>(r);
  counts[i] = n;
  if (n == 0) {
    zero_counts |= 1u << i;
  } else {
    zero_counts &= ~(1u << i);
  }
}

uint32_t FitFailure::Mask() const {
  uint32_t m = zero_counts;
  for (size_t i = 0; i < kFitReasonCount; ++i) {
    m |= counts[i] != 0 ? 1u << i : 0u;
  }
  return m;
}

ReasonCounts FitFailure::ToReasonCounts() const {
  ReasonCounts r;
  const uint32_t mask = Mask();
  for (size_t i = 0; i < kFitReasonCount; ++i) {
    if ((mask >> i) & 1u) {
      r[std::string(FitReasonName(static_cast<FitReason>(i)))] = counts[i];
    }
  }
  return r;
}

std::string FitFailure::Text() const {
  // Node-level reasons are plain strings upstream, not "<n>/<total> X".
  for (FitReason plain : {FitReason::kNodeNotRegistered, FitReason::kNodeNoDevice}) {
    if (counts[static_cast<size_t>(plain)] != 0) {
      return std::string(FitReasonName(plain));
    }
  }
  return GenReason(ToReasonCounts(), total);
}

std::vector<std::string> FitReasonNames(uint32_t mask) {
  std::vector<std::string> names;
  for (size_t i = 0; i < kFitReasonCount; ++i) {
    if ((mask >> i) & 1u) {
      names.emplace_back(FitReasonName(static_cast<FitReason>(i)));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

FitReason ReasonOf(vnpu::Verdict v) {
  switch (v) {
    case vnpu::Verdict::kChipUsedWhole:
      return FitReason::kInUseWhole;
    case vnpu::Verdict::kChipSplit:
      return FitReason::kSplitIntoVnpus;
    case vnpu::Verdict::kTemplateMix:
      return FitReason::kVnpuTemplateMix;
    case vnpu::Verdict::kInsufficientAiCore:
      return FitReason::kNoAiCore;
    case vnpu::Verdict::kInsufficientAiCpu:
      return FitReason::kNoAiCpu;
    case vnpu::Verdict::kTooManyVnpus:
    default:
      return FitReason::kVnpuLimit;
  }
}

}  // namespace

bool FitInto(std::span<const DeviceUsage* const> devices, const FitInput& in,
             std::vector<AllocatedDevice>& picked, FitFailure& failure) {
  const config::ChipConfig& chip = *in.chip;
  picked.clear();
  failure = FitFailure{};
  const int32_t total = static_cast<int32_t>(devices.size());
  failure.total = total;
  auto count = [&](FitReason r) { failure.Add(r); };
  if (in.pod_hami_core && !in.node_supports_hami_core) {
    count(FitReason::kModeMismatch);  // "1/<n>" whatever the device count, as upstream
    return false;
  }

  const bool need_topology = StartsWith(chip.common_word, kAscend910Prefix) &&
                             std::all_of(devices.begin(), devices.end(), [](const DeviceUsage* d) {
                               return d->network_id.has_value();
                             });
  const int32_t original = in.request.nums;
  const bool pair_910c = chip.common_word == kAscend910C && original > 1;
  // With topology grouping a one-device request takes the first device collected, so
  // stopping there decides the same (and a failure has scanned every device either way).
  const bool count_down = (!need_topology || original == 1) && !pair_910c;

  int32_t remaining = original;
  int32_t coresreq = in.request.coresreq;
  // Decided once per call, not per device: CheckUuid only matters when the pod has a
  // use/no-use list for this chip.
  const bool uuid_rules = in.uuid_rules.has_value()
                              ? *in.uuid_rules
                              : HasUuidRules(*in.pod_annotations, chip.common_word);
  // Upstream compares the request with the backend's commonWord, not with the device.
  const bool type_matches = in.request.type == chip.common_word;
  // Placement rule (vnpu_placement.h). A soft slice runs on the physical chip; a hard one
  // becomes the template its memory rounds up to. The amount is the same on every device
  // unless the request is a percentage of each device's memory.
  const vnpu::ChipBudget budget = in.budget ? *in.budget : ChipBudgetOf(chip);
  std::optional<vnpu::SliceShape> fixed_slice;
  if (!in.pod_hami_core && in.request.memreq > 0) {
    fixed_slice = SliceFor(chip, in.request.memreq);
  }

  for (auto it = devices.rbegin(); it != devices.rend(); ++it) {
    const DeviceUsage& d = **it;
    if (!d.health) {
      count(FitReason::kNotHealthy);
      continue;
    }
    if (!type_matches) {
      count(FitReason::kTypeMismatch);
      continue;
    }
    if (uuid_rules && !hami::CheckUuid(*in.pod_annotations, chip.common_word, d.id)) {
      count(FitReason::kUuidMismatch);
      continue;
    }
    if (d.count <= d.used) {
      count(FitReason::kSlotsExhausted);
      continue;
    }
    if (in.mutex_policy && d.used > 0) {
      count(FitReason::kExclusiveConflict);
      continue;
    }
    if (coresreq > 100) {
      coresreq = 100;  // persists for later devices, as upstream
    }
    int64_t memreq = 0;
    if (in.request.memreq > 0) {
      memreq = in.request.memreq;
    } else if (in.request.mem_percentage_req != 101) {
      memreq = d.totalmem * in.request.mem_percentage_req / 100;
    }
    if (d.totalmem - d.usedmem < memreq) {
      count(FitReason::kNoMemory);
      continue;
    }
    const int32_t eff_total = in.pod_hami_core ? 100 : d.totalcore;
    if (eff_total - d.usedcores < coresreq) {
      count(FitReason::kNoCore);
      continue;
    }
    if (eff_total == 100 && coresreq == 100 && d.used > 0) {
      count(FitReason::kExclusiveConflict);
      continue;
    }
    if (eff_total != 0 && d.usedcores == eff_total && coresreq == 0) {
      count(FitReason::kComputeUnitsExhausted);
      continue;
    }
    std::optional<vnpu::SliceShape> slice = fixed_slice;
    if (!in.pod_hami_core && in.request.memreq <= 0) {
      slice = SliceFor(chip, memreq);
    }
    const vnpu::Verdict verdict =
        slice ? vnpu::CanAddSlice(budget, d.slices, *slice) : vnpu::CanUseWhole(d.slices);
    if (verdict != vnpu::Verdict::kOk) {
      count(ReasonOf(verdict));
      continue;
    }
    picked.push_back(Accept(d, chip.common_word, static_cast<int32_t>(memreq), coresreq, slice));
    if (count_down) {
      if (--remaining == 0) {
        return true;
      }
    }
  }

  auto insufficient = [&](size_t got, int32_t denominator) {
    failure.Set(FitReason::kInsufficientRequest, static_cast<int32_t>(got));
    failure.total = denominator;
    picked.clear();
    return false;
  };
  if (pair_910c) {
    std::vector<AllocatedDevice> best = PairModules910C(picked, original);
    if (static_cast<int32_t>(best.size()) != original) {
      return insufficient(best.size(), original);
    }
    picked = std::move(best);
    return true;
  }
  if (need_topology) {
    const auto n = static_cast<int32_t>(picked.size());
    if (n == original) {
      return true;
    }
    if (n > original) {
      if (original == 1) {
        picked.resize(1);
        return true;
      }
      picked = BestNetworkCombination(picked, original, in.node_devices);
      return true;
    }
  }
  if (!picked.empty()) {
    return insufficient(picked.size(), total);
  }
  return false;
}

FitResult Fit(const DeviceUsageList& devices, const FitInput& in) {
  std::vector<const DeviceUsage*> order;
  order.reserve(devices.size());
  for (const auto& d : devices) {
    order.push_back(&d);
  }
  FitResult r;
  FitFailure failure;
  r.fit = FitInto(order, in, r.devices, failure);
  if (!r.fit) {
    r.devices.clear();
    r.reasons = failure.ToReasonCounts();
    r.reason = GenReason(r.reasons, failure.total);
  }
  return r;
}

}  // namespace npushare::scheduling
