// File: softslice/arbiter/arbiter.cc
#include "softslice/arbiter/arbiter.h"

#include <algorithm>

namespace npushare::softslice {

Result<std::unique_ptr<Arbiter>> Arbiter::Create(ArbiterOptions options) {
  auto grants = GrantPageWriter::Open(options.grant_dir);
  if (!grants.ok()) {
    return grants.status();
  }
  return std::unique_ptr<Arbiter>(new Arbiter(std::move(options), std::move(*grants)));
}

Arbiter::Arbiter(ArbiterOptions options, std::unique_ptr<GrantPageWriter> grants)
    : options_(std::move(options)),
      grants_(std::move(grants)),
      registry_(options_.tenants_dir, options_.shares_dir),
      schedulers_(VNPU_MAX_CHIPS, ChipScheduler(SchedulerOptions{options_.slice_ns})) {}

void Arbiter::Tick(uint64_t now_ns) {
  if (now_ns >= next_rescan_ns_) {
    next_rescan_ns_ = now_ns + options_.rescan_ns;
    std::vector<int32_t> added;
    std::vector<int32_t> removed;
    registry_.Rescan(&added, &removed);
    for (int32_t i : removed) {
      for (ChipScheduler& s : schedulers_) {
        s.Forget(i);
      }
      grants_->SetTenant(static_cast<uint32_t>(i), 0);
      last_overrun_[i].fill(0);
    }
    for (int32_t i : added) {
      TenantSnapshot snap;
      if (registry_.Read(i, now_ns, options_.demand_window_ns, &snap)) {
        // Overrun reported before adoption (or before a restart) is not charged again.
        for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
          last_overrun_[i][d] = snap.devices[d].overrun_ns;
        }
      }
      grants_->SetTenant(static_cast<uint32_t>(i), registry_.tenant_id(i));
    }
  }

  std::array<std::vector<TenantInput>, VNPU_MAX_CHIPS> inputs;
  std::vector<int32_t> indices = registry_.Indices();
  for (int32_t i : indices) {
    snapshot_ok_[i] = registry_.Read(i, now_ns, options_.demand_window_ns, &snapshots_[i]);
    if (!snapshot_ok_[i]) {
      continue;  // garbage or vanished page: no demand, no charges this tick
    }
    for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
      const TenantSnapshot::Device& dev = snapshots_[i].devices[d];
      if (dev.chip < 0) {
        continue;
      }
      inputs[dev.chip].push_back({i, dev.weight, dev.demand, dev.hard_cap});
      uint64_t& last = last_overrun_[i][d];
      if (dev.overrun_ns < last) {
        last = dev.overrun_ns;  // counter reset by a recreated page: rebase
      }
      uint64_t delta = std::min(dev.overrun_ns - last, options_.max_overrun_per_tick_ns);
      last = dev.overrun_ns;
      if (delta > 0) {
        schedulers_[dev.chip].ChargeOverrun(i, delta);
        grants_->AddUsage(static_cast<uint32_t>(i), d, 0, delta);
      }
    }
  }

  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    ChipScheduler& s = schedulers_[c];
    if (inputs[c].empty() && s.owner() < 0) {
      continue;
    }
    int32_t prev = s.owner();
    uint64_t before = s.granted_ns(prev);
    bool changed = s.Advance(now_ns, inputs[c]);
    if (prev >= 0 && snapshot_ok_[prev]) {
      uint64_t delta = s.granted_ns(prev) - before;
      for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
        if (snapshots_[prev].devices[d].chip == static_cast<int32_t>(c)) {
          grants_->AddUsage(static_cast<uint32_t>(prev), d, delta, delta);
          break;
        }
      }
    }
    if (changed) {
      grants_->Grant(c, s.owner(), now_ns, s.slice_end_ns());
    }
  }
  grants_->Heartbeat(now_ns);
}

std::string Arbiter::MetricsText() const {
  std::string out;
  const VnpuGrantPage& page = grants_->page();
  for (int32_t i : registry_.Indices()) {
    if (!snapshot_ok_[i]) {
      continue;
    }
    for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
      const TenantSnapshot::Device& dev = snapshots_[i].devices[d];
      if (dev.chip < 0) {
        continue;
      }
      out += "tenant=" + registry_.name(i) + " index=" + std::to_string(i) +
             " dev=" + std::to_string(d) + " chip=" + std::to_string(dev.chip) +
             " weight=" + std::to_string(dev.weight) +
             " granted_ns=" + std::to_string(page.tenants[i].granted_ns[d]) +
             " charged_ns=" + std::to_string(page.tenants[i].charged_ns[d]) + "\n";
    }
  }
  return out;
}

}  // namespace npushare::softslice
