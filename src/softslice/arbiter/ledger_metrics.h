// File: softslice/arbiter/ledger_metrics.h
//
// Memory metrics of the soft-sliced containers on this node, read by npushare-arbiter from each
// container's ledger (`<tenants_dir>/<name>/ledger.v1`, softslice/shared_state.h). Containers
// with only a memory quota have a ledger but no tenant page, so this scan is separate from the
// TenantRegistry. The ledger is written by the container, so it is read with bounded pread
// (never mapped), its header is validated, and its numbers are reported as the container's own
// account, not trusted for anything else.
//
// Thread safety: free functions without shared state.
#pragma once

#include <stdint.h>

#include <array>
#include <string>

#include "common/status.h"
#include "softslice/shared_state.h"

namespace npushare::softslice {

struct LedgerUsage {
  std::array<uint64_t, VNPU_MAX_DEVICES> quota_bytes{};  // 0 = not limited
  std::array<uint64_t, VNPU_MAX_DEVICES> used_bytes{};   // Σ charged over the process slots
  uint64_t live_procs = 0;       // slots marked live (dead ones count until swept)
  uint64_t reclaimed_procs = 0;  // dead processes whose charges were returned
  uint64_t denied_allocs = 0;    // allocations refused with 207001
};

// ReadLedgerUsage: the usage recorded in the ledger file at `path`.
// Errors: kFailedPrecondition if it is not a regular file or is shorter than a ledger (also
// when it shrinks while being read); kInvalidArgument if the header (magic, version, sizes,
// counts) is not the one of shared_state.h; when open, fstat or pread fails, the code of
// FileSystemError (common/fs_error.h): kNotFound if it does not exist, kFailedPrecondition
// for a symlink (ELOOP) or a path through a file (ENOTDIR), kPermissionDenied for EACCES,
// kResourceExhausted for EMFILE, kDataLoss for EIO.
Result<LedgerUsage> ReadLedgerUsage(const std::string& path);

// LedgerMetricsText: for each container directory under `tenants_dir` whose ledger is valid
// (at most `max_dirs` directories, sorted by name), one line for device 0 when it has a quota
// or use, and one for every other device that holds memory or has a non-zero quota different
// from device 0's (a single-value quota applies to all 16 logical devices):
//   tenant=<name> mem_dev=<d> quota_bytes=<n> used_bytes=<n> live_procs=<n>
//   reclaimed_procs=<n> denied_allocs=<n>
// Directories without a ledger, or with an invalid one, are skipped.
std::string LedgerMetricsText(const std::string& tenants_dir, size_t max_dirs = 256);

}  // namespace npushare::softslice
