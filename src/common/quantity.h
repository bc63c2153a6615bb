// File: common/quantity.h
//
// Quantity: a Kubernetes resource.Quantity (k8s.io/apimachinery/pkg/api/resource), parsed
// with the upstream grammar and rounding so that "4096", "16Gi", "1e3", "100m" mean exactly
// what the API server means by them (k8s-apis.md §5).
//
// Representation (exact, no floating point):
//   value = (negative_ ? -1 : 1) * digits_ * 10^exp10_
// where digits_ is the decimal magnitude with no leading and no trailing zeros ("0" for
// zero), and exp10_ >= -9 because, like upstream, anything finer than 1n is rounded up
// (away from zero) to the next nano. Binary suffixes are multiplied out into digits_ at parse
// time, and binary values above 2^63-1 are capped to 2^63-1 as upstream does. Decimal values
// are not capped (upstream keeps them as big decimals); instead every accessor saturates.
// Exponents beyond +-10^15 are clamped there: the value then saturates or rounds to 1n anyway.
//
// AsInt64() reproduces upstream's fast-path rule (an int64Amount with scale >= 0), which is
// narrower than "the value is an integer": see its comment.
//
// Deliberate deviations from upstream, all on inputs no sane pod carries:
//   * Input longer than kMaxQuantityLength characters is rejected (upstream has no limit).
//   * Value()/MilliValue() saturate to the int64 range; upstream wraps or returns 0.
//   * Negative non-integers round away from zero on every path (upstream's big-decimal path
//     rounds -1n up to 0 and then to +1 in Value()).
//   * An exponent that fits int64 but not int32 is used as written (upstream truncates it
//     to int32).
//
// Thread safety: an immutable value; const methods are safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace npushare {

class Quantity {
 public:
  // Longest accepted input. Generous (a 100-digit number still parses) yet bounded so the
  // exact arithmetic stays cheap.
  static constexpr size_t kMaxQuantityLength = 128;

  // Parse: Kubernetes ParseQuantity grammar: [+|-], digits with an optional '.', then one of
  // binary SI (Ki Mi Gi Ti Pi Ei), decimal SI (n u m "" k M G T P E) or an exponent
  // (e|E followed by a signed integer). Case-sensitive, no whitespace.
  // Like upstream's scanner, a number part without digits reads as zero ("+", "-", ".",
  // "E", ".Gi"), except where upstream takes its big-decimal path (".Ei"), which rejects it;
  // the empty string is an error. Callers wanting digits must check for them themselves.
  // Returns kInvalidArgument for any malformed or over-long input. Never throws.
  static Result<Quantity> Parse(std::string_view text);

  // Value: ceil(|q|) with the sign of q (rounds away from zero), like upstream
  // ScaledValue(0): "1500m" -> 2, "0.5" -> 1. Saturates to the int64 range.
  int64_t Value() const;
  // MilliValue: q*1000 rounded away from zero, saturated to the int64 range.
  int64_t MilliValue() const;
  // AsInt64: the value when upstream's AsInt64() would succeed, else nullopt. Upstream only
  // succeeds on its int64 fast path with scale >= 0, so nullopt is returned for fractional
  // values ("1.5", "100m"), for values written with a fraction even when integral ("1.0"),
  // for fractional binary input ("0.5Gi"), for more than 18 significant digits and for
  // results that overflow int64.
  std::optional<int64_t> AsInt64() const;

  bool IsNegative() const { return negative_; }
  bool IsZero() const { return digits_ == "0"; }
  // IsInteger: the (nano-rounded) value is an exact integer.
  bool IsInteger() const { return exp10_ >= 0; }

  // original: the text given to Parse.
  const std::string& original() const { return original_; }

 private:
  Quantity() = default;
  // ScaledCeil: |q| * 10^shift rounded up, signed, saturated to int64.
  int64_t ScaledCeil(int64_t shift) const;

  bool negative_ = false;
  std::string digits_ = "0";
  int64_t exp10_ = 0;
  std::optional<int64_t> fast_int64_;
  std::string original_;
};

}  // namespace npushare
