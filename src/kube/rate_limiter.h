// File: kube/rate_limiter.h
//
// TokenBucket: client-side rate limit for API calls (client-go's flowcontrol semantics): the
// bucket holds up to `burst` tokens and refills at `qps` tokens per second; each call takes
// one. Reserve() hands out future tokens so concurrent callers queue fairly in arrival order.
//
// Usage:
//   TokenBucket bucket(20, 40, clock);
//   bucket.Wait();  // before each request
//
// Thread safety: safe for concurrent use without external synchronization.
#pragma once

#include <chrono>
#include <mutex>

#include "common/thread_annotations.h"
#include "kube/clock.h"

namespace npushare::kube {

class TokenBucket {
 public:
  // TokenBucket: qps <= 0 disables limiting (Reserve() always returns 0). burst < 1 means 1.
  // REQUIRES: clock outlives this.
  TokenBucket(double qps, int burst, Clock& clock);

  // Reserve: takes one token and returns how long the caller must wait before using it
  // (0 when a token was available).
  std::chrono::nanoseconds Reserve();

  // Wait: Reserve() then sleep through the clock.
  void Wait();

 private:
  const double qps_;
  const double burst_;
  Clock& clock_;
  Mutex mu_;
  double tokens_ NPUSHARE_GUARDED_BY(mu_);  // may go negative (debt)
  std::chrono::steady_clock::time_point last_ NPUSHARE_GUARDED_BY(mu_);
};

}  // namespace npushare::kube
