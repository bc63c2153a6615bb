#include "config/diagnostics.h"

namespace npushare::config {

std::string FormatDiagnostic(const Diagnostic& d) {
  std::string out = d.file;
  if (d.line > 0) {
    out += ":" + std::to_string(d.line);
    if (d.column > 0) {
      out += ":" + std::to_string(d.column);
    }
  }
  out += d.severity == Severity::kError ? ": error: " : ": warning: ";
  if (!d.field.empty()) {
    out += d.field + ": ";
  }
  out += d.message;
  return out;
}

std::string Quote(std::string_view s, size_t max_chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == max_chars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

int CountSeverity(const Diagnostics& diags, Severity s) {
  int n = 0;
  for (const auto& d : diags) {
    if (d.severity == s) {
      ++n;
    }
  }
  return n;
}

}  // namespace npushare::config
