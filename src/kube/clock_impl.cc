// Production Clock over std::chrono.
#include <thread>

#include "kube/clock.h"

namespace npushare::kube {
namespace {

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point WallNow() override {
    return std::chrono::system_clock::now();
  }
  void SleepFor(std::chrono::nanoseconds d) override {
    if (d.count() > 0) {
      std::this_thread::sleep_for(d);
    }
  }
};

}  // namespace

Clock& RealClock() {
  static SystemClock* clock = new SystemClock();  // never destroyed: usable during exit
  return *clock;
}

}  // namespace npushare::kube
