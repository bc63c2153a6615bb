#include "common/quantity.h"

#include <limits>
#include <string>
#include <utility>

namespace npushare {
namespace {

// 128-bit intermediates keep the int64 overflow checks simple; __extension__ silences
// -Wpedantic for this GCC/Clang builtin type.
__extension__ typedef __int128 I128;
__extension__ typedef unsigned __int128 U128;

// Exponents are clamped to this magnitude: 10^(10^15) saturates every accessor and
// 10^-(10^15) rounds to 1n, exactly as the unclamped values would, and the clamp keeps all
// exponent arithmetic far from int64 overflow.
constexpr int64_t kExponentClamp = 1'000'000'000'000'000;
// Upstream rounds every value up to a multiple of 10^-9 (resource.Nano).
constexpr int64_t kNanoExp10 = -9;
// Upstream maxInt64Factors: decimal inputs with more significant digits leave the fast path.
constexpr int64_t kMaxInt64Factors = 18;
constexpr std::string_view kInt64MaxDigits = "9223372036854775807";

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsSuffixLetter(char c) {
  return std::string_view("eEinumkKMGTP").find(c) != std::string_view::npos;
}

// Scanned pieces of a quantity string, mirroring upstream parseQuantityString.
struct Scanned {
  bool positive = true;
  bool value_has_digit = false;  // whether the numeric text holds any digit (big path needs one)
  std::string_view num;          // integer digits without leading zeros; "0" if none remain
  std::string_view denom;        // fraction digits as written
  std::string_view suffix;
};

// Scan: splits `s` like upstream; false on the format errors upstream reports.
bool Scan(std::string_view s, Scanned* out) {
  size_t pos = 0;
  const size_t end = s.size();
  if (pos < end && (s[0] == '-' || s[0] == '+')) {
    out->positive = s[0] != '-';
    ++pos;
  }
  const size_t number_start = pos;
  while (pos < end && s[pos] == '0')
    ++pos;
  if (pos >= end) {
    // Only a sign and zeros: upstream returns the number "0" with no suffix.
    out->num = "0";
    out->value_has_digit = true;
    return true;
  }
  const size_t num_start = pos;
  while (pos < end && IsDigit(s[pos]))
    ++pos;
  out->num = s.substr(num_start, pos - num_start);
  if (out->num.empty())
    out->num = "0";
  if (pos < end && s[pos] == '.') {
    ++pos;
    const size_t denom_start = pos;
    while (pos < end && IsDigit(s[pos]))
      ++pos;
    out->denom = s.substr(denom_start, pos - denom_start);
  }
  for (size_t i = number_start; i < pos; ++i) {
    if (IsDigit(s[i]))
      out->value_has_digit = true;
  }
  const size_t suffix_start = pos;
  while (pos < end && IsSuffixLetter(s[pos]))
    ++pos;
  if (pos < end && (s[pos] == '-' || s[pos] == '+'))
    ++pos;
  while (pos < end && IsDigit(s[pos]))
    ++pos;
  if (pos < end)
    return false;
  out->suffix = s.substr(suffix_start);
  return true;
}

enum class Family { kDecimal, kBinary };

struct Suffix {
  Family family = Family::kDecimal;
  int64_t exponent = 0;  // power of 10 (decimal) or of 2 (binary)
};

// ParseGoInt64: strconv.ParseInt(s, 10, 64) without the base prefixes: [+-]?[0-9]+ in range.
bool ParseGoInt64(std::string_view s, int64_t* out) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty())
    return false;
  U128 v = 0;
  const U128 limit = static_cast<U128>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
  for (char c : s) {
    if (!IsDigit(c))
      return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > limit)
      return false;
  }
  *out = negative ? static_cast<int64_t>(-static_cast<I128>(v)) : static_cast<int64_t>(v);
  return true;
}

