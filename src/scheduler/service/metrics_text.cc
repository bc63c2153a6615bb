#include "scheduler/service/metrics_text.h"

#include <cmath>
#include <cstdio>

namespace npushare::scheduler {
namespace {

void AppendEscaped(std::string& out, std::string_view v) {
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
}

void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.9g", v);
  }
  out += buf;
}

}  // namespace

void MetricsWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void MetricsWriter::Sample(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) {
        out_ += ',';
      }
      first = false;
      out_ += k;
      out_ += "=\"";
      AppendEscaped(out_, v);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  AppendValue(out_, value);
  out_ += '\n';
}

void LatencyHistogram::Observe(std::chrono::nanoseconds d) {
  const double s = std::chrono::duration<double>(d).count();
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (s <= kBounds[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, d.count())),
                    std::memory_order_relaxed);
}

void LatencyHistogram::Write(MetricsWriter& w, std::string_view name, const Labels& labels) const {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    Labels l = labels;
    char le[32];
    std::snprintf(le, sizeof(le), "%g", kBounds[i]);
    l.emplace_back("le", le);
    w.Sample(bucket, l, static_cast<double>(cumulative));
  }
  const uint64_t count = count_.load(std::memory_order_relaxed);
  Labels inf = labels;
  inf.emplace_back("le", "+Inf");
  w.Sample(bucket, inf, static_cast<double>(count));
  w.Sample(std::string(name) + "_sum", labels,
           static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  w.Sample(std::string(name) + "_count", labels, static_cast<double>(count));
}

}  // namespace npushare::scheduler
