// File: scheduler/service/metrics_text.h
//
// Small Prometheus pieces for the scheduler service: a latency histogram with fixed buckets
// (lock-free observe) and a writer of the text exposition format 0.0.4 (HELP/TYPE once per
// family, label values escaped).
//
// Usage:
//   LatencyHistogram h;               // buckets 0.5 ms .. 10 s
//   h.Observe(std::chrono::microseconds(800));
//   MetricsWriter w;
//   w.Family("npushare_x_seconds", "histogram", "What it measures.");
//   h.Write(w, "npushare_x_seconds", {{"zone", "vGPU"}});
//   w.Family("hami_gpu_shared_count", "gauge", "...");
//   w.Sample("hami_gpu_shared_count", {{"node", "n1"}}, 3);
//   std::string text = w.Take();
//
// Thread safety: LatencyHistogram is safe for concurrent use; MetricsWriter is not.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace npushare::scheduler {

using Labels = std::vector<std::pair<std::string, std::string>>;

class MetricsWriter {
 public:
  // Family: the # HELP and # TYPE lines; call once per metric name, before its samples.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // Sample: one line `name{labels} value`.
  void Sample(std::string_view name, const Labels& labels, double value);
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class LatencyHistogram {
 public:
  // Bucket upper bounds in seconds.
  static constexpr std::array<double, 14> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  void Observe(std::chrono::nanoseconds d);
  // Write: the _bucket/_sum/_count samples of `name` (Family() is the caller's).
  void Write(MetricsWriter& w, std::string_view name, const Labels& labels) const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size()> buckets_{};  // non-cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace npushare::scheduler
