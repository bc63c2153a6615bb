// File: softslice/arbiter/node_scheduler.cc
#include "softslice/arbiter/node_scheduler.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace npushare::softslice {
namespace {

constexpr uint64_t kNoVt = std::numeric_limits<uint64_t>::max();
// Bounds one step of budget arithmetic (a suspended arbiter must not overflow an int64).
constexpr uint64_t kMaxBudgetStep = 1'000'000'000;
// Where each domain's smallest active vt is put after every call (NormaliseVts): far above any
// refund (50 ms * 100 per tick), far below overflow.
constexpr uint64_t kVtBase = uint64_t{1} << 52;

bool ValidIndex(int32_t i) {
  return i >= 0 && static_cast<uint32_t>(i) < VNPU_MAX_TENANTS;
}

uint64_t Bit(uint32_t chip) {
  return uint64_t{1} << chip;
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

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > kNoVt - b ? kNoVt : a + b;
}

// FirstChip: the lowest chip in a non-empty mask.
uint32_t FirstChip(uint64_t mask) {
  return static_cast<uint32_t>(__builtin_ctzll(mask));
}

}  // namespace

NodeScheduler::NodeScheduler(SchedulerOptions options) : options_(options) {
  owner_.fill(-1);
  domain_of_chip_.fill(-1);
}

uint64_t NodeScheduler::Advance(uint64_t now_ns, std::span<const TenantInput> tenants) {
  uint64_t elapsed = last_ns_ != 0 && now_ns > last_ns_ ? now_ns - last_ns_ : 0;
  Charge(elapsed);
  last_ns_ = std::max(last_ns_, now_ns);
  Merge(tenants, elapsed);
  ComputeDomains();
  NormaliseVts();
  return Decide(now_ns);
}

void NodeScheduler::Charge(uint64_t elapsed) {
  std::array<bool, VNPU_MAX_TENANTS> held{};
  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    int32_t o = owner_[c];
    if (ValidIndex(o)) {
      held[o] = true;
      granted_[o][c] += elapsed;
    }
  }
  // Once per tenant, however many chips it holds (header: a percent is a share of each chip).
  // vt only while it had demand (as of the previous call): an owner that keeps its chips while
  // idle because nobody else wants them (work conserving) is not using them, and charging that
  // time let a new tenant that joined next to it monopolise the chip until the idle holder's
  // vt was caught up with (measured: 4–9 % instead of 40 % in a pair's first second). A cap's
  // budget is spent either way (never more than its percent).
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    if (held[i]) {
      Tenant& t = tenants_[i];
      if (t.demand) {
        t.vt = SaturatingAdd(t.vt, Scaled(elapsed, t.weight));
      }
      t.budget -= static_cast<int64_t>(std::min<uint64_t>(elapsed, kMaxBudgetStep));
    }
  }
}

void NodeScheduler::Merge(std::span<const TenantInput> inputs, uint64_t elapsed) {
  for (Tenant& t : tenants_) {
    t.present = false;
    t.demand = false;
    t.chips = 0;
  }
  for (const TenantInput& in : inputs) {
    if (!ValidIndex(in.index) || in.chips == 0) {
      continue;
    }
    Tenant& t = tenants_[in.index];
    uint32_t weight = std::clamp<uint32_t>(in.weight, 1, 100);
    if (!t.present) {
      t.present = true;
      t.weight = weight;
      t.capped = in.hard_cap;
    } else {
      t.weight = std::min(t.weight, weight);
      t.capped = t.capped || in.hard_cap;
    }
    t.demand = t.demand || in.demand;
    t.chips |= in.chips;
  }
  // Capped tenants earn weight% of the elapsed time, up to one slice of credit.
  int64_t depth = static_cast<int64_t>(options_.slice_ns);
  for (Tenant& t : tenants_) {
    if (!t.present || !t.capped) {
      t.budget = 0;
      continue;
    }
    uint64_t earned = std::min<uint64_t>(elapsed, kMaxBudgetStep) * t.weight / 100;
    t.budget = std::clamp<int64_t>(t.budget + static_cast<int64_t>(earned), -depth, depth);
  }
}

