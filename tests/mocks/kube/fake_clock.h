// File: mocks/kube/fake_clock.h
//
// FakeClock: the test double of kube::Clock (src/kube/clock.h). Time moves only when a test
// calls Advance() or the code under test calls SleepFor(), which returns at once and is
// recorded, so backoff and timing logic is tested without real waiting.
//
// Thread safety: safe for concurrent use without external synchronization.
#pragma once

#include <chrono>
#include <mutex>
#include <vector>

#include "kube/clock.h"

namespace npushare::kube::testing {

// FakeClock: time moves only when SleepFor() or Advance() is called; sleeps are recorded.
class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  std::chrono::system_clock::time_point WallNow() override {
    std::lock_guard<std::mutex> lock(mu_);
    return wall_ + (now_ - std::chrono::steady_clock::time_point{});
  }
  void SleepFor(std::chrono::nanoseconds d) override {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(d);
    now_ += d;
  }
  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }
  std::vector<std::chrono::nanoseconds> sleeps() {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point now_{};
  std::chrono::system_clock::time_point wall_ =
      std::chrono::system_clock::from_time_t(1714557600);  // 2024-05-01T10:00:00Z
  std::vector<std::chrono::nanoseconds> sleeps_;
};

}  // namespace npushare::kube::testing
