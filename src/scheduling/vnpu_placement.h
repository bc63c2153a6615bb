// File: scheduling/vnpu_placement.h
//
// The one rule for "which hard slices (vNPUs) can share a chip", used by BOTH the
// scheduler (Fit, over the usage it reconstructs from allocation annotations) and npu-sim
// (CreateVnpu, over its simulated chips), so a placement the scheduler makes is never one
// the simulated driver refuses (issue 11, docs/compat.md deviation 7).
//
// The rule, from Huawei's virtualization documentation (ascend-abi.md §5.2-§5.3):
//   1. Budgets. The AI cores and AI CPUs of all vNPUs on a chip fit the chip's AI cores
//      and AI CPUs (each template's figures are in the driver's tables, §5.2). This is the
//      310P rule of the hiascend AVI page: a 310P3 has 8 AI cores and 7 AI CPUs, so after
//      six vir01 (6 cores, 6 CPUs) one more vir01 or one vir02_1c fits, two vir01 do not.
//   2. One template per chip on 910B and 910C. The only documentary statement on mixing
//      910B templates is the operator manual's "one card, one template (2-way or 4-way),
//      destroy all before switching"; mixing 1/2 and 1/4 slices is not documented as
//      allowed, so a chip of these families holds slices of a single template.
//   3. Split or whole, never both. Once a chip is split into vNPUs the physical device can
//      no longer be given to a container (§5.3 "General"); so a chip used whole (a
//      whole-card pod, or soft slices, which run on the physical device) takes no vNPU,
//      and a chip with vNPUs is not given whole.
//   4. At most `max_vnpus` vNPUs per chip when the caller knows such a limit (npu-sim's id
//      range); the budgets of rule 1 already imply it on every documented chip.
// Memory is not part of the rule: the driver passes memory_size 0 to firmware, which
// splits memory in proportion to the template's fraction (§5.2 "treat the MB column as
// nominal"); the scheduler accounts memory separately (CardInsufficientMemory).
//
// Usage:
//   vnpu::ChipBudget budget{.ai_core = 8, .ai_cpu = 7,
//                           .one_template = vnpu::OneTemplatePerChip("310P3")};
//   vnpu::ChipSlices chip;                        // what the chip holds now
//   if (vnpu::CanAddSlice(budget, chip, {id, 1, 1}) == vnpu::Verdict::kOk) chip.Add({id, 1, 1});
//
// Thread safety: plain values and pure functions. No dependencies beyond the standard
// library, so npu-sim's C-ABI libraries can link it.
#pragma once

#include <cstdint>
#include <string_view>

namespace npushare::vnpu {

// kMaxTemplateIds: template ids are indexes into one chip's template table, below this.
inline constexpr int32_t kMaxTemplateIds = 32;

// SliceShape: one vNPU of a template. `template_id` identifies the template within the
// caller's table for this chip (0..kMaxTemplateIds-1); the rule only compares ids.
struct SliceShape {
  int32_t template_id = 0;
  int32_t ai_core = 0;
  int32_t ai_cpu = 0;
};

// ChipBudget: what a chip offers. A 0 means "unknown, not checked" (e.g. HAMi's 910A
// config has no aiCPU); the other rules still apply.
struct ChipBudget {
  int32_t ai_core = 0;
  int32_t ai_cpu = 0;
  int32_t max_vnpus = 0;
  bool one_template = false;  // rule 2 (OneTemplatePerChip)
};

// ChipSlices: what a chip holds now. Trivially copyable (the scheduler copies it with
// every device of every candidate node).
struct ChipSlices {
  int32_t vnpus = 0;           // hard slices
  int32_t ai_core = 0;         // their AI cores
  int32_t ai_cpu = 0;          // their AI CPUs
  uint32_t template_mask = 0;  // bit i: a slice of template id i is present
  int32_t physical_users = 0;  // containers given the physical chip (whole card, soft)

  // Add / AddPhysical: record a slice / a whole-chip user (no check: callers ask first).
  void Add(const SliceShape& s);
  void AddPhysical() { ++physical_users; }
  // Merge: field-wise sum of two chips' contents (template masks are united).
  void Merge(const ChipSlices& other);
  // Max: field-wise maximum (masks united); for "one init container at a time" usage.
  void Max(const ChipSlices& other);
};

// Verdict: why a placement is refused; kOk when it is accepted.
enum class Verdict : uint8_t {
  kOk = 0,
  kChipUsedWhole,       // rule 3: a vNPU on a chip given whole
  kChipSplit,           // rule 3: the whole chip asked on a chip with vNPUs
  kTemplateMix,         // rule 2
  kTooManyVnpus,        // rule 4
  kInsufficientAiCore,  // rule 1
  kInsufficientAiCpu,   // rule 1
  kBadTemplateId,       // template_id outside 0..kMaxTemplateIds-1 (caller error)
};

// CanAddSlice: whether a vNPU of `slice` can be created on a chip holding `chip`. Checks
// run in the order of the Verdict enum; the first failing one is returned.
Verdict CanAddSlice(const ChipBudget& budget, const ChipSlices& chip, const SliceShape& slice);

// CanUseWhole: whether the physical chip can be given to one more container (whole card
// or soft slice): kOk, or kChipSplit when the chip holds vNPUs.
Verdict CanUseWhole(const ChipSlices& chip);

// OneTemplatePerChip: rule 2's chip families, from a DCMI chip name ("910B3", "Ascend910"
// = 910C), a config chipName or commonWord ("Ascend910B4-1", "Ascend910C"), or an npu-sim
// model name ("910C"): true for 910B* and 910C, false otherwise (310P, 910A).
bool OneTemplatePerChip(std::string_view chip_name);

// VerdictName: a stable CamelCase name (the scheduler's reason names use it), e.g.
// "InsufficientAiCpu"; "Ok" for kOk.
std::string_view VerdictName(Verdict v);

}  // namespace npushare::vnpu