void NodeScheduler::ComputeDomains() {
  std::array<uint32_t, VNPU_MAX_CHIPS> parent{};
  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    parent[c] = c;
  }
  auto find = [&](uint32_t c) {
    while (parent[c] != c) {
      parent[c] = parent[parent[c]];
      c = parent[c];
    }
    return c;
  };
  uint64_t used = 0;
  for (const Tenant& t : tenants_) {
    if (!t.present) {
      continue;
    }
    used |= t.chips;
    uint32_t root = find(FirstChip(t.chips));
    for (uint64_t m = t.chips; m != 0; m &= m - 1) {
      uint32_t r = find(FirstChip(m));
      if (r != root) {
        parent[r] = root;
      }
    }
  }
  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    domain_of_chip_[c] = (used & Bit(c)) != 0 ? static_cast<int32_t>(find(c)) : -1;
  }
}

void NodeScheduler::NormaliseVts() {
  // Rejoin: smallest vt of the tenants that were and still are active, per domain.
  std::array<uint64_t, VNPU_MAX_CHIPS> min_active;
  min_active.fill(kNoVt);
  for (const Tenant& t : tenants_) {
    if (t.present && t.active && t.demand) {
      uint32_t d = static_cast<uint32_t>(domain_of_chip_[FirstChip(t.chips)]);
      min_active[d] = std::min(min_active[d], t.vt);
    }
  }
  for (Tenant& t : tenants_) {
    if (!t.present) {
      t.active = false;
      continue;
    }
    uint32_t d = static_cast<uint32_t>(domain_of_chip_[FirstChip(t.chips)]);
    if (t.demand && !t.active && min_active[d] != kNoVt) {
      t.vt = std::max(t.vt, min_active[d]);
    }
    t.active = t.demand;
  }
  // Shift every domain so that its smallest active vt is kVtBase (header: why). kVtBase rather
  // than 0 so that a refund (ChargeOverrun) to the tenant at the minimum is not lost to
  // saturation. Idle tenants below it end at kVtBase, where the rejoin rule would put them.
  std::array<uint64_t, VNPU_MAX_CHIPS> min_demand;
  min_demand.fill(kNoVt);
  for (const Tenant& t : tenants_) {
    if (t.present && t.demand) {
      uint32_t d = static_cast<uint32_t>(domain_of_chip_[FirstChip(t.chips)]);
      min_demand[d] = std::min(min_demand[d], t.vt);
    }
  }
  for (Tenant& t : tenants_) {
    if (!t.present) {
      continue;  // frozen: only ever larger than its shifted value would be (a debt, not a gain)
    }
    uint64_t m = min_demand[static_cast<uint32_t>(domain_of_chip_[FirstChip(t.chips)])];
    if (m == kNoVt) {
      continue;
    }
    if (m <= kVtBase) {
      t.vt = SaturatingAdd(t.vt, kVtBase - m);
    } else {
      t.vt = t.vt > m - kVtBase ? t.vt - (m - kVtBase) : 0;
    }
    t.vt = std::max(t.vt, kVtBase);
  }
}

