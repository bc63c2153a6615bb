#include "deviceplugin/daemon/utilization_tracker.h"

#include <algorithm>

namespace npushare::deviceplugin::daemon {

std::map<std::string, double> UtilizationTracker::Update(
    const ArbiterMetrics& metrics, std::chrono::steady_clock::time_point now) {
  std::map<std::string, double> out;
  std::map<std::string, Sample> next;
  MutexLock lock(&mu_);
  for (const ArbiterContainer& c : metrics.containers) {
    for (const auto& [index, d] : c.devices) {
      if (!d.has_core) {
        continue;
      }
      std::string key = Key(c.tenant, index);
      Sample current{d.device_ns, now};
      auto prev = last_.find(key);
      if (prev != last_.end()) {
        auto dt = now - prev->second.at;
        if (dt < min_interval_) {
          next[key] = prev->second;  // too close: keep the older baseline
          continue;
        }
        if (d.device_ns >= prev->second.device_ns) {
          double dt_ns =
              static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count());
          double used = static_cast<double>(d.device_ns - prev->second.device_ns);
          // Device time cannot exceed wall time on one chip; clamp the sampling jitter.
          out[key] = std::clamp(used / dt_ns * 100.0, 0.0, 100.0);
        }
      }
      next[key] = current;
    }
  }
  last_ = std::move(next);
  return out;
}

}  // namespace npushare::deviceplugin::daemon
