#include "kube/rate_limiter.h"

#include <algorithm>

namespace npushare::kube {

TokenBucket::TokenBucket(double qps, int burst, Clock& clock)
    : qps_(qps), burst_(std::max(1, burst)), clock_(clock), tokens_(burst_), last_(clock.Now()) {}

std::chrono::nanoseconds TokenBucket::Reserve() {
  if (qps_ <= 0) {
    return std::chrono::nanoseconds(0);
  }
  MutexLock lock(&mu_);
  auto now = clock_.Now();
  double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  tokens_ -= 1.0;
  if (tokens_ >= 0) {
    return std::chrono::nanoseconds(0);
  }
  // The debt is paid back at qps: a caller that found -k tokens waits k/qps seconds.
  return std::chrono::nanoseconds(static_cast<int64_t>(-tokens_ / qps_ * 1e9));
}

void TokenBucket::Wait() {
  auto d = Reserve();
  if (d.count() > 0) {
    clock_.SleepFor(d);
  }
}

}  // namespace npushare::kube
