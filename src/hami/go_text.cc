#include "hami/go_text.h"

#include <cstdio>
#include <limits>

namespace npushare::hami {
namespace {

void AppendHex(std::string& out, const char* prefix, uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%s%0*x", prefix, digits, v);
  out += buf;
}

// AppendQuotedRune: strconv's escaping of one rune inside a quoted literal.
void AppendQuotedRune(std::string& out, uint32_t cp, std::string_view raw, char quote) {
  if (cp == static_cast<uint32_t>(quote) || cp == '\\') {
    out += '\\';
    out += static_cast<char>(cp);
    return;
  }
  switch (cp) {
    case '\a':
      out += "\\a";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\v':
      out += "\\v";
      return;
    default:
      break;
  }
  if (cp < 0x20 || cp == 0x7F) {
    AppendHex(out, "\\x", cp, 2);
  } else if ((cp >= 0x80 && cp < 0xA0) || cp == 0xAD) {
    // Not printable per Go's unicode.IsPrint (C1 controls, soft hyphen).
    AppendHex(out, "\\u", cp, 4);
  } else {
    out += raw;
  }
}

}  // namespace

size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t len = 0;
  uint32_t min = 0;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    *cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    *cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    *cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      return 0;
    }
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {
      AppendHex(out, "\\x", static_cast<unsigned char>(s[i]), 2);
      ++i;
      continue;
    }
    AppendQuotedRune(out, cp, s.substr(i, len), '"');
    i += len;
  }
  out += '"';
  return out;
}

std::string GoQuoteByte(unsigned char c) {
  if (c == '\'') {
    return "'\\''";
  }
  if (c == '"') {
    return "'\"'";
  }
  // The byte is converted to the rune U+00cc, then quoted.
  std::string raw;
  if (c < 0x80) {
    raw = std::string(1, static_cast<char>(c));
  } else {
    raw += static_cast<char>(0xC0 | (c >> 6));
    raw += static_cast<char>(0x80 | (c & 0x3F));
  }
  std::string out = "'";
  AppendQuotedRune(out, c, raw, '\'');
  out += '\'';
  return out;
}

std::string FormatGoDurationSeconds(int64_t seconds) {
  if (seconds == 0) {
    return "0s";
  }
  std::string out;
  // Work in unsigned so INT64_MIN does not overflow on negation.
  uint64_t u = seconds < 0 ? 0 - static_cast<uint64_t>(seconds) : static_cast<uint64_t>(seconds);
  if (seconds < 0) {
    out += '-';
  }
  const uint64_t h = u / 3600;
  const uint64_t m = (u / 60) % 60;
  const uint64_t s = u % 60;
  if (h > 0) {
    out += std::to_string(h) + "h" + std::to_string(m) + "m";
  } else if (m > 0) {
    out += std::to_string(m) + "m";
  }
  out += std::to_string(s) + "s";
  return out;
}

std::optional<int64_t> ParseGoInt(std::string_view s, int bits) {
  if (bits < 1 || bits > 64 || s.empty()) {
    return std::nullopt;
  }
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) {
    return std::nullopt;
  }
  // Limit on the magnitude: 2^(bits-1) for negatives, 2^(bits-1)-1 for positives.
  const uint64_t cutoff = uint64_t{1} << (bits - 1);
  const uint64_t limit = negative ? cutoff : cutoff - 1;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    const auto d = static_cast<uint64_t>(c - '0');
    if (v > limit / 10 || (v == limit / 10 && d > limit % 10)) {
      return std::nullopt;
    }
    v = v * 10 + d;
  }
  if (negative) {
    return v == cutoff ? std::numeric_limits<int64_t>::min() >> (64 - bits)
                       : -static_cast<int64_t>(v);
  }
  return static_cast<int64_t>(v);
}

std::string_view TrimGoSpace(std::string_view s) {
  auto space_len_front = [](std::string_view t) -> size_t {
    if (t.empty()) {
      return 0;
    }
    const auto c = static_cast<unsigned char>(t[0]);
    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      return 1;
    }
    if (t.size() >= 2 && c == 0xC2 &&
        (static_cast<unsigned char>(t[1]) == 0x85 || static_cast<unsigned char>(t[1]) == 0xA0)) {
      return 2;
    }
    return 0;
  };
  auto space_len_back = [](std::string_view t) -> size_t {
    if (t.empty()) {
      return 0;
    }
    const auto c = static_cast<unsigned char>(t.back());
    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      return 1;
    }
    if (t.size() >= 2 && static_cast<unsigned char>(t[t.size() - 2]) == 0xC2 &&
        (c == 0x85 || c == 0xA0)) {
      return 2;
    }
    return 0;
  };
  for (size_t n = space_len_front(s); n > 0; n = space_len_front(s)) {
    s.remove_prefix(n);
  }
  for (size_t n = space_len_back(s); n > 0; n = space_len_back(s)) {
    s.remove_suffix(n);
  }
  return s;
}

}  // namespace npushare::hami
