// File: config/internal/yaml_fields.h  (internal to src/config; includes yaml-cpp)
//
// DecodeContext: strict, typed reading of YAML mappings into config values, reporting every
// problem as a Diagnostic (never stopping at the first) and recording field positions in a
// SourceMap. The rules follow what upstream's gopkg.in/yaml.v2 decoding accepts, made
// stricter where yaml.v2 silently guesses:
//   * keys are case-sensitive; an unknown key is a warning (yaml.v2 ignores it), with a hint
//     when it matches a known key ignoring case; a duplicate key is an error (as in yaml.v2);
//   * integers are plain decimal scalars ([+-]?[0-9]+); a quoted "4096", 4096.0, 0x1000 or
//     1_000 is an error;
//   * booleans are true/false (any case); YAML 1.1 words (yes/no/on/off/y/n), which yaml.v2
//     also reads as booleans, are accepted with a warning;
//   * strings are any scalar; a null value (`key:` or `key: ~`) counts as absent.
//
// Thread safety: not thread-safe; one context per load.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostics.h"
#include "config/internal/yaml_input.h"
#include "config/source_map.h"

namespace npushare::config::internal {

// MapEntries: the entries of one YAML mapping, in file order.
struct MapEntries {
  std::vector<std::pair<std::string, YAML::Node>> entries;
  // Find: the value of `key` if present and not null, else nullptr.
  const YAML::Node* Find(std::string_view key) const;
};

class DecodeContext {
 public:
  // All pointers must outlive the context.
  DecodeContext(std::string source, LineMapping mapping, SourceMap* positions, Diagnostics* diags)
      : source_(std::move(source)), mapping_(mapping), positions_(positions), diags_(diags) {}

  SourcePos PosOf(const YAML::Node& node) const;
  void Report(Severity severity, SourcePos pos, std::string field, std::string message);
  void Error(SourcePos pos, std::string field, std::string message) {
    Report(Severity::kError, pos, std::move(field), std::move(message));
  }
  void Warning(SourcePos pos, std::string field, std::string message) {
    Report(Severity::kWarning, pos, std::move(field), std::move(message));
  }

  // ReadMap: requires `node` to be a mapping (else an error, returns false). Records the
  // position of `path`, reports duplicate keys (error), non-scalar keys (error) and keys not
  // in `known` (warning), and returns the entries in *out.
  bool ReadMap(const YAML::Node& node, const std::string& path,
               std::initializer_list<std::string_view> known, MapEntries* out);

  // The typed readers return nullopt when the key is absent, null or invalid; an invalid
  // value is reported and its field marked invalid in the SourceMap.
  std::optional<std::string> String(const MapEntries& map, std::string_view key,
                                    const std::string& path);
  // Int: a decimal integer within [min, max] (the storage range of the C++ field; semantic
  // limits are validation's job).
  std::optional<int64_t> Int(const MapEntries& map, std::string_view key, const std::string& path,
                             int64_t min, int64_t max);
  std::optional<bool> Bool(const MapEntries& map, std::string_view key, const std::string& path);
  // Sequence: the sequence under `key`, or nullopt if absent/null; a non-sequence is an error.
  // More than `max_items` entries is an error (the first max_items are still returned).
  std::optional<YAML::Node> Sequence(const MapEntries& map, std::string_view key,
                                     const std::string& path, size_t max_items);

  // Scalar readers for sequence items (same rules as above).
  std::optional<std::string> StringValue(const YAML::Node& node, const std::string& path);
  std::optional<int64_t> IntValue(const YAML::Node& node, const std::string& path, int64_t min,
                                  int64_t max);

  const std::string& source() const { return source_; }
  SourceMap& positions() { return *positions_; }

 private:
  void Invalid(const YAML::Node& node, const std::string& path, std::string message);

  std::string source_;
  LineMapping mapping_;
  SourceMap* positions_;
  Diagnostics* diags_;
};

// Path helpers: Join("a", "b") == "a.b", Index("a", 2) == "a[2]".
std::string Join(const std::string& path, std::string_view key);
std::string Index(const std::string& path, size_t i);

}  // namespace npushare::config::internal
