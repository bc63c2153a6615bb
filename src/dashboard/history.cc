#include "dashboard/history.h"

#include <algorithm>

namespace npushare::dashboard {
namespace {

size_t CapacityOf(const HistoryOptions& o) {
  const int64_t period = std::max<int64_t>(o.period_ms, 1);
  const int64_t n = std::max<int64_t>(o.window_ms, 0) / period;
  return static_cast<size_t>(std::clamp<int64_t>(n, 2, int64_t{1} << 20));
}

HistoryPoint PointOf(const ChipView& chip, int64_t t_ms) {
  HistoryPoint p;
  p.t_ms = t_ms;
  double used = 0;
  double alloc = 0;
  double achieved = 0;
  double granted = 0;
  bool has_used = false;
  bool has_achieved = false;
  bool has_granted = false;
  for (const SliceView& s : chip.slices) {
    alloc += static_cast<double>(s.memory_quota_bytes);
    if (s.memory_used_bytes.has_value()) {
      used += static_cast<double>(*s.memory_used_bytes);
      has_used = true;
    }
    if (s.compute_achieved_percent.has_value()) {
      achieved += *s.compute_achieved_percent;
      has_achieved = true;
    }
    if (s.compute_granted_percent.has_value()) {
      granted += *s.compute_granted_percent;
      has_granted = true;
    }
  }
  p.memory_allocated_bytes = static_cast<float>(alloc);
  p.memory_used_bytes = has_used ? static_cast<float>(used) : NAN;
  p.compute_achieved_percent = has_achieved ? static_cast<float>(achieved) : NAN;
  p.compute_granted_percent = has_granted ? static_cast<float>(granted) : NAN;
  return p;
}

// MeanOf: averages points [b, e) into one; NaN fields stay NaN only if all are NaN.
HistoryPoint MeanOf(const std::vector<HistoryPoint>& pts, size_t b, size_t e) {
  HistoryPoint out;
  out.t_ms = pts[e - 1].t_ms;
  double sums[4] = {0, 0, 0, 0};
  size_t counts[4] = {0, 0, 0, 0};
  for (size_t i = b; i < e; ++i) {
    const float v[4] = {pts[i].memory_used_bytes, pts[i].memory_allocated_bytes,
                        pts[i].compute_achieved_percent, pts[i].compute_granted_percent};
    for (int k = 0; k < 4; ++k) {
      if (!std::isnan(v[k])) {
        sums[k] += v[k];
        ++counts[k];
      }
    }
  }
  float* f[4] = {&out.memory_used_bytes, &out.memory_allocated_bytes, &out.compute_achieved_percent,
                 &out.compute_granted_percent};
  for (int k = 0; k < 4; ++k) {
    *f[k] = counts[k] == 0 ? NAN : static_cast<float>(sums[k] / static_cast<double>(counts[k]));
  }
  return out;
}

}  // namespace

History::History(HistoryOptions options) : options_(options), capacity_(CapacityOf(options)) {}

bool History::Record(const ClusterSnapshot& snapshot) {
  const int64_t t = snapshot.time_unix_ms;
  MutexLock lock(&mu_);
  if (recorded_any_ && t - last_recorded_ms_ < options_.period_ms) {
    return false;
  }
  recorded_any_ = true;
  last_recorded_ms_ = t;
  // Free rings of chips not seen for a whole window first, so new chips can take their room.
  for (auto it = rings_.begin(); it != rings_.end();) {
    const Ring& r = it->second;
    const HistoryPoint& newest = r.points[(r.start + r.size - 1) % capacity_];
    if (t - newest.t_ms > options_.window_ms) {
      it = rings_.erase(it);
    } else {
      ++it;
    }
  }
  for (const NodeView& node : snapshot.nodes) {
    for (const ChipView& chip : node.chips) {
      auto key = std::make_pair(node.name, chip.uuid);
      auto it = rings_.find(key);
      if (it == rings_.end()) {
        if (rings_.size() >= options_.max_series) {
          ++dropped_series_;
          continue;
        }
        Ring r;
        r.points = std::make_unique<HistoryPoint[]>(capacity_);
        it = rings_.emplace(std::move(key), std::move(r)).first;
      }
      Ring& r = it->second;
      const size_t slot = (r.start + r.size) % capacity_;
      r.points[slot] = PointOf(chip, t);
      if (r.size < capacity_) {
        ++r.size;
      } else {
        r.start = (r.start + 1) % capacity_;
      }
    }
  }
  return true;
}

std::vector<HistoryPoint> History::Points(const std::string& node, const std::string& uuid,
                                          size_t max_points, int64_t now_ms) const {
  std::vector<HistoryPoint> all;
  {
    MutexLock lock(&mu_);
    auto it = rings_.find(std::make_pair(node, uuid));
    if (it == rings_.end() || max_points == 0) {
      return {};
    }
    const Ring& r = it->second;
    all.reserve(r.size);
    for (size_t i = 0; i < r.size; ++i) {
      const HistoryPoint& p = r.points[(r.start + i) % capacity_];
      if (now_ms - p.t_ms <= options_.window_ms) {
        all.push_back(p);
      }
    }
  }
  if (all.size() <= max_points) {
    return all;
  }
  // Buckets of equal time span; empty buckets are skipped (gaps stay gaps).
  const int64_t t0 = all.front().t_ms;
  const int64_t span = std::max<int64_t>(all.back().t_ms - t0, 1);
  std::vector<HistoryPoint> out;
  out.reserve(max_points);
  size_t b = 0;
  for (size_t k = 0; k < max_points && b < all.size(); ++k) {
    const int64_t limit =
        t0 + span * static_cast<int64_t>(k + 1) / static_cast<int64_t>(max_points);
    size_t e = b;
    while (e < all.size() && (all[e].t_ms <= limit || k + 1 == max_points)) {
      ++e;
    }
    if (e > b) {
      out.push_back(MeanOf(all, b, e));
      b = e;
    }
  }
  return out;
}

size_t History::SeriesCount() const {
  MutexLock lock(&mu_);
  return rings_.size();
}

uint64_t History::dropped_series() const {
  MutexLock lock(&mu_);
  return dropped_series_;
}

}  // namespace npushare::dashboard
