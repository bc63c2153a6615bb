// File: dashboard/history.h
//
// History: the last `window` of per-chip samples (memory used / allocated, compute achieved
// / granted), one fixed-size ring per chip, for the dashboard's small charts. Memory is fixed:
// at most max_series rings of window/period samples each (24 bytes a sample; 100 nodes x 8
// chips x 300 samples = 5.8 MB), allocated when a chip is first seen and freed when it has
// not been seen for a whole window.
//
// Record() takes one sample per chip from a snapshot; a snapshot closer than `period` to the
// previous recorded one is ignored, so the ring always spans at least `window` however often
// the page polls. Node totals are derived by the reader (sum over the node's chips).
//
// Usage:
//   History history({});                       // 10 minutes at 2 s
//   history.Record(snapshot);                  // after measured fields are filled
//   std::vector<HistoryPoint> p = history.Points("node-a", "uuid-1", 60, now_ms);
//
// Thread safety: safe for concurrent use (one internal mutex).
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"
#include "dashboard/cluster_snapshot.h"

namespace npushare::dashboard {

struct HistoryOptions {
  // window: how far back the charts reach. Default 10 minutes. `npushare demo` uses a longer
  // window so its exit report covers the whole run.
  int64_t window_ms = 10 * 60 * 1000;
  // period: minimum spacing of recorded samples. Default 2 s (the page's poll period).
  int64_t period_ms = 2000;
  // max_series: chips tracked at once; chips beyond are not recorded (counted in
  // dropped_series()). Default 8,192 (1,024 nodes x 8 chips).
  size_t max_series = 8192;
};

// HistoryPoint: one sample; NaN = unknown (nothing measured on that chip at that time).
struct HistoryPoint {
  int64_t t_ms = 0;
  float memory_used_bytes = NAN;
  float memory_allocated_bytes = 0;
  float compute_achieved_percent = NAN;
  float compute_granted_percent = NAN;
};

class History {
 public:
  explicit History(HistoryOptions options);
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // Record: appends one point per chip of `snapshot` at snapshot.time_unix_ms (sums over the
  // chip's slices; a measured sum is NaN when no slice of the chip has that measurement).
  // Returns false when ignored (closer than period to the last recorded snapshot, or older).
  bool Record(const ClusterSnapshot& snapshot);

  // Points: the chip's samples newer than now_ms - window, oldest first, averaged into at
  // most max_points buckets of equal time span (max_points 0 = none; every sample when
  // max_points >= their count). Empty for an unknown chip.
  std::vector<HistoryPoint> Points(const std::string& node, const std::string& uuid,
                                   size_t max_points, int64_t now_ms) const;

  // Capacity: samples per chip ring (window / period, at least 2).
  size_t Capacity() const { return capacity_; }
  size_t SeriesCount() const NPUSHARE_EXCLUDES(mu_);
  uint64_t dropped_series() const NPUSHARE_EXCLUDES(mu_);
  const HistoryOptions& options() const { return options_; }

 private:
  struct Ring {
    std::unique_ptr<HistoryPoint[]> points;
    size_t start = 0;  // oldest
    size_t size = 0;
  };

  const HistoryOptions options_;
  const size_t capacity_;
  mutable Mutex mu_;
  std::map<std::pair<std::string, std::string>, Ring> rings_ NPUSHARE_GUARDED_BY(mu_);
  int64_t last_recorded_ms_ NPUSHARE_GUARDED_BY(mu_) = 0;
  bool recorded_any_ NPUSHARE_GUARDED_BY(mu_) = false;
  uint64_t dropped_series_ NPUSHARE_GUARDED_BY(mu_) = 0;
};

}  // namespace npushare::dashboard
