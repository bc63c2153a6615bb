#include "scheduling/vnpu_placement.h"

#include <algorithm>

namespace npushare::vnpu {

void ChipSlices::Add(const SliceShape& s) {
  ++vnpus;
  ai_core += s.ai_core;
  ai_cpu += s.ai_cpu;
  if (s.template_id >= 0 && s.template_id < kMaxTemplateIds) {
    template_mask |= 1u << s.template_id;
  }
}

void ChipSlices::Merge(const ChipSlices& other) {
  vnpus += other.vnpus;
  ai_core += other.ai_core;
  ai_cpu += other.ai_cpu;
  template_mask |= other.template_mask;
  physical_users += other.physical_users;
}

void ChipSlices::Max(const ChipSlices& other) {
  vnpus = std::max(vnpus, other.vnpus);
  ai_core = std::max(ai_core, other.ai_core);
  ai_cpu = std::max(ai_cpu, other.ai_cpu);
  template_mask |= other.template_mask;
  physical_users = std::max(physical_users, other.physical_users);
}

Verdict CanAddSlice(const ChipBudget& budget, const ChipSlices& chip, const SliceShape& slice) {
  if (slice.template_id < 0 || slice.template_id >= kMaxTemplateIds) {
    return Verdict::kBadTemplateId;
  }
  if (chip.physical_users > 0) {
    return Verdict::kChipUsedWhole;
  }
  const uint32_t bit = 1u << slice.template_id;
  if (budget.one_template && (chip.template_mask & ~bit) != 0) {
    return Verdict::kTemplateMix;
  }
  if (budget.max_vnpus > 0 && chip.vnpus >= budget.max_vnpus) {
    return Verdict::kTooManyVnpus;
  }
  // int64 sums: counts come from annotations other processes wrote.
  if (budget.ai_core > 0 &&
      int64_t{chip.ai_core} + int64_t{slice.ai_core} > int64_t{budget.ai_core}) {
    return Verdict::kInsufficientAiCore;
  }
  if (budget.ai_cpu > 0 && int64_t{chip.ai_cpu} + int64_t{slice.ai_cpu} > int64_t{budget.ai_cpu}) {
    return Verdict::kInsufficientAiCpu;
  }
  return Verdict::kOk;
}

Verdict CanUseWhole(const ChipSlices& chip) {
  return chip.vnpus > 0 ? Verdict::kChipSplit : Verdict::kOk;
}

bool OneTemplatePerChip(std::string_view name) {
  constexpr std::string_view kAscend = "Ascend";
  if (name.substr(0, kAscend.size()) == kAscend) {
    name.remove_prefix(kAscend.size());
  }
  // "Ascend910" is 910C's DCMI chip name (ascend-abi.md §1.2); 910A reports "910A".
  return name.substr(0, 4) == "910B" || name.substr(0, 4) == "910C" || name == "910";
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "Ok";
    case Verdict::kChipUsedWhole:
      return "ChipUsedWhole";
    case Verdict::kChipSplit:
      return "ChipSplitIntoVnpus";
    case Verdict::kTemplateMix:
      return "VnpuTemplateMix";
    case Verdict::kTooManyVnpus:
      return "TooManyVnpus";
    case Verdict::kInsufficientAiCore:
      return "InsufficientAiCore";
    case Verdict::kInsufficientAiCpu:
      return "InsufficientAiCpu";
    case Verdict::kBadTemplateId:
      return "BadTemplateId";
    default:
      return "Unknown";
  }
}

}  // namespace npushare::vnpu
