// File: softslice/arbiter/tenant_registry.h
//
// TenantRegistry: the soft-sliced containers on this node, found as
// `<tenants_dir>/<name>/tenant.v2` (one directory per container, bind-mounted into it as its
// NPUSHARE_VNPU_STATE_DIR). Tenant pages are written by the containers, so the arbiter never
// maps them: it reads each one with pread (a container that truncates its file cannot make
// the arbiter fault) and validates every field before use.
//
// Trust: with a shares directory (ArbiterOptions::shares_dir, written only by the node side),
// a tenant's weight and hard cap come only from `<shares_dir>/<name>.share` (share_file.h),
// re-read at every Rescan; `core_percent` and the cap flag of the tenant page are ignored, and
// a tenant without a valid share file is best effort (weight 1, not capped). Without a shares
// directory (trust mode) they come from the tenant page, which the container writes itself.
// The shares directory itself is checked at every Rescan (share_file.h: CheckShareDir); while
// it is unsafe every tenant runs best effort and unpinned (logged once per change).
//
// Chips: a device pinned by its share file (`chip=N`) is scheduled on chip N only, whatever
// the page declares; the page only tells whether the device is in use (a declared chip or
// demand). An unpinned device is scheduled on the chip its page declares: the remaining
// trust, closed by a node side that pins every device (docs/softslice.md §6).
//
// Indices: a tenant keeps its index (0..VNPU_MAX_TENANTS-1) while its page exists; the index
// is what the grant page and the schedulers use.
//
// Thread safety: not thread-safe; owned by the arbiter thread.
#pragma once

#include <stdint.h>

#include <array>
#include <string>
#include <vector>

#include "softslice/arbiter/share_file.h"
#include "softslice/shared_state.h"

namespace npushare::softslice {

// TenantSnapshot: the validated view of one tenant page at one instant.
struct TenantSnapshot {
  uint64_t tenant_id = 0;
  struct Device {
    int32_t chip = -1;        // where it is scheduled; -1: not in use (or an invalid chip id)
    uint32_t weight = 1;      // share percent clamped to 1..100 (0 = best effort = 1)
    bool demand = false;      // waiters, synchronising threads or a recent slow path
    bool hard_cap = false;    // never more than weight percent
    uint64_t overrun_ns = 0;  // cumulative, as reported
    uint64_t device_ns = 0;   // cumulative device time as reported, clamped to now_ns
  };
  std::array<Device, VNPU_MAX_DEVICES> devices;
};

class TenantRegistry {
 public:
  // `shares_dir` empty: trust mode (shares declared by the tenants).
  explicit TenantRegistry(std::string tenants_dir, std::string shares_dir = {});
  ~TenantRegistry();
  TenantRegistry(const TenantRegistry&) = delete;
  TenantRegistry& operator=(const TenantRegistry&) = delete;

  // Rescan: adopts new tenant pages with a valid header and an id not already adopted, and
  // drops tenants whose page vanished or was replaced. Appends the indices to *added/*removed.
  // Re-reads the share file of every adopted tenant (when there is a shares directory); an
  // unreadable or invalid one is logged once per change of its error code.
  void Rescan(std::vector<int32_t>* added, std::vector<int32_t>* removed);

  // Read: a validated snapshot of tenant `index` at `now_ns`; false (snapshot unspecified)
  // when the index is unused or the page is no longer valid (e.g. overwritten with garbage).
  // `demand_window_ns`: how recent a slow path counts as demand.
  bool Read(int32_t index, uint64_t now_ns, uint64_t demand_window_ns, TenantSnapshot* out) const;

  // PinnedChipsPlus1: the pins of tenant `index` as published in the grant page
  // (VnpuGrantTenant.pinned_chip_plus1): chip + 1 per device, 0 = not pinned; all 0 for an
  // unused index, in trust mode, and while the share file is missing or invalid.
  std::array<uint8_t, VNPU_MAX_DEVICES> PinnedChipsPlus1(int32_t index) const;

  // Indices: the adopted indices, ascending.
  std::vector<int32_t> Indices() const;
  uint64_t tenant_id(int32_t index) const;
  const std::string& name(int32_t index) const;

 private:
  struct Entry {
    int fd = -1;
    uint64_t tenant_id = 0;
    uint64_t inode = 0;
    std::string name;
    ShareSpec share;  // all best effort unless read successfully
    StatusCode share_code = StatusCode::kOk;
  };
  void LoadShare(Entry* e, const Status& dir_status);
  void ReloadShares();

  std::string dir_;
  std::string shares_dir_;
  StatusCode shares_dir_code_ = StatusCode::kOk;  // last CheckShareDir result (logged on change)
  std::array<Entry, VNPU_MAX_TENANTS> entries_;
};

}  // namespace npushare::softslice
