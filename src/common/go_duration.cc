#include "common/go_duration.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>

namespace npushare {
namespace {

constexpr size_t kMaxChars = 64;
constexpr double kMaxNanos = 1e18;  // fits int64 with room to spare

bool IsNumberChar(char c) {
  return (c >= '0' && c <= '9') || c == '.';
}

}  // namespace

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  if (text.empty() || text.size() > kMaxChars) {
    return InvalidArgumentError("invalid duration \"" + std::string(text) + "\"");
  }
  if (text == "0") {
    return std::chrono::nanoseconds(0);
  }
  static const std::map<std::string, double, std::less<>> kUnitNanos = {
      {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    while (i < text.size() && IsNumberChar(text[i])) {
      ++i;
    }
    if (i == start) {
      return InvalidArgumentError("invalid duration \"" + std::string(text) + "\"");
    }
    const std::string number(text.substr(start, i - start));
    if (std::count(number.begin(), number.end(), '.') > 1 || number == ".") {
      return InvalidArgumentError("invalid duration \"" + std::string(text) + "\"");
    }
    const size_t unit_start = i;
    while (i < text.size() && !IsNumberChar(text[i])) {
      ++i;
    }
    auto unit = kUnitNanos.find(text.substr(unit_start, i - unit_start));
    if (unit == kUnitNanos.end()) {
      return InvalidArgumentError("invalid duration \"" + std::string(text) +
                                  "\": missing or unknown unit");
    }
    total += std::strtod(number.c_str(), nullptr) * unit->second;
    if (!(total <= kMaxNanos)) {
      return InvalidArgumentError("duration \"" + std::string(text) + "\" is too large");
    }
  }
  return std::chrono::nanoseconds(std::llround(total));
}

}  // namespace npushare