uint64_t NodeScheduler::Decide(uint64_t now_ns) {
  uint64_t changed = forgotten_;
  forgotten_ = 0;
  std::array<uint64_t, VNPU_MAX_TENANTS> owned{};
  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    int32_t o = owner_[c];
    if (!ValidIndex(o)) {
      continue;
    }
    if (!tenants_[o].present || (tenants_[o].chips & Bit(c)) == 0) {
      owner_[c] = -1;  // its tenant left, or no longer uses this chip
      changed |= Bit(c);
      continue;
    }
    owned[o] |= Bit(c);
  }

  std::array<int32_t, VNPU_MAX_CHIPS> next;
  next.fill(-1);
  std::array<uint64_t, VNPU_MAX_CHIPS> next_end = slice_end_;
  // Latest end of the grants kept in each domain (by representative chip), 0 = none.
  std::array<uint64_t, VNPU_MAX_CHIPS> domain_end{};
  std::array<bool, VNPU_MAX_TENANTS> keeps{};
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    const Tenant& t = tenants_[i];
    if (owned[i] == 0 || owned[i] != t.chips || !Eligible(t)) {
      continue;
    }
    uint64_t end = kNoVt;
    for (uint64_t m = owned[i]; m != 0; m &= m - 1) {
      end = std::min(end, slice_end_[FirstChip(m)]);
    }
    if (now_ns >= end) {
      continue;
    }
    keeps[i] = true;
    uint32_t d = static_cast<uint32_t>(domain_of_chip_[FirstChip(t.chips)]);
    domain_end[d] = std::max(domain_end[d], end);
    for (uint64_t m = owned[i]; m != 0; m &= m - 1) {
      next[FirstChip(m)] = static_cast<int32_t>(i);
    }
  }

  // Fill the free chips in vt order with eligible tenants whose chips are all free.
  std::vector<int32_t> order;
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    if (tenants_[i].present && !keeps[i] && Eligible(tenants_[i])) {
      order.push_back(static_cast<int32_t>(i));
    }
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return tenants_[a].vt != tenants_[b].vt ? tenants_[a].vt < tenants_[b].vt : a < b;
  });
  for (int32_t i : order) {
    const Tenant& t = tenants_[i];
    bool all_free = true;
    for (uint64_t m = t.chips; m != 0 && all_free; m &= m - 1) {
      all_free = next[FirstChip(m)] < 0;
    }
    if (!all_free) {
      continue;
    }
    uint32_t d = static_cast<uint32_t>(domain_of_chip_[FirstChip(t.chips)]);
    if (domain_end[d] == 0) {
      domain_end[d] = now_ns + options_.slice_ns;
    }
    for (uint64_t m = t.chips; m != 0; m &= m - 1) {
      next[FirstChip(m)] = i;
      next_end[FirstChip(m)] = domain_end[d];
    }
  }

  // Work conserving: an owner without demand keeps what it held while nobody took any of it.
  // A capped owner out of budget loses its chips even if they then stay idle.
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    const Tenant& t = tenants_[i];
    if (owned[i] == 0 || keeps[i] || Eligible(t) || (t.capped && t.budget <= 0)) {
      continue;
    }
    bool all_free = true;
    for (uint64_t m = owned[i]; m != 0 && all_free; m &= m - 1) {
      all_free = next[FirstChip(m)] < 0;
    }
    if (all_free) {
      for (uint64_t m = owned[i]; m != 0; m &= m - 1) {
        next[FirstChip(m)] = static_cast<int32_t>(i);
      }
    }
  }

  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    if (next[c] != owner_[c]) {
      changed |= Bit(c);
    }
    owner_[c] = next[c];
    slice_end_[c] = next_end[c];
  }
  return changed;
}

void NodeScheduler::ChargeOverrun(int32_t index, uint32_t chip, uint64_t ns) {
  if (!ValidIndex(index) || chip >= VNPU_MAX_CHIPS || ns == 0) {
    return;
  }
  Tenant& t = tenants_[index];
  t.vt = SaturatingAdd(t.vt, Scaled(ns, t.weight));
  if (t.capped) {
    t.budget -= static_cast<int64_t>(std::min<uint64_t>(ns, kMaxBudgetStep));
  }
  int32_t o = owner_[chip];
  if (ValidIndex(o) && o != index) {
    uint64_t refund = Scaled(ns, tenants_[o].weight);
    tenants_[o].vt = tenants_[o].vt > refund ? tenants_[o].vt - refund : 0;
  }
}

void NodeScheduler::Forget(int32_t index) {
  if (!ValidIndex(index)) {
    return;
  }
  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    if (owner_[c] == index) {
      owner_[c] = -1;
      forgotten_ |= Bit(c);  // reported as changed by the next Advance
    }
  }
  tenants_[index] = Tenant();
  granted_[index].fill(0);
}

int32_t NodeScheduler::owner(uint32_t chip) const {
  return chip < VNPU_MAX_CHIPS ? owner_[chip] : -1;
}

uint64_t NodeScheduler::slice_end_ns(uint32_t chip) const {
  return chip < VNPU_MAX_CHIPS ? slice_end_[chip] : 0;
}

uint64_t NodeScheduler::granted_ns(int32_t index, uint32_t chip) const {
  return ValidIndex(index) && chip < VNPU_MAX_CHIPS ? granted_[index][chip] : 0;
}

uint64_t NodeScheduler::vt(int32_t index) const {
  return ValidIndex(index) ? tenants_[index].vt : 0;
}

}  // namespace npushare::softslice
