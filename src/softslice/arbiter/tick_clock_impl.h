// File: softslice/arbiter/tick_clock_impl.h
//
// MonotonicTickClock: the production TickClock (tick_clock.h): clock_gettime and
// clock_nanosleep(TIMER_ABSTIME) on CLOCK_MONOTONIC, the clock tenants stamp their pages with.
// Only npushare-arbiter's main.cc chooses it.
//
// Thread safety: stateless; safe from any thread.
#pragma once

#include "softslice/arbiter/tick_clock.h"

namespace npushare::softslice {

class MonotonicTickClock final : public TickClock {
 public:
  uint64_t NowNs() override;
  // SleepUntilNs: sleeps to the absolute deadline; a signal (SIGTERM) ends the sleep early, so
  // that the loop sees its stop flag without waiting for the deadline.
  void SleepUntilNs(uint64_t deadline_ns) override;
};

}  // namespace npushare::softslice
