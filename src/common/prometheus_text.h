// File: common/prometheus_text.h
//
// A small writer for the Prometheus text exposition format (version 0.0.4) and a thread-safe
// latency histogram, so each daemon's /metrics handler can render its series without a client
// library. Layout written, per metric family:
//
//   # HELP <name> <help, with \ and newline escaped>
//   # TYPE <name> counter|gauge|histogram
//   <name>{<label>="<value, with \ " and newline escaped>",...} <value>
//
// Histograms add <name>_bucket{...,le="<bound>"} (cumulative, ending with le="+Inf"),
// <name>_sum and <name>_count.
//
// Usage:
//   PrometheusText text;
//   text.Family("npushare_requests_total", "counter", "HTTP requests served.");
//   text.Sample("npushare_requests_total", {{"route", "/filter"}, {"code", "200"}}, 12);
//   LatencyHistogram h;             // default buckets 0.5 ms .. 10 s
//   h.Observe(0.0021);              // seconds
//   text.Family("npushare_filter_seconds", "histogram", "Filter latency.");
//   text.Histogram("npushare_filter_seconds", {}, h.Snapshot());
//   std::string body = text.Take();
//
// Thread safety: PrometheusText is a plain value (one writer). LatencyHistogram is safe for
// concurrent Observe/Snapshot.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace npushare {

// PromLabels: label name -> value pairs in output order. Names must match
// [a-zA-Z_][a-zA-Z0-9_]* (callers use constants); values are escaped.
using PromLabels = std::vector<std::pair<std::string, std::string>>;

// HistogramSnapshot: upper bounds (seconds, ascending, without +Inf) and per-bucket counts
// (NOT cumulative; counts.size() == bounds.size() + 1, the last one for +Inf), sum, count.
struct HistogramSnapshot {
  std::vector<double> bounds;
  std::vector<uint64_t> counts;
  double sum = 0;
  uint64_t count = 0;
};

// PromValueFormat: how samples that are not integers print. kShortest: the shortest text that
// reads back as the same double; kNineSignificant: printf %.9g (and integers print exactly
// only below 1e15), the scheduler service's established /metrics text.
enum class PromValueFormat { kShortest, kNineSignificant };

class PrometheusText {
 public:
  explicit PrometheusText(PromValueFormat format = PromValueFormat::kShortest) : format_(format) {}

  // Family: the HELP and TYPE lines of `name`; call once per family, before its samples.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // Sample: one line `name{labels} value` (integers printed without exponent).
  void Sample(std::string_view name, const PromLabels& labels, double value);
  // Histogram: the _bucket/_sum/_count lines of one labelled histogram.
  void Histogram(std::string_view name, const PromLabels& labels, const HistogramSnapshot& h);
  // Append: raw text from another component (must itself be valid exposition text).
  void Append(std::string_view text);
  // Take: the text written so far; leaves the writer empty.
  std::string Take() { return std::move(out_); }

  // EscapeLabelValue: \ -> \\, " -> \", newline -> \n.
  static std::string EscapeLabelValue(std::string_view v);
  // FormatValue: "1", "0.25", "+Inf", "NaN" as Prometheus reads them.
  static std::string FormatValue(double v, PromValueFormat format = PromValueFormat::kShortest);

 private:
  void Labels(const PromLabels& labels, std::string_view extra_name = {},
              std::string_view extra_value = {});
  PromValueFormat format_;
  std::string out_;
};

// LatencyHistogram: fixed buckets, lock-free observation.
class LatencyHistogram {
 public:
  // Default bounds: 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
  // 2.5, 5, 10 seconds.
  LatencyHistogram();
  // REQUIRES: bounds ascending, at most 32 of them.
  explicit LatencyHistogram(std::vector<double> bounds);
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  // Observe: records one value in seconds (negative values count as 0).
  void Observe(double seconds);
  // Snapshot: a consistent-enough copy (each counter read once; sum may lag count by the
  // observations in flight).
  HistogramSnapshot Snapshot() const;

 private:
  static constexpr size_t kMaxBuckets = 33;
  std::vector<double> bounds_;
  std::atomic<uint64_t> counts_[kMaxBuckets] = {};
  std::atomic<uint64_t> sum_nanos_{0};
};

}  // namespace npushare
