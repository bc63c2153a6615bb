// File: config/diagnostics.h
//
// Diagnostic: one finding about a configuration file, positioned like a compiler message so
// editors can jump to it:
//   "deploy/config/device-config.yaml:42:17: error: vnpus.configs[2].templates[1].memory:
//    template memory 70000 exceeds memoryCapacity 65536"
//
// `field` is the dotted path of the offending field in the HAMi schema (stable, meant for
// tests and tools); `message` is for people and may change.
//
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace npushare::config {

enum class Severity { kWarning, kError };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string file;  // the source name given to the loader (usually the path)
  int line = 0;      // 1-based; 0 when unknown (e.g. a config built in code)
  int column = 0;    // 1-based; 0 when unknown
  std::string field;
  std::string message;
};

using Diagnostics = std::vector<Diagnostic>;

// FormatDiagnostic: "file:line:col: error: field: message". The ":line:col" part is left out
// when line is 0, and ": field" when field is empty; "warning" replaces "error" for warnings.
std::string FormatDiagnostic(const Diagnostic& d);

// Quote: `s` in double quotes for a message, shortened to `max_chars` (with "...") and with
// control characters and '"' escaped, so hostile input cannot flood or garble a terminal.
std::string Quote(std::string_view s, size_t max_chars = 64);

// CountSeverity: how many entries of `diags` have severity `s`.
int CountSeverity(const Diagnostics& diags, Severity s);

}  // namespace npushare::config
