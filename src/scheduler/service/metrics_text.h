// File: scheduler/service/metrics_text.h
//
// The scheduler service's Prometheus pieces, on top of common/prometheus_text.h: a writer
// whose non-integer values print with 9 significant digits (the service's established
// /metrics text) and a latency histogram observed in std::chrono durations with the common
// buckets (0.5 ms .. 10 s).
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

#include <chrono>
#include <cstdint>
#include <string_view>

#include "common/prometheus_text.h"

namespace npushare::scheduler {

using Labels = PromLabels;

// MetricsWriter: PrometheusText (Family, Sample, Histogram, Take) with 9-digit values.
class MetricsWriter : public PrometheusText {
 public:
  MetricsWriter() : PrometheusText(PromValueFormat::kNineSignificant) {}
};

class LatencyHistogram {
 public:
  void Observe(std::chrono::nanoseconds d) {
    histogram_.Observe(std::chrono::duration<double>(d).count());
  }
  // Write: the _bucket/_sum/_count samples of `name` (Family() is the caller's).
  void Write(MetricsWriter& w, std::string_view name, const Labels& labels) const {
    w.Histogram(name, labels, histogram_.Snapshot());
  }
  uint64_t Count() const { return histogram_.Snapshot().count; }

 private:
  npushare::LatencyHistogram histogram_;  // default buckets
};

}  // namespace npushare::scheduler
