// File: dashboard/prometheus_parser.h
//
// ParsePrometheusText: a defensive reader of the Prometheus text exposition format (0.0.4),
// for the device plugins' /metrics. The body comes from another process over the network,
// so every size is bounded and nothing in it can crash the reader:
//
//   line    := "#" anything                              comment / HELP / TYPE: ignored
//            | name [ "{" label ("," label)* [","] "}" ] value [ timestamp ]
//   name    := [a-zA-Z_:][a-zA-Z0-9_:]*
//   label   := lname "=" '"' (char | \\ | \" | \n)* '"'   lname := [a-zA-Z_][a-zA-Z0-9_]*
//   value   := a finite decimal/exponent float ("NaN", "+Inf", "-Inf" are read but such
//              samples are dropped: they cannot be charted)
//
// A malformed sample line (bad name, unterminated quote, unknown escape, duplicate label,
// too many / too long labels, bad value, trailing junk) is skipped and counted in
// skipped_lines; the rest of the body is still used, so one odd series cannot blank a node.
// Limits that bound memory fail the whole parse instead (kResourceExhausted).
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(ParsedMetrics m, ParsePrometheusText(body, {}, [](auto name) {
//     return name.starts_with("hami_vgpu_");
//   }));
//
// Thread safety: pure function.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace npushare::dashboard {

// ParseLimits: bounds on one body.
struct ParseLimits {
  // max_bytes: larger bodies are refused (kResourceExhausted). Default 8 MiB: a node with 64
  // soft-sliced containers on 8 chips renders ~150 KiB.
  size_t max_bytes = size_t{8} << 20;
  // max_samples: kept samples (after `keep`); more -> kResourceExhausted. Default 100,000.
  size_t max_samples = 100000;
  // max_line_bytes: longer lines are skipped. Default 16 KiB.
  size_t max_line_bytes = 16384;
  // max_labels / max_label_value_bytes: a line beyond either is skipped. Defaults 32 / 1 KiB.
  size_t max_labels = 32;
  size_t max_label_value_bytes = 1024;
};

// MetricSample: one parsed sample. Labels in the order written, values unescaped.
struct MetricSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;

  // Label: the value of label `key`, or "" when absent.
  const std::string& Label(std::string_view key) const;
};

// ParsedMetrics: the samples kept and how many sample lines were unusable.
struct ParsedMetrics {
  std::vector<MetricSample> samples;
  size_t skipped_lines = 0;
};

// ParsePrometheusText: parses `text`; `keep` (may be empty = keep all) chooses samples by
// name before their labels are stored. Returns kResourceExhausted when text.size() >
// limits.max_bytes or more than limits.max_samples samples are kept; otherwise OK with the
// samples (possibly none) and the skipped-line count.
Result<ParsedMetrics> ParsePrometheusText(
    std::string_view text, const ParseLimits& limits = {},
    const std::function<bool(std::string_view name)>& keep = nullptr);

}  // namespace npushare::dashboard