// InterpretSuffix: upstream suffixHandler.interpret.
bool InterpretSuffix(std::string_view s, Suffix* out) {
  static constexpr std::pair<std::string_view, int64_t> kDecimal[] = {
      {"n", -9}, {"u", -6}, {"m", -3}, {"", 0},   {"k", 3},
      {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  static constexpr std::pair<std::string_view, int64_t> kBinary[] = {
      {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  for (const auto& [name, exp] : kDecimal) {
    if (s == name) {
      *out = {Family::kDecimal, exp};
      return true;
    }
  }
  for (const auto& [name, exp] : kBinary) {
    if (s == name) {
      *out = {Family::kBinary, exp};
      return true;
    }
  }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    int64_t exp = 0;
    if (!ParseGoInt64(s.substr(1), &exp))
      return false;
    *out = {Family::kDecimal, exp};
    return true;
  }
  return false;
}

// Digit-string helpers. Strings hold decimal digits, most significant first.
std::string StripLeadingZeros(std::string s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == '0')
    ++i;
  s.erase(0, i);
  return s.empty() ? std::string("0") : s;
}

std::string MultiplyByPow2(const std::string& digits, int64_t power) {
  std::string r = digits;
  for (int64_t i = 0; i < power; ++i) {
    int carry = 0;
    for (size_t j = r.size(); j-- > 0;) {
      const int d = (r[j] - '0') * 2 + carry;
      r[j] = static_cast<char>('0' + d % 10);
      carry = d / 10;
    }
    if (carry != 0)
      r.insert(r.begin(), static_cast<char>('0' + carry));
  }
  return r;
}

// IncrementDigits: digits + 1.
std::string IncrementDigits(std::string r) {
  for (size_t j = r.size(); j-- > 0;) {
    if (r[j] != '9') {
      ++r[j];
      return r;
    }
    r[j] = '0';
  }
  r.insert(r.begin(), '1');
  return r;
}

// IntegerPartExceeds: whether digits*10^exp10 > limit (a digit string without leading zeros).
bool Exceeds(const std::string& digits, int64_t exp10, std::string_view limit) {
  if (digits == "0")
    return false;
  const int64_t int_len = static_cast<int64_t>(digits.size()) + exp10;
  const auto limit_len = static_cast<int64_t>(limit.size());
  if (int_len != limit_len)
    return int_len > limit_len;
  // Same number of integer digits: compare them, then any fraction makes it larger.
  std::string int_part = exp10 >= 0 ? digits + std::string(static_cast<size_t>(exp10), '0')
                                    : digits.substr(0, static_cast<size_t>(int_len));
  if (int_part != limit)
    return int_part > limit;
  return exp10 < 0;
}

// FastPathInt64: upstream's int64Amount fast path and AsInt64() on it.
std::optional<int64_t> FastPathInt64(const Scanned& sc, const Suffix& suf, bool* took_fast_path) {
  *took_fast_path = false;
  const auto num_len = static_cast<int64_t>(sc.num.size());
  const auto denom_len = static_cast<int64_t>(sc.denom.size());
  int64_t precision = 0;
  int64_t scale = 0;
  int64_t mantissa = 1;
  if (suf.family == Family::kDecimal) {
    scale = suf.exponent;
    precision = kMaxInt64Factors - (num_len + denom_len);
  } else if (denom_len == 0) {
    mantissa = int64_t{1} << suf.exponent;
    precision = 15 - num_len - suf.exponent * 3 / 10 - 1;
  } else {
    precision = -1;
  }
  if (precision < 0)
    return std::nullopt;
  scale -= denom_len;
  if (scale < kNanoExp10)
    return std::nullopt;
  // At most 18 digits here, so this fits; the product with 2^exponent is checked.
  I128 value = 0;
  for (char c : sc.num)
    value = value * 10 + (c - '0');
  for (char c : sc.denom)
    value = value * 10 + (c - '0');
  value *= mantissa;
  if (value > std::numeric_limits<int64_t>::max())
    return std::nullopt;
  *took_fast_path = true;
  if (!sc.positive)
    value = -value;
  if (scale < 0)
    return std::nullopt;
  for (int64_t i = 0; i < scale && value != 0; ++i) {
    value *= 10;
    if (value > std::numeric_limits<int64_t>::max() ||
        value < std::numeric_limits<int64_t>::min()) {
      return std::nullopt;
    }
  }
  return static_cast<int64_t>(value);
}

}  // namespace

Result<Quantity> Quantity::Parse(std::string_view text) {
  if (text.empty())
    return InvalidArgumentError("quantity is empty");
  if (text.size() > kMaxQuantityLength) {
    return InvalidArgumentError("quantity longer than " + std::to_string(kMaxQuantityLength) +
                                " characters");
  }
  const std::string shown(text);
  Scanned sc;
  if (!Scan(text, &sc)) {
    return InvalidArgumentError("quantity \"" + shown + "\" is not of the form <number><suffix>");
  }
  Suffix suf;
  if (!InterpretSuffix(sc.suffix, &suf)) {
    return InvalidArgumentError("quantity \"" + shown + "\" has an unknown suffix \"" +
                                std::string(sc.suffix) + "\"");
  }
  if (suf.family == Family::kDecimal) {
    if (suf.exponent > kExponentClamp)
      suf.exponent = kExponentClamp;
    if (suf.exponent < -kExponentClamp)
      suf.exponent = -kExponentClamp;
  }

  Quantity q;
  q.original_ = shown;
  bool fast = false;
  q.fast_int64_ = FastPathInt64(sc, suf, &fast);
  if (!fast && !sc.value_has_digit) {
    // Upstream's big-decimal path cannot parse a number without digits (".Ei").
    return InvalidArgumentError("quantity \"" + shown + "\" has no digits");
  }

  std::string digits = StripLeadingZeros(std::string(sc.num) + std::string(sc.denom));
  int64_t exp10 = -static_cast<int64_t>(sc.denom.size());
  if (suf.family == Family::kDecimal) {
    exp10 += suf.exponent;
  } else {
    digits = MultiplyByPow2(digits, suf.exponent);
  }
  if (digits == "0") {
    q.negative_ = false;
    q.digits_ = "0";
    q.exp10_ = 0;
    return q;
  }
  while (digits.size() > 1 && digits.back() == '0') {
    digits.pop_back();
    ++exp10;
  }
  if (exp10 < kNanoExp10) {
    // Round up to the next nano: the last kept digit is bumped because the dropped part is
    // non-zero (trailing zeros were stripped above).
    const int64_t drop = kNanoExp10 - exp10;
    if (drop >= static_cast<int64_t>(digits.size())) {
      digits = "1";
    } else {
      digits = IncrementDigits(digits.substr(0, digits.size() - static_cast<size_t>(drop)));
    }
    exp10 = kNanoExp10;
    while (digits.size() > 1 && digits.back() == '0') {
      digits.pop_back();
      ++exp10;
    }
  }
  if (suf.family == Family::kBinary && Exceeds(digits, exp10, kInt64MaxDigits)) {
    digits = std::string(kInt64MaxDigits);
    exp10 = 0;
  }
  q.negative_ = !sc.positive;
  q.digits_ = std::move(digits);
  q.exp10_ = exp10;
  return q;
}

int64_t Quantity::ScaledCeil(int64_t shift) const {
  if (IsZero())
    return 0;
  constexpr size_t kMaxDigits = 20;  // anything longer is beyond int64 anyway
  const int64_t e = exp10_ + shift;
  bool saturated = false;
  U128 mag = 0;
  if (e >= 0) {
    if (static_cast<int64_t>(digits_.size()) + e > static_cast<int64_t>(kMaxDigits)) {
      saturated = true;
    } else {
      for (char c : digits_)
        mag = mag * 10 + static_cast<unsigned>(c - '0');
      for (int64_t i = 0; i < e; ++i)
        mag *= 10;
    }
  } else {
    const int64_t int_len = static_cast<int64_t>(digits_.size()) + e;
    if (int_len > static_cast<int64_t>(kMaxDigits)) {
      saturated = true;
    } else {
      for (int64_t i = 0; i < int_len; ++i) {
        mag = mag * 10 + static_cast<unsigned>(digits_[static_cast<size_t>(i)] - '0');
      }
      mag += 1;  // the dropped fraction is non-zero: round away from zero
    }
  }
  const auto max = static_cast<U128>(std::numeric_limits<int64_t>::max());
  if (negative_) {
    if (saturated || mag > max + 1)
      return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(-static_cast<I128>(mag));
  }
  if (saturated || mag > max)
    return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(mag);
}

int64_t Quantity::Value() const {
  return ScaledCeil(0);
}

int64_t Quantity::MilliValue() const {
  return ScaledCeil(3);
}

std::optional<int64_t> Quantity::AsInt64() const {
  return fast_int64_;
}

}  // namespace npushare
