// Helpers shared by the config tests: find diagnostics by field instead of by message text.
#pragma once

#include <string>
#include <string_view>

#include "config/diagnostics.h"

namespace npushare::config::testing {

// FindDiag: the first diagnostic with `field` and `severity`, or nullptr.
inline const Diagnostic* FindDiag(const Diagnostics& diags, std::string_view field,
                                  Severity severity) {
  for (const auto& d : diags) {
    if (d.field == field && d.severity == severity)
      return &d;
  }
  return nullptr;
}

inline int CountField(const Diagnostics& diags, std::string_view field) {
  int n = 0;
  for (const auto& d : diags) {
    if (d.field == field)
      ++n;
  }
  return n;
}

inline std::string Dump(const Diagnostics& diags) {
  std::string s;
  for (const auto& d : diags)
    s += FormatDiagnostic(d) + "\n";
  return s;
}

}  // namespace npushare::config::testing
