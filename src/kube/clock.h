// File: kube/clock.h
//
// Clock: the time seam of the Kubernetes client. Rate limiting, retry backoff, informer resync
// and leader election read time and sleep only through this interface, so tests inject a fake
// clock and never sleep.
//
// Thread safety: implementations are safe for concurrent use.
#pragma once

#include <chrono>

namespace npushare::kube {

// Clock: monotonic time for intervals, wall time for timestamps written into objects.
class Clock {
 public:
  virtual ~Clock() = default;
  // Now: monotonic time; only differences are meaningful.
  virtual std::chrono::steady_clock::time_point Now() = 0;
  // WallNow: calendar time, used for RFC 3339 timestamps (lease renewTime, event times).
  virtual std::chrono::system_clock::time_point WallNow() = 0;
  // SleepFor: blocks the calling thread for `d` (a fake clock advances itself instead).
  virtual void SleepFor(std::chrono::nanoseconds d) = 0;
};

// RealClock: returns the process-wide clock backed by std::chrono; never null, never freed.
Clock& RealClock();

}  // namespace npushare::kube
