#include "dashboard/prometheus_parser.h"

#include <charconv>
#include <cmath>
#include <optional>

namespace npushare::dashboard {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) {
  return IsNameStart(c) || (c >= '0' && c <= '9');
}
bool IsLabelStart(char c) {
  return c != ':' && IsNameStart(c);
}
bool IsLabelChar(char c) {
  return c != ':' && IsNameChar(c);
}

void SkipSpaces(std::string_view line, size_t& i) {
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
    ++i;
  }
}

// ParseValue: a float token (Go's ParseFloat spellings Prometheus writes); nullopt if bad.
std::optional<double> ParseValue(std::string_view tok) {
  if (tok == "NaN") {
    return std::nan("");
  }
  if (tok == "+Inf" || tok == "Inf") {
    return HUGE_VAL;
  }
  if (tok == "-Inf") {
    return -HUGE_VAL;
  }
  if (!tok.empty() && tok.front() == '+') {
    tok.remove_prefix(1);
  }
  if (tok.empty() || tok.size() > 64) {
    return std::nullopt;
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  if (ec != std::errc() || ptr != tok.data() + tok.size()) {
    return std::nullopt;
  }
  return v;
}

bool IsInteger(std::string_view tok) {
  if (!tok.empty() && tok.front() == '-') {
    tok.remove_prefix(1);
  }
  if (tok.empty() || tok.size() > 20) {
    return false;
  }
  for (char c : tok) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

// ParseSampleLine: one non-comment, non-blank line. false = malformed (or not kept: then
// *kept is false and the function returns true).
bool ParseSampleLine(std::string_view line, const ParseLimits& limits,
                     const std::function<bool(std::string_view)>& keep, MetricSample& out,
                     bool& kept) {
  kept = false;
  size_t i = 0;
  if (i >= line.size() || !IsNameStart(line[i])) {
    return false;
  }
  while (i < line.size() && IsNameChar(line[i])) {
    ++i;
  }
  std::string_view name = line.substr(0, i);
  const bool want = !keep || keep(name);
  out.labels.clear();
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      SkipSpaces(line, i);
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      if (i >= line.size() || !IsLabelStart(line[i])) {
        return false;
      }
      const size_t ls = i;
      while (i < line.size() && IsLabelChar(line[i])) {
        ++i;
      }
      std::string_view lname = line.substr(ls, i - ls);
      SkipSpaces(line, i);
      if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
        return false;
      }
      i += 2;
      std::string value;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= line.size()) {
            return false;
          }
          char e = line[i++];
          if (e == '\\') {
            c = '\\';
          } else if (e == '"') {
            c = '"';
          } else if (e == 'n') {
            c = '\n';
          } else {
            return false;
          }
        }
        if (value.size() >= limits.max_label_value_bytes) {
          return false;
        }
        value += c;
      }
      if (!closed || out.labels.size() >= limits.max_labels) {
        return false;
      }
      for (const auto& [k, v] : out.labels) {
        if (k == lname) {
          return false;
        }
      }
      // Names are kept even for unwanted samples: the duplicate check above needs them.
      out.labels.emplace_back(std::string(lname), want ? std::move(value) : std::string());
      SkipSpaces(line, i);
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      SkipSpaces(line, i);
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      return false;
    }
  }
  // value [timestamp]
  if (i >= line.size() || (line[i] != ' ' && line[i] != '\t')) {
    return false;
  }
  SkipSpaces(line, i);
  size_t vs = i;
  while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
    ++i;
  }
  std::optional<double> v = ParseValue(line.substr(vs, i - vs));
  if (!v.has_value()) {
    return false;
  }
  SkipSpaces(line, i);
  if (i < line.size()) {
    size_t ts = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    if (!IsInteger(line.substr(ts, i - ts))) {
      return false;
    }
    SkipSpaces(line, i);
    if (i < line.size()) {
      return false;
    }
  }
  if (!std::isfinite(*v)) {
    return false;
  }
  if (want) {
    out.name.assign(name);
    out.value = *v;
    kept = true;
  }
  return true;
}

}  // namespace

const std::string& MetricSample::Label(std::string_view key) const {
  static const std::string* const kEmpty = new std::string();
  for (const auto& [k, v] : labels) {
    if (k == key) {
      return v;
    }
  }
  return *kEmpty;
}

Result<ParsedMetrics> ParsePrometheusText(std::string_view text, const ParseLimits& limits,
                                          const std::function<bool(std::string_view)>& keep) {
  if (text.size() > limits.max_bytes) {
    return ResourceExhaustedError("metrics body of " + std::to_string(text.size()) +
                                  " bytes is over the limit of " +
                                  std::to_string(limits.max_bytes));
  }
  ParsedMetrics out;
  MetricSample sample;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    size_t lead = 0;
    SkipSpaces(line, lead);
    line.remove_prefix(lead);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    bool kept = false;
    if (line.size() > limits.max_line_bytes || !ParseSampleLine(line, limits, keep, sample, kept)) {
      ++out.skipped_lines;
      continue;
    }
    if (!kept) {
      continue;
    }
    if (out.samples.size() >= limits.max_samples) {
      return ResourceExhaustedError("metrics body has more than " +
                                    std::to_string(limits.max_samples) + " wanted samples");
    }
    out.samples.push_back(std::move(sample));
    sample = MetricSample();
  }
  return out;
}

}  // namespace npushare::dashboard
