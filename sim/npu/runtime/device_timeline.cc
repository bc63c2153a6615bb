#include "runtime/device_timeline.h"

#include <algorithm>
#include <array>

#include "state/shared_state.h"

namespace npushare::sim {

Reservation ReserveKernel(NpuSimChip& chip, uint32_t lo, uint32_t hi, uint32_t cores,
                          uint64_t not_before_ns, uint64_t duration_ns) {
  std::array<uint32_t, NPUSIM_MAX_CORES> idx{};
  uint32_t n = hi - lo;
  for (uint32_t i = 0; i < n; ++i) {
    idx[i] = lo + i;
  }
  // The `cores` earliest-free cores; ties keep index order so placement is deterministic.
  std::stable_sort(idx.begin(), idx.begin() + n, [&](uint32_t a, uint32_t b) {
    return chip.core_free_at_ns[a] < chip.core_free_at_ns[b];
  });
  uint64_t start = not_before_ns;
  for (uint32_t i = 0; i < cores; ++i) {
    start = std::max(start, chip.core_free_at_ns[idx[i]]);
  }
  uint64_t end = start + duration_ns;
  for (uint32_t i = 0; i < cores; ++i) {
    chip.core_free_at_ns[idx[i]] = end;
  }
  if (duration_ns > 0) {
    AddUtilization(chip, cores, start, end);
  }
  return {start, end};
}

}  // namespace npushare::sim
