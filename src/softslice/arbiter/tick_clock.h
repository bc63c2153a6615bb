// File: softslice/arbiter/tick_clock.h
//
// TickClock: the time seam of npushare-arbiter's scheduling loop (arbiter_loop.h). The loop
// reads CLOCK_MONOTONIC and sleeps to absolute deadlines only through this interface, so unit
// tests drive it tick by tick on a fake clock and assert exact tick counts, never wall time.
// The arbiter is its own process: one virtual call per tick costs nothing that matters, and
// nothing here is on a tenant's launch path (tenants read the grant page, not this clock).
//
// Usage:
//   MonotonicTickClock clock;                       // tick_clock_impl.h (production)
//   clock.SleepUntilNs(clock.NowNs() + 1'000'000);  // sleep 1 ms
//
// Thread safety: implementations are used by one thread (the arbiter loop's).
#pragma once

#include <stdint.h>

namespace npushare::softslice {

class TickClock {
 public:
  virtual ~TickClock() = default;

  // NowNs: CLOCK_MONOTONIC in nanoseconds (the time base of the grant and tenant pages).
  virtual uint64_t NowNs() = 0;

  // SleepUntilNs: returns once NowNs() >= deadline_ns (at once for a deadline in the past). It
  // may return later than the deadline (a busy or suspended machine); a fake clock advances
  // itself to the deadline instead of blocking.
  virtual void SleepUntilNs(uint64_t deadline_ns) = 0;
};

}  // namespace npushare::softslice
