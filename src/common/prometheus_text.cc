#include "common/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace npushare {

void PrometheusText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) {
    if (c == '\\') {
      out_ += "\\\\";
    } else if (c == '\n') {
      out_ += "\\n";
    } else {
      out_ += c;
    }
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

std::string PrometheusText::EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string PrometheusText::FormatValue(double v, PromValueFormat format) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  if (format == PromValueFormat::kNineSignificant) {
    char buf[64];
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
      std::snprintf(buf, sizeof buf, "%.0f", v);
    } else {
      std::snprintf(buf, sizeof buf, "%.9g", v);
    }
    return buf;
  }
  // Integers (counters, byte gauges) print exactly; others with enough digits to round-trip.
  if (std::fabs(v) < 9.007199254740992e15 && v == std::floor(v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  // Shortest text that reads back as the same double (0.0005, not 0.00050000000000000001).
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

void PrometheusText::Labels(const PromLabels& labels, std::string_view extra_name,
                            std::string_view extra_value) {
  if (labels.empty() && extra_name.empty()) {
    return;
  }
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) {
      out_ += ',';
    }
    first = false;
    out_ += k;
    out_ += "=\"";
    out_ += EscapeLabelValue(v);
    out_ += '"';
  }
  if (!extra_name.empty()) {
    if (!first) {
      out_ += ',';
    }
    out_ += extra_name;
    out_ += "=\"";
    out_ += extra_value;
    out_ += '"';
  }
  out_ += '}';
}

void PrometheusText::Sample(std::string_view name, const PromLabels& labels, double value) {
  out_ += name;
  Labels(labels);
  out_ += ' ';
  out_ += FormatValue(value, format_);
  out_ += '\n';
}

void PrometheusText::Histogram(std::string_view name, const PromLabels& labels,
                               const HistogramSnapshot& h) {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bounds.size() && i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    out_ += bucket;
    Labels(labels, "le", FormatValue(h.bounds[i], format_));
    out_ += ' ' + std::to_string(cumulative) + '\n';
  }
  out_ += bucket;
  Labels(labels, "le", "+Inf");
  out_ += ' ' + std::to_string(h.count) + '\n';
  Sample(std::string(name) + "_sum", labels, h.sum);
  Sample(std::string(name) + "_count", labels, static_cast<double>(h.count));
}

void PrometheusText::Append(std::string_view text) {
  out_ += text;
  if (!text.empty() && text.back() != '\n') {
    out_ += '\n';
  }
}

LatencyHistogram::LatencyHistogram()
    : LatencyHistogram(
          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}) {}

LatencyHistogram::LatencyHistogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  if (bounds_.size() > kMaxBuckets - 1) {
    bounds_.resize(kMaxBuckets - 1);
  }
}

void LatencyHistogram::Observe(double seconds) {
  if (!(seconds > 0)) {
    seconds = 0;
  }
  size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) {
    ++i;
  }
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(std::llround(seconds * 1e9)),
                       std::memory_order_relaxed);
}

HistogramSnapshot LatencyHistogram::Snapshot() const {
  HistogramSnapshot s;
  s.bounds = bounds_;
  s.counts.resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    total += s.counts[i];
  }
  // Report the bucket total as the count so _count always equals the +Inf bucket.
  s.count = total;
  s.sum = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

}  // namespace npushare
