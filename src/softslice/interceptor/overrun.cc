// File: softslice/interceptor/overrun.cc
#include "softslice/interceptor/overrun.h"

namespace npushare::vnpu {
namespace {

constexpr uint64_t kHistory = VNPU_EPOCH_HISTORY;

template <typename T>
T Load(const T& v) {
  return __atomic_load_n(&v, __ATOMIC_ACQUIRE);
}

uint64_t Min(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}

}  // namespace

uint64_t OverrunPart(const VnpuGrantChip& chip, uint64_t epoch, uint64_t token, uint64_t end_ns) {
  uint64_t current = Load(chip.grant_word) >> 16;
  if (epoch == 0 || current <= epoch) {
    return 0;
  }
  // Our grant ended when epoch + 1 began (or, past the history, no earlier than the oldest
  // start kept; an entry the arbiter overwrites meanwhile is later still).
  uint64_t next = current - epoch >= kHistory ? current - (kHistory - 1) : epoch + 1;
  uint64_t ours_ended = Load(chip.epoch_start_ns[next % kHistory]);
  if (end_ns <= ours_ended) {
    return 0;
  }
  // Held again in between. The owner is read before the start, so an entry overwritten
  // meanwhile comes with a start as new (a later interval, never an earlier one); a misplaced
  // interval is bounded by the segment's device time in AccountOverrun.
  uint64_t held = 0;
  for (uint64_t k = next; k <= current; ++k) {
    if (Load(chip.epoch_owner[k % kHistory]) != (token & VNPU_OWNER_MASK)) {
      continue;
    }
    uint64_t from = Load(chip.epoch_start_ns[k % kHistory]);
    uint64_t to = k == current ? end_ns : Load(chip.epoch_start_ns[(k + 1) % kHistory]);
    from = from > ours_ended ? from : ours_ended;
    to = Min(to, end_ns);
    held += to > from ? to - from : 0;
  }
  uint64_t span = end_ns - ours_ended;
  return held >= span ? 0 : span - held;
}

void AccountOverrun(VnpuTenantDevice* td, OverrunState* o, uint64_t epoch, uint64_t part_ns,
                    uint64_t seg_ns) {
  if (part_ns == 0) {
    return;
  }
  if (o->epoch != epoch) {
    *o = OverrunState{epoch, 0, 0, 0, 0};
  }
  o->max_part_ns = part_ns > o->max_part_ns ? part_ns : o->max_part_ns;
  o->sum_ns += Min(part_ns, seg_ns);
  uint64_t local_ns = Min(Min(o->sum_ns, o->max_part_ns), kMaxOverrunNs);
  if (local_ns <= o->reported_ns) {
    return;
  }
  constexpr uint64_t kField = (uint64_t{1} << 24) - 1;  // µs, saturating (16.7 s)
  constexpr uint64_t kCapUs = kMaxOverrunNs / 1000;
  uint64_t e16 = epoch & 0xffff;
  uint64_t max_us = Min(o->max_part_ns / 1000, kField);
  uint64_t sum_us = o->sum_ns / 1000;
  uint64_t cur = Load(td->overrun_epoch);
  while (true) {
    uint64_t cur_max = (cur >> 24) & kField;
    uint64_t cur_sum = cur & kField;
    auto ahead = static_cast<int16_t>(static_cast<uint16_t>(e16 - (cur >> 48)));
    if (cur != 0 && ahead < 0) {
      __atomic_fetch_add(&td->overrun_ns, local_ns - o->reported_ns, __ATOMIC_RELEASE);
      o->reported_ns = local_ns;
      return;
    }
    uint64_t new_max = max_us;
    uint64_t new_sum = Min(sum_us, kField);
    uint64_t before = 0;
    if (cur != 0 && ahead == 0) {
      new_max = cur_max > max_us ? cur_max : max_us;
      new_sum = Min(cur_sum + (sum_us - o->pushed_sum_us), kField);
      before = Min(Min(cur_max, cur_sum), kCapUs);
    }
    uint64_t after = Min(Min(new_max, new_sum), kCapUs);
    if (__atomic_compare_exchange_n(&td->overrun_epoch, &cur,
                                    (e16 << 48) | (new_max << 24) | new_sum, /*weak=*/false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      if (after > before) {
        __atomic_fetch_add(&td->overrun_ns, (after - before) * 1000, __ATOMIC_RELEASE);
      }
      o->pushed_sum_us = sum_us;
      o->reported_ns = local_ns;
      return;
    }
  }
}

}  // namespace npushare::vnpu
