// File: config/source_map.h
//
// SourceMap: where each field of a loaded config came from, keyed by the same dotted field
// path that diagnostics use ("vnpus.configs[2].templates[1].memory"). The loader fills it
// while decoding YAML; validation (config/config_validation.h) reads it so that semantic
// errors point at the right line without validation knowing about YAML. A config built in
// code has an empty map and its diagnostics carry line 0.
//
// The loader also marks fields whose text could not be decoded (wrong type, out of the
// storage range) as invalid, so validation does not report the same field twice.
//
// Thread safety: a plain value; const methods are safe for concurrent use.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

namespace npushare::config {

struct SourcePos {
  int line = 0;    // 1-based, 0 = unknown
  int column = 0;  // 1-based, 0 = unknown
};

class SourceMap {
 public:
  // Set: records the position of `path` (overwrites).
  void Set(std::string path, SourcePos pos) { positions_[std::move(path)] = pos; }
  // Find: the position of `path`, else of its nearest recorded ancestor
  // ("a.b[1].c" -> "a.b[1]" -> "a.b" -> "a"), else {0, 0}.
  SourcePos Find(std::string_view path) const;

  // MarkInvalid / IsInvalid: the field's text was rejected by the decoder.
  void MarkInvalid(std::string path) { invalid_.insert(std::move(path)); }
  bool IsInvalid(std::string_view path) const { return invalid_.count(std::string(path)) > 0; }

 private:
  std::map<std::string, SourcePos, std::less<>> positions_;
  std::set<std::string, std::less<>> invalid_;
};

}  // namespace npushare::config
