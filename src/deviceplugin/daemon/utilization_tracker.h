// File: deviceplugin/daemon/utilization_tracker.h
//
// UtilizationTracker: turns the arbiter's device-time counters into HAMi's gauge
// hami_container_device_utilization_ratio (percent of a chip a container used), which HAMi's
// dashboards read as a plain gauge rather than as rate() over a counter. Each scrape's counters
// are compared with the previous scrape's: utilization = Δdevice_ns / Δwall_ns × 100 over that
// interval. A device seen for the first time, a counter that went backwards (the container was
// replaced under the same tenant name) or two scrapes closer than `min_interval` give no value
// for that device this time (nothing rather than a wrong figure).
//
// Usage:
//   UtilizationTracker tracker;                 // one per daemon
//   std::map<std::string, double> pct = tracker.Update(*arbiter, steady_clock::now());
//   pct[UtilizationTracker::Key(container.tenant, index)]
//
// Thread safety: Update may be called concurrently (scrapes); it serialises internally.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "common/thread_annotations.h"
#include "deviceplugin/daemon/arbiter_metrics_file.h"

namespace npushare::deviceplugin::daemon {

class UtilizationTracker {
 public:
  explicit UtilizationTracker(
      std::chrono::milliseconds min_interval = std::chrono::milliseconds(500))
      : min_interval_(min_interval) {}

  // Key: how Update names one logical device of one tenant.
  static std::string Key(const std::string& tenant, uint32_t index) {
    return tenant + "/" + std::to_string(index);
  }

  // Update: percent per Key for devices with a core half (has_core) and a usable previous
  // sample; remembers this scrape's counters (devices gone from `metrics` are forgotten).
  std::map<std::string, double> Update(const ArbiterMetrics& metrics,
                                       std::chrono::steady_clock::time_point now);

 private:
  struct Sample {
    uint64_t device_ns = 0;
    std::chrono::steady_clock::time_point at{};
  };
  const std::chrono::milliseconds min_interval_;
  Mutex mu_;
  std::map<std::string, Sample> last_ NPUSHARE_GUARDED_BY(mu_);
};

}  // namespace npushare::deviceplugin::daemon
