#include "hami/internal/go_json.h"

#include <cstdio>
#include <vector>

#include "hami/go_text.h"

namespace npushare::hami::hami_internal {
namespace {

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool IsDigit(unsigned char c) {
  return c >= '0' && c <= '9';
}
bool IsHex(unsigned char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Utf8Len: length of the valid UTF-8 sequence starting at s[i], 0 if invalid.
size_t Utf8Len(std::string_view s, size_t i) {
  uint32_t cp = 0;
  return DecodeUtf8(s, i, &cp);
}

// A recursive-descent mirror of encoding/json's scanner. Each error names the byte
// and the context exactly as scanner.go does; the first error wins.
class GoScanner {
 public:
  GoScanner(std::string_view s, int max_depth) : s_(s), max_depth_(max_depth) {}

  Status Run() {
    SkipSpace();
    if (!Value(0)) {
      return InvalidArgumentError(err_);
    }
    SkipSpace();
    if (pos_ < s_.size()) {
      return ErrAt("after top-level value");
    }
    return OkStatus();
  }

 private:
  Status ErrAt(const char* context) {
    return InvalidArgumentError("invalid character " +
                                GoQuoteByte(static_cast<unsigned char>(s_[pos_])) + " " + context);
  }
  // Fail: records the error at pos_. At end of input Go's scanner feeds one extra ' '
  // (scanner.eof), so states that reject a space report it instead of "unexpected end".
  bool Fail(const char* context, bool eof_as_space = false) {
    if (pos_ >= s_.size()) {
      err_ = eof_as_space ? std::string("invalid character ' ' ") + context
                          : "unexpected end of JSON input";
    } else {
      err_ = ErrAt(context).message();
    }
    return false;
  }
  void SkipSpace() {
    while (pos_ < s_.size() && IsSpace(static_cast<unsigned char>(s_[pos_]))) {
      ++pos_;
    }
  }
  int Peek() const { return pos_ < s_.size() ? static_cast<unsigned char>(s_[pos_]) : -1; }

  bool Value(int depth) {
    const int c = Peek();
    switch (c) {
      case '{':
        return Object(depth + 1);
      case '[':
        return Array(depth + 1);
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return Number();
        }
        return Fail("looking for beginning of value");
    }
  }

  bool Object(int depth) {
    if (depth > max_depth_) {
      err_ = "exceeded max depth";
      return false;
    }
    ++pos_;  // '{'
    SkipSpace();
    if (Peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (Peek() != '"') {
        return Fail("looking for beginning of object key string");
      }
      if (!String()) {
        return false;
      }
      SkipSpace();
      if (Peek() != ':') {
        return Fail("after object key");
      }
      ++pos_;
      SkipSpace();
      if (!Value(depth)) {
        return false;
      }
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      return Fail("after object key:value pair");
    }
  }

  bool Array(int depth) {
    if (depth > max_depth_) {
      err_ = "exceeded max depth";
      return false;
    }
    ++pos_;  // '['
    SkipSpace();
    if (Peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (!Value(depth)) {
        return false;
      }
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      return Fail("after array element");
    }
  }

  bool String() {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        ++pos_;
        const int e = Peek();
        if (e == 'u') {
          ++pos_;
          for (int k = 0; k < 4; ++k) {
            if (Peek() < 0 || !IsHex(static_cast<unsigned char>(Peek()))) {
              return Fail("in \\u hexadecimal character escape", true);
            }
            ++pos_;
          }
          continue;
        }
        if (e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't' || e == '\\' || e == '/' ||
            e == '"') {
          ++pos_;
          continue;
        }
        return Fail("in string escape code", true);
      }
      if (c < 0x20) {
        return Fail("in string literal");
      }
      const size_t len = Utf8Len(s_, pos_);
      if (len == 0) {
        err_ = "invalid UTF-8 in string literal";
        return false;
      }
      pos_ += len;
    }
    return Fail("");
  }

