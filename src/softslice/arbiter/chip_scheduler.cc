// File: softslice/arbiter/chip_scheduler.cc
#include "softslice/arbiter/chip_scheduler.h"

#include <algorithm>
#include <limits>

namespace npushare::softslice {
namespace {

constexpr uint64_t kNoVt = std::numeric_limits<uint64_t>::max();
// Bounds one step of budget arithmetic (a suspended arbiter must not overflow an int64).
constexpr uint64_t kMaxBudgetStep = 1'000'000'000;

bool ValidIndex(int32_t i) {
  return i >= 0 && static_cast<uint32_t>(i) < VNPU_MAX_TENANTS;
}

// Scaled: time * 100 / weight, saturating (weights are 1..100).
uint64_t Scaled(uint64_t ns, uint32_t weight) {
  if (weight == 0) {
    weight = 1;
  }
  if (ns > std::numeric_limits<uint64_t>::max() / 100) {
    return std::numeric_limits<uint64_t>::max() / weight;
  }
  return ns * 100 / weight;
}

}  // namespace

bool ChipScheduler::Advance(uint64_t now_ns, std::span<const TenantInput> tenants) {
  uint64_t elapsed = last_ns_ != 0 && now_ns > last_ns_ ? now_ns - last_ns_ : 0;
  if (ValidIndex(owner_)) {
    vt_[owner_] += Scaled(elapsed, Weight(owner_));
    granted_[owner_] += elapsed;
    budget_[owner_] -= static_cast<int64_t>(std::min<uint64_t>(elapsed, kMaxBudgetStep));
  }
  last_ns_ = std::max(last_ns_, now_ns);

  std::array<bool, VNPU_MAX_TENANTS> demand{};
  std::array<bool, VNPU_MAX_TENANTS> present{};
  for (const TenantInput& t : tenants) {
    if (!ValidIndex(t.index)) {
      continue;
    }
    present[t.index] = true;
    weight_[t.index] = std::clamp<uint32_t>(t.weight, 1, 100);
    demand[t.index] = demand[t.index] || t.demand;
    capped_[t.index] = t.hard_cap;
  }
  // Capped tenants earn weight% of the elapsed time, up to one slice of credit.
  int64_t depth = static_cast<int64_t>(options_.slice_ns);
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    if (!present[i] || !capped_[i]) {
      budget_[i] = 0;
      continue;
    }
    uint64_t earned = std::min<uint64_t>(elapsed, kMaxBudgetStep) * weight_[i] / 100;
    budget_[i] = std::clamp<int64_t>(budget_[i] + static_cast<int64_t>(earned), -depth, depth);
  }
  auto eligible = [&](int32_t i) { return demand[i] && (!capped_[i] || budget_[i] > 0); };
  // Tenants (re)joining the active set start at the smallest active vt.
  uint64_t min_active = kNoVt;
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    if (active_[i] && demand[i]) {
      min_active = std::min(min_active, vt_[i]);
    }
  }
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    if (demand[i] && !active_[i] && min_active != kNoVt) {
      vt_[i] = std::max(vt_[i], min_active);
    }
    active_[i] = demand[i];
  }
  if (ValidIndex(owner_) && !present[owner_]) {
    owner_ = -1;  // its tenant left
  }

  bool owner_keeps = ValidIndex(owner_) && eligible(owner_) && now_ns < slice_end_ns_;
  if (owner_keeps) {
    return false;
  }
  int32_t best = -1;
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    if (eligible(static_cast<int32_t>(i)) && (best < 0 || vt_[i] < vt_[best])) {
      best = static_cast<int32_t>(i);
    }
  }
  if (best < 0) {
    if (ValidIndex(owner_) && capped_[owner_] && budget_[owner_] <= 0) {
      owner_ = -1;  // a capped owner out of budget loses the chip even if it stays idle
      return true;
    }
    // Nobody else wants the chip: the owner keeps it (its launches stay on the fast path).
    return false;
  }
  slice_end_ns_ = now_ns + options_.slice_ns;
  if (best == owner_) {
    return false;
  }
  owner_ = best;
  return true;
}

void ChipScheduler::ChargeOverrun(int32_t index, uint64_t ns) {
  if (!ValidIndex(index) || ns == 0) {
    return;
  }
  vt_[index] += Scaled(ns, Weight(index));
  if (capped_[index]) {
    budget_[index] -= static_cast<int64_t>(std::min<uint64_t>(ns, kMaxBudgetStep));
  }
  if (ValidIndex(owner_) && owner_ != index) {
    uint64_t refund = Scaled(ns, Weight(owner_));
    vt_[owner_] = vt_[owner_] > refund ? vt_[owner_] - refund : 0;
  }
}

void ChipScheduler::Forget(int32_t index) {
  if (!ValidIndex(index)) {
    return;
  }
  if (owner_ == index) {
    owner_ = -1;
  }
  vt_[index] = 0;
  granted_[index] = 0;
  active_[index] = false;
  capped_[index] = false;
  budget_[index] = 0;
}

uint64_t ChipScheduler::granted_ns(int32_t index) const {
  return ValidIndex(index) ? granted_[index] : 0;
}

uint64_t ChipScheduler::vt(int32_t index) const {
  return ValidIndex(index) ? vt_[index] : 0;
}

}  // namespace npushare::softslice
