// File: softslice/interceptor/overrun.h
//
// Overrun accounting of the launch gate's event fences (fence_ring.h): how much of a tenant's
// work ran while it did not hold the chip, and how the processes of one tenant report that
// once. Pure arithmetic over the grant page's chip line and the tenant page's device entry, so
// that it is tested on its own (tests/unit/softslice/overrun_test.cc).
//
// A segment's *part* is the time from the end of the grant it was queued under to its observed
// completion, minus the grants the tenant held again in between (VnpuGrantChip's epoch
// history: we may get the chip back and lose it again while our tail runs; that time is held
// time, charged as such). Per tenant, device and epoch the overrun is
//   min(largest part,  Σ segments min(part, segment device time),  kMaxOverrunNs):
// all parts start at the grant's end, so the largest is their union (threads, streams and
// processes that ran side by side are not counted twice); the sum bounds it by device time.
//
// Thread safety: OverrunPart reads shared pages with atomic loads; OverrunState belongs to one
// process and is guarded by its caller; AccountOverrun updates the tenant page atomically.
#pragma once

#include <stdint.h>

#include "softslice/shared_state.h"

namespace npushare::vnpu {

// Per tenant and grant epoch, at most this much overrun is reported.
inline constexpr uint64_t kMaxOverrunNs = 50'000'000;

// OverrunPart: the part of a segment queued under grant `epoch` of the tenant whose owner field
// is `token`, observed complete at `end_ns`, given the chip's line `chip` (grant word and
// history). 0 while that grant is current or when nothing ran outside our grants. For a grant
// older than the history (a fence observed very late) the oldest start kept stands for its
// end: later than the true end, so the part is understated, never overstated.
uint64_t OverrunPart(const VnpuGrantChip& chip, uint64_t epoch, uint64_t token, uint64_t end_ns);

// OverrunState: one process's terms for the latest epoch it accounted on one device.
struct OverrunState {
  uint64_t epoch;
  uint64_t max_part_ns;
  uint64_t sum_ns;
  uint64_t reported_ns;    // this process's own value when it last reported
  uint64_t pushed_sum_us;  // how much of sum_ns is in the tenant page's word
};

// AccountOverrun: adds a segment of grant `epoch` with `part_ns` (OverrunPart) and device time
// `seg_ns` to `o`, then reports the growth of the tenant's overrun to td->overrun_ns. The
// tenant's terms for one epoch live in td->overrun_epoch (epoch mod 2^16 << 48 | largest part
// µs << 24 | Σ parts µs, saturating, updated by compare-and-swap), so that each process adds
// only the growth of the tenant-wide value. A report for an epoch older than the word's adds
// this process's own growth instead (possible double counting, then).
void AccountOverrun(VnpuTenantDevice* td, OverrunState* o, uint64_t epoch, uint64_t part_ns,
                    uint64_t seg_ns);

}  // namespace npushare::vnpu
