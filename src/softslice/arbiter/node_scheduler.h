// File: softslice/arbiter/node_scheduler.h
//
// NodeScheduler: who may launch on every chip of the node, decided from the tenants' weights,
// demand and chips. One instance schedules all chips together, so that a tenant whose devices
// sit on several chips (tensor parallel) is granted all of them at the same time ("gang").
// Pure logic over injected timestamps (no clock, no I/O), so every policy property is unit
// tested deterministically.
//
// Policy (weighted fair queuing over time slices, "stride scheduling", per scheduling domain):
//   * Every tenant has one virtual time vt. Wall time during which it holds its chips with
//     demand advances its vt by time * 100 / weight (an owner that keeps its chips while idle
//     because nobody else wants them is not charged), counted once per tenant however many
//     chips it holds: a
//     percent is a share of each of its chips, and a gang holding 2 chips for 10 ms used 10 ms
//     of its share on each. Overrun (device time run past a revoked grant) is charged the same
//     way and refunded to the owner of the chip it delayed.
//   * A tenant's inputs may come as several entries with the same index (one per logical
//     device): they are merged into weight = minimum, hard cap if any, demand if any, chips =
//     union. The minimum: a gang never runs on one chip beyond the share it has on another.
//   * Domains: the connected components of chips linked by the present tenants' chip sets
//     (union-find, recomputed every call). Tenants of different domains never compete, and
//     their vts are never compared: after every call each domain's vts are shifted so that its
//     smallest active vt is the same constant. Without that shift, two domains whose vts grew at
//     different speeds could merge (a gang appears) and a tenant with a stale low vt would
//     monopolise chips until it caught up.
//   * An owner keeps its chips while it is eligible (demand, and budget if capped) and before
//     its slice end; a gang keeps all its chips or none. Chips not kept are filled in vt order
//     (ties: lowest index) with eligible tenants whose chips are all free.
//   * Slice ends: a new grant in a domain ends with the grants still kept in that domain (the
//     latest of them), else one slice from now. So all slices of a domain end together, and at
//     every such boundary every chip of the domain is free: the tenant with the smallest vt, a
//     gang or not, gets all its chips. Staggered single-chip slices cannot starve a gang.
//   * Work conserving: an owner without demand keeps its chips while no eligible tenant wants
//     any of them (its launches stay on the fast path); it loses all of them as soon as one is
//     wanted. A chip a gang cannot use alone stays idle rather than breaking the gang.
//   * Hard cap (optional per tenant): a capped tenant earns weight% of wall time into a budget
//     (at most one slice deep) and spends held time and overrun from it; it may own chips only
//     while the budget is positive, even if they then stay idle.
//   * A tenant whose demand starts again has its vt raised to the smallest vt of its domain's
//     active tenants (the constant after the shift), so idle time cannot be banked into a monopoly
//     (CFS).
// Busy shares on a chip converge to weight_i / sum(weights) when no gang is involved; with
// gangs, each chip is shared in proportion among the tenants that can run, and a chip a gang
// cannot fill stays idle for it.
//
// Thread safety: not thread-safe; one arbiter thread owns the instance.
#pragma once

#include <stdint.h>

#include <array>
#include <span>

#include "softslice/shared_state.h"

namespace npushare::softslice {

// One entry per tenant and chip (or per tenant with several chips in `chips`).
struct TenantInput {
  int32_t index;    // tenant index, 0..VNPU_MAX_TENANTS-1
  uint32_t weight;  // 1..100 (clamped)
  bool demand;      // waiting, synchronising or launched recently
  bool hard_cap = false;
  uint64_t chips = 1;  // bit c = uses physical chip c; 0 = ignored
};

struct SchedulerOptions {
  uint64_t slice_ns = 10'000'000;
};

class NodeScheduler {
 public:
  explicit NodeScheduler(SchedulerOptions options);

  // Advance: charges the time since the previous call to the current owners, then decides the
  // owner of every chip at `now_ns`. Inputs with an index out of range or no chips are ignored;
  // a tenant absent from `tenants` loses its chips. Returns the set of chips (bit c) whose
  // owner changed (the caller publishes new grants). REQUIRES: now_ns non-decreasing.
  uint64_t Advance(uint64_t now_ns, std::span<const TenantInput> tenants);

  // ChargeOverrun: the tenant's work on `chip` ran `ns` past a revoked grant: charge it, and
  // refund the current owner of that chip, whose slice that time was taken from. Ignored for
  // bad indices or chips.
  void ChargeOverrun(int32_t index, uint32_t chip, uint64_t ns);

  // Forget: a tenant left; it loses its chips (reported as changed by the next Advance) and its
  // history.
  void Forget(int32_t index);

  // owner: tenant index owning `chip`, -1 = none (or a bad chip).
  int32_t owner(uint32_t chip) const;
  uint64_t slice_end_ns(uint32_t chip) const;
  // granted_ns: wall time `index` held `chip`, cumulative since it was last forgotten.
  uint64_t granted_ns(int32_t index, uint32_t chip) const;
  // vt: the tenant's virtual time; comparable only within its domain.
  uint64_t vt(int32_t index) const;

 private:
  struct Tenant {
    bool present = false;
    bool demand = false;
    bool active = false;  // had demand at the previous call
    bool capped = false;
    uint32_t weight = 1;
    uint64_t chips = 0;
    uint64_t vt = 0;
    int64_t budget = 0;  // capped tenants only, ns
  };
  bool Eligible(const Tenant& t) const { return t.demand && (!t.capped || t.budget > 0); }
  void Charge(uint64_t elapsed);
  void Merge(std::span<const TenantInput> inputs, uint64_t elapsed);
  // Domains: fills domain_of_chip_ (a representative chip per chip, -1 for unused chips).
  void ComputeDomains();
  void NormaliseVts();
  uint64_t Decide(uint64_t now_ns);

  SchedulerOptions options_;
  uint64_t last_ns_ = 0;
  uint64_t forgotten_ = 0;  // chips released by Forget, not yet reported by Advance
  std::array<Tenant, VNPU_MAX_TENANTS> tenants_{};
  std::array<int32_t, VNPU_MAX_CHIPS> owner_{};
  std::array<uint64_t, VNPU_MAX_CHIPS> slice_end_{};
  std::array<int32_t, VNPU_MAX_CHIPS> domain_of_chip_{};
  std::array<std::array<uint64_t, VNPU_MAX_CHIPS>, VNPU_MAX_TENANTS> granted_{};
};

}  // namespace npushare::softslice
