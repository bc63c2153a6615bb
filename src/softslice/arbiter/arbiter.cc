// File: softslice/arbiter/arbiter.cc
#include "softslice/arbiter/arbiter.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs_error.h"

namespace npushare::softslice {

Status CheckTenantsDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    const int err = errno;
    return FileSystemError(err, "mkdir " + dir);
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    const int err = errno;
    return FileSystemError(err, "stat " + dir);
  }
  if (!S_ISDIR(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
      (st.st_uid != geteuid() && st.st_uid != 0)) {
    return FailedPreconditionError("--tenants-dir " + dir +
                                   " must be a directory owned by us or root and not "
                                   "group/world-writable");
  }
  return OkStatus();
}

Result<std::unique_ptr<Arbiter>> Arbiter::Create(ArbiterOptions options) {
  if (Status dir = CheckTenantsDir(options.tenants_dir); !dir.ok()) {
    return dir;
  }
  if (!options.shares_dir.empty()) {
    Status dir = CheckShareDir(options.shares_dir);
    if (!dir.ok()) {
      return dir;
    }
  }
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
      scheduler_(SchedulerOptions{options_.slice_ns}) {}

void Arbiter::RepairGrantPage(uint64_t now_ns, bool check_file) {
  std::string damage = grants_->Damage(check_file);
  if (damage.empty() || now_ns < next_rebuild_ns_) {
    return;
  }
  if (rebuild_error_.empty()) {
    fprintf(stderr, "npushare-arbiter: grant page %s %s; rebuilding it\n", grants_->path().c_str(),
            damage.c_str());
  }
  auto fresh = GrantPageWriter::Open(options_.grant_dir);
  if (!fresh.ok()) {
    std::string error = fresh.status().ToString();
    if (error != rebuild_error_) {
      fprintf(stderr, "npushare-arbiter: cannot rebuild the grant page (retrying): %s\n",
              error.c_str());
      rebuild_error_ = error;
    }
    next_rebuild_ns_ = now_ns + options_.rescan_ns;
    return;
  }
  rebuild_error_.clear();
  grants_ = std::move(*fresh);
  ++rebuilds_;
  // As after a restart: every owner is gone from the new page, so the scheduler forgets who
  // held what, and the tenants reappear with their pins and ids.
  for (int32_t i : registry_.Indices()) {
    scheduler_.Forget(i);
    grants_->SetPins(static_cast<uint32_t>(i), registry_.PinnedChipsPlus1(i));
    grants_->SetTenant(static_cast<uint32_t>(i), registry_.tenant_id(i));
  }
  fprintf(stderr, "npushare-arbiter: grant page %s rebuilt\n", grants_->path().c_str());
}

void Arbiter::Tick(uint64_t now_ns) {
  bool rescan = now_ns >= next_rescan_ns_;
  RepairGrantPage(now_ns, rescan);
  if (rescan) {
    next_rescan_ns_ = now_ns + options_.rescan_ns;
    std::vector<int32_t> added;
    std::vector<int32_t> removed;
    Status dir = CheckTenantsDir(options_.tenants_dir);
    std::string dir_error = dir.ok() ? "" : dir.ToString();
    if (dir_error != tenants_dir_error_ && !dir.ok()) {
      fprintf(stderr, "npushare-arbiter: adopting no new tenants: %s\n", dir_error.c_str());
    }
    tenants_dir_error_ = dir_error;
    if (dir.ok()) {
      registry_.Rescan(&added, &removed);
    }
    for (int32_t i : removed) {
      scheduler_.Forget(i);
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
    }
    // Pins of every tenant (share files were just re-read), before new tenants' ids appear.
    for (int32_t i : registry_.Indices()) {
      grants_->SetPins(static_cast<uint32_t>(i), registry_.PinnedChipsPlus1(i));
    }
    for (int32_t i : added) {
      grants_->SetTenant(static_cast<uint32_t>(i), registry_.tenant_id(i));
    }
  }

  std::vector<TenantInput> inputs;
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
      uint32_t chip = static_cast<uint32_t>(dev.chip);
      inputs.push_back({i, dev.weight, dev.demand, dev.hard_cap, uint64_t{1} << chip});
      uint64_t& last = last_overrun_[i][d];
      if (dev.overrun_ns < last) {
        last = dev.overrun_ns;  // counter reset by a recreated page: rebase
      }
      uint64_t delta = std::min(dev.overrun_ns - last, options_.max_overrun_per_tick_ns);
      last = dev.overrun_ns;
      if (delta > 0) {
        scheduler_.ChargeOverrun(i, chip, delta);
        grants_->AddUsage(static_cast<uint32_t>(i), d, 0, delta);
      }
    }
  }

  std::array<int32_t, VNPU_MAX_CHIPS> prev;
  std::array<uint64_t, VNPU_MAX_CHIPS> before;
  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    prev[c] = scheduler_.owner(c);
    before[c] = scheduler_.granted_ns(prev[c], c);
  }
  uint64_t changed = scheduler_.Advance(now_ns, inputs);
  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    int32_t p = prev[c];
    if (p < 0 || !snapshot_ok_[p]) {
      continue;
    }
    uint64_t delta = scheduler_.granted_ns(p, c) - before[c];
    for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
      if (snapshots_[p].devices[d].chip == static_cast<int32_t>(c)) {
        grants_->AddUsage(static_cast<uint32_t>(p), d, delta, delta);
        break;
      }
    }
  }
  // All grant words first, then the wake-ups (GrantPageWriter::PublishGrant).
  for (uint64_t m = changed; m != 0; m &= m - 1) {
    uint32_t c = static_cast<uint32_t>(__builtin_ctzll(m));
    grants_->PublishGrant(c, scheduler_.owner(c), now_ns, scheduler_.slice_end_ns(c));
  }
  for (uint64_t m = changed; m != 0; m &= m - 1) {
    grants_->Wake(static_cast<uint32_t>(__builtin_ctzll(m)));
  }
  // An owner chosen again at its slice end keeps its grant (no new epoch): only the end moves.
  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    if ((changed & (uint64_t{1} << c)) == 0 && scheduler_.owner(c) >= 0) {
      grants_->ExtendSlice(c, scheduler_.slice_end_ns(c));
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
             " charged_ns=" + std::to_string(page.tenants[i].charged_ns[d]) +
             " device_ns=" + std::to_string(dev.device_ns) + "\n";
    }
  }
  return out;
}

}  // namespace npushare::softslice