  bool Literal(std::string_view word) {
    ++pos_;  // first letter already matched
    for (size_t k = 1; k < word.size(); ++k, ++pos_) {
      if (Peek() != static_cast<unsigned char>(word[k])) {
        context_ = "in literal " + std::string(word) + " (expecting '" + word[k] + "')";
        return Fail(context_.c_str(), true);
      }
    }
    return true;
  }

  bool Number() {
    if (Peek() == '-') {
      ++pos_;
      if (Peek() < 0 || !IsDigit(static_cast<unsigned char>(Peek()))) {
        return Fail("in numeric literal", true);
      }
    }
    if (Peek() == '0') {
      ++pos_;
    } else {
      while (Peek() >= 0 && IsDigit(static_cast<unsigned char>(Peek()))) {
        ++pos_;
      }
    }
    if (Peek() == '.') {
      ++pos_;
      if (Peek() < 0 || !IsDigit(static_cast<unsigned char>(Peek()))) {
        return Fail("after decimal point in numeric literal", true);
      }
      while (Peek() >= 0 && IsDigit(static_cast<unsigned char>(Peek()))) {
        ++pos_;
      }
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') {
        ++pos_;
      }
      if (Peek() < 0 || !IsDigit(static_cast<unsigned char>(Peek()))) {
        return Fail("in exponent of numeric literal", true);
      }
      while (Peek() >= 0 && IsDigit(static_cast<unsigned char>(Peek()))) {
        ++pos_;
      }
    }
    return true;
  }

  std::string_view s_;
  int max_depth_;
  size_t pos_ = 0;
  std::string err_;
  std::string context_;
};

}  // namespace

Status CheckGoJsonSyntax(std::string_view text, int max_depth) {
  return GoScanner(text, max_depth).Run();
}

Result<nlohmann::ordered_json> ParseGoJson(std::string_view text, size_t max_bytes, int max_depth) {
  if (text.size() > max_bytes) {
    return InvalidArgumentError("JSON value of " + std::to_string(text.size()) +
                                " bytes exceeds the limit of " + std::to_string(max_bytes));
  }
  NPUSHARE_RETURN_IF_ERROR(CheckGoJsonSyntax(text, max_depth));
  try {
    return nlohmann::ordered_json::parse(text.begin(), text.end());
  } catch (const std::exception& e) {
    // Unreachable after the syntax check unless nlohmann is stricter somewhere.
    return InvalidArgumentError(std::string("invalid JSON: ") + e.what());
  }
}

void AppendGoJsonString(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  char buf[8];
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const size_t len = Utf8Len(s, i);
    if (len == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    const std::string_view seq = s.substr(i, len);
    if (seq == "\xE2\x80\xA8") {
      out += "\\u2028";
    } else if (seq == "\xE2\x80\xA9") {
      out += "\\u2029";
    } else {
      out += seq;
    }
    i += len;
  }
  out += '"';
}

void AppendGoJsonKey(std::string& out, std::string_view key, bool* first) {
  if (!*first) {
    out += ',';
  }
  *first = false;
  out += '"';
  out += key;
  out += "\":";
}

std::optional<int64_t> GoJsonIntInRange(const nlohmann::ordered_json& v, int64_t lo, int64_t hi) {
  if (v.is_number_unsigned()) {
    const auto x = v.get<uint64_t>();
    if (hi >= 0 && x <= static_cast<uint64_t>(hi)) {
      return static_cast<int64_t>(x);
    }
    return std::nullopt;
  }
  if (v.is_number_integer()) {
    const auto x = v.get<int64_t>();
    if (x >= lo && x <= hi) {
      return x;
    }
  }
  return std::nullopt;
}

std::string GoJsonKind(const nlohmann::ordered_json& v) {
  if (v.is_string()) {
    return "string";
  }
  if (v.is_boolean()) {
    return "bool";
  }
  if (v.is_array()) {
    return "array";
  }
  if (v.is_object()) {
    return "object";
  }
  if (v.is_number()) {
    return "number " + v.dump();
  }
  return "null";
}

bool EqualFoldAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

}  // namespace npushare::hami::hami_internal
