// File: sim/npu/runtime/device_timeline.h
//
// The chip's device timeline (model in docs/npu-sim.md "Timing model"): every AI core has a
// time at which it becomes free. A kernel needing `cores` cores of the range [lo, hi) takes the
// `cores` cores that free up first, starts when the last of them is free (and not before
// `not_before_ns`), runs `duration_ns`, and holds them until it ends. Work from any process
// is placed on the same per-chip timeline (it lives in the shared state), so a chip is
// space-shared while kernels fit side by side and time-shared when they do not: two processes
// launching full-chip kernels each get half the throughput.
//
// Thread safety: REQUIRES the state lock (the chip lives in shared memory).
#pragma once

#include <cstdint>

#include "state/state_layout.h"

namespace npushare::sim {

struct Reservation {
  uint64_t start_ns;
  uint64_t end_ns;
};

// ReserveKernel: places one kernel on `chip`'s timeline and records its utilisation.
// REQUIRES: lo < hi <= NPUSIM_MAX_CORES; 1 <= cores <= hi - lo.
Reservation ReserveKernel(NpuSimChip& chip, uint32_t lo, uint32_t hi, uint32_t cores,
                          uint64_t not_before_ns, uint64_t duration_ns);

}  // namespace npushare::sim
