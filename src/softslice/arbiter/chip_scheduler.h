// File: softslice/arbiter/chip_scheduler.h
//
// ChipScheduler: who may launch on one chip, decided from the tenants' weights and demand.
// Pure logic over injected timestamps (no clock, no I/O), so every policy property is unit
// tested deterministically.
//
// Policy (weighted fair queuing over time slices, "stride scheduling"):
//   * Every tenant has a virtual time vt. Time the chip is granted to a tenant, and device time
//     its work ran past a revoked grant (overrun), advance its vt by time * 100 / weight.
//   * When the owner's slice ends or it has no demand, the tenant with demand and the smallest
//     vt becomes the owner for one slice. Ties go to the lowest index.
//   * Work conserving: with no other demand the owner keeps the chip (its slice is renewed),
//     and an owner without demand loses the chip as soon as another tenant has demand.
//   * Hard cap (optional per tenant): a capped tenant earns weight% of wall time into a budget
//     (at most one slice deep) and spends held time and overrun from it; it may own the chip
//     only while the budget is positive, even if the chip then stays idle.
//   * A tenant whose demand starts again has its vt raised to the smallest vt of the tenants
//     already active, so idle time cannot be banked into a long monopoly later (as in CFS).
// Shares of busy tenants converge to weight_i / sum(weights); the error is bounded by one
// slice per round.
//
// Thread safety: not thread-safe; one arbiter thread owns each instance.
#pragma once

#include <stdint.h>

#include <array>
#include <span>

#include "softslice/shared_state.h"

namespace npushare::softslice {

struct TenantInput {
  int32_t index;    // tenant index, 0..VNPU_MAX_TENANTS-1
  uint32_t weight;  // 1..100
  bool demand;      // waiting, synchronising or launched recently
  bool hard_cap = false;
};

struct SchedulerOptions {
  uint64_t slice_ns = 10'000'000;
};

class ChipScheduler {
 public:
  explicit ChipScheduler(SchedulerOptions options) : options_(options) {}

  // Advance: charges the time since the previous call to the current owner, then decides the
  // owner at `now_ns`. Inputs with an index out of range are ignored. Returns true when the
  // owner changed (the caller publishes a new grant). REQUIRES: now_ns non-decreasing.
  bool Advance(uint64_t now_ns, std::span<const TenantInput> tenants);

  // ChargeOverrun: the tenant's work ran `ns` past a revoked grant: charge it, and refund the
  // current owner, whose slice that time was taken from. Ignored for bad indices.
  void ChargeOverrun(int32_t index, uint64_t ns);

  // Forget: a tenant left; it loses the chip and its history.
  void Forget(int32_t index);

  int32_t owner() const { return owner_; }
  uint64_t slice_end_ns() const { return slice_end_ns_; }
  uint64_t granted_ns(int32_t index) const;
  uint64_t vt(int32_t index) const;

 private:
  uint32_t Weight(int32_t index) const { return weight_[static_cast<size_t>(index)]; }

  SchedulerOptions options_;
  int32_t owner_ = -1;
  uint64_t last_ns_ = 0;
  uint64_t slice_end_ns_ = 0;
  std::array<uint64_t, VNPU_MAX_TENANTS> vt_{};
  std::array<uint64_t, VNPU_MAX_TENANTS> granted_{};
  std::array<uint32_t, VNPU_MAX_TENANTS> weight_{};
  std::array<bool, VNPU_MAX_TENANTS> active_{};
  std::array<bool, VNPU_MAX_TENANTS> capped_{};
  std::array<int64_t, VNPU_MAX_TENANTS> budget_{};  // capped tenants only, ns
};

}  // namespace npushare::softslice
