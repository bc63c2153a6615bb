// File: softslice/arbiter/tick_clock_impl.cc
#include "softslice/arbiter/tick_clock_impl.h"

#include <time.h>

namespace npushare::softslice {

uint64_t MonotonicTickClock::NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void MonotonicTickClock::SleepUntilNs(uint64_t deadline_ns) {
  timespec ts = {static_cast<time_t>(deadline_ns / 1'000'000'000ull),
                 static_cast<long>(deadline_ns % 1'000'000'000ull)};
  // EINTR (SIGTERM/SIGINT) returns early: the loop then sees its stop flag at once.
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

}  // namespace npushare::softslice
