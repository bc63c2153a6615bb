// File: softslice/arbiter/arbiter.h
//
// Arbiter: one tick of npushare-arbiter. Reads every tenant's demand, advances the node's
// scheduler (all chips together, so multi-chip tenants are gang-scheduled), publishes grant
// changes, tenant ids, node-pinned chips and the heartbeat in the grant page, and produces the
// metrics text. The daemon (main.cc) calls Tick once per tick period; tests call it
// with chosen timestamps.
//
// Restart: nothing authoritative lives only in this object. A new arbiter reuses the grant
// page, re-adopts the tenants from their pages, and starts every tenant at vt 0.
//
// Thread safety: not thread-safe; one thread.
#pragma once

#include <stdint.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "softslice/arbiter/grant_page_writer.h"
#include "softslice/arbiter/node_scheduler.h"
#include "softslice/arbiter/tenant_registry.h"

namespace npushare::softslice {

struct ArbiterOptions {
  std::string grant_dir;    // holds grants.v2 (mounted read-only into containers)
  std::string tenants_dir;  // holds one directory per soft-sliced container
  // Holds `<tenant dir name>.share` (share_file.h), written only by the node side. Empty: trust
  // mode, where weights and caps come from the tenant pages that the containers write.
  std::string shares_dir;
  uint64_t slice_ns = 10'000'000;
  uint64_t demand_window_ns = 1'000'000;          // a slow path this recent counts as demand
  uint64_t rescan_ns = 20'000'000;                // how often new/removed tenants are noticed
  uint64_t max_overrun_per_tick_ns = 50'000'000;  // clamp on reported overrun
};

class Arbiter {
 public:
  // Create: checks the tenants directory (CheckTenantsDir) and the shares directory if there
  // is one (CheckShareDir errors) and opens the grant page (see GrantPageWriter::Open for
  // errors).
  static Result<std::unique_ptr<Arbiter>> Create(ArbiterOptions options);

  // Tick: one scheduling step at `now_ns` (CLOCK_MONOTONIC). REQUIRES: non-decreasing.
  // A damaged grant page (GrantPageWriter::Damage; the file is checked at every rescan) is
  // logged on stderr and rebuilt: a fresh page, every adopted tenant re-published and its
  // chips re-granted from scratch (as after a restart). A failed rebuild is logged and
  // retried every rescan period; the arbiter keeps running.
  void Tick(uint64_t now_ns);

  // rebuilds: how many times the grant page was rebuilt (tests).
  uint64_t rebuilds() const { return rebuilds_; }

  // MetricsText: one line per tenant and device, documented in docs/softslice.md:
  //   tenant=<name> index=<i> dev=<d> chip=<c> weight=<w> granted_ns=<n> charged_ns=<n>
  //   device_ns=<n>
  // chip is where the device is scheduled (its pin, if the share file pins it). The memory
  // lines (LedgerMetricsText) are appended by the metrics thread (main.cc, metrics_writer.h).
  std::string MetricsText() const;

  const GrantPageWriter& grants() const { return *grants_; }
  const NodeScheduler& scheduler() const { return scheduler_; }

 private:
  Arbiter(ArbiterOptions options, std::unique_ptr<GrantPageWriter> grants);
  // RepairGrantPage: rebuilds a damaged page (see Tick).
  void RepairGrantPage(uint64_t now_ns, bool check_file);

  ArbiterOptions options_;
  std::unique_ptr<GrantPageWriter> grants_;
  TenantRegistry registry_;
  NodeScheduler scheduler_;
  uint64_t next_rescan_ns_ = 0;
  // Last reported cumulative overrun per tenant and device (to charge deltas).
  std::array<std::array<uint64_t, VNPU_MAX_DEVICES>, VNPU_MAX_TENANTS> last_overrun_{};
  std::array<TenantSnapshot, VNPU_MAX_TENANTS> snapshots_{};
  std::array<bool, VNPU_MAX_TENANTS> snapshot_ok_{};
  uint64_t rebuilds_ = 0;
  uint64_t next_rebuild_ns_ = 0;
  std::string rebuild_error_;      // last failed rebuild's message (logged once per change)
  std::string tenants_dir_error_;  // why the tenants directory is unsafe, "" when it is fine
};

// CheckTenantsDir: OK when `dir` is a directory (not a symlink) owned by us or root and not
// group/world-writable; creates it (0755) when missing. A group/world-writable tenants
// directory would let anyone plant a tenant page the arbiter adopts. Errors:
// kFailedPrecondition naming the problem (not a directory, a symlink, loose mode, foreign
// owner); when mkdir or lstat fails, the code of FileSystemError (common/fs_error.h), e.g.
// kNotFound for a missing parent, kPermissionDenied for EACCES, kFailedPrecondition for
// ENOTDIR/ELOOP, kInvalidArgument for ENAMETOOLONG.
Status CheckTenantsDir(const std::string& dir);

}  // namespace npushare::softslice
