// File: config/internal/yaml_input.h  (internal to src/config; includes yaml-cpp)
//
// Hostile-input-safe YAML loading for the config loader, and the lookup of a config either
// at the top level of a file or embedded in a Kubernetes ConfigMap's `data`.
//
// Why a pre-scan: yaml-cpp builds a node graph of a few hundred bytes per node and resolves
// aliases by sharing nodes, so a small file can cost a lot of memory or make a naive walk
// explode. Every text is first run through yaml-cpp's event parser, which builds nothing,
// with limits on nesting depth, alias count and node count; only then is it loaded.
// yaml-cpp throws; every call here catches and reports a YamlError instead.
//
// Thread safety: stateless functions; safe to call concurrently.
#pragma once

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/source_map.h"

namespace npushare::config::internal {

struct YamlLimits {
  size_t max_bytes =
      size_t{4} << 20;  // 4 MiB: the largest ConfigMap the API server stores is 1 MiB
  int max_depth = 32;   // our schemas nest 5 levels deep
  int max_aliases = 64;
  int max_nodes = 200000;
};

// LineMapping: turns a yaml-cpp mark (0-based, in the text that was parsed) into a 1-based
// position in the original file. For a config embedded in a literal block scalar (`|`,
// `|-`) the mapping is exact: shift lines by the scalar's first content line and columns by
// its indentation. For any other scalar style the lines cannot be mapped and every position
// becomes the scalar's own position (`anchor`).
struct LineMapping {
  int line_offset = 0;
  int column_offset = 0;
  bool exact = true;
  SourcePos anchor;

  SourcePos Map(int line0, int column0) const;
};

struct YamlError {
  SourcePos pos;
  std::string message;
};

// LoadYamlDocuments: every document of `text`, after the limit pre-scan. On failure returns
// false, fills *error (position already mapped through `mapping`) and leaves *docs empty.
bool LoadYamlDocuments(std::string_view text, const YamlLimits& limits, const LineMapping& mapping,
                       std::vector<YAML::Node>* docs, YamlError* error);

// LocatedConfig: the mapping node whose key `top_key` holds the config, and how to map its
// marks back into the file.
struct LocatedConfig {
  YAML::Node root;
  LineMapping mapping;
  bool embedded = false;  // found inside a ConfigMap's data
};

enum class LocateResult { kFound, kNotFound, kError };

// LocateConfig: looks through `docs` (parsed from `text`) for a map with key `top_key`
// ("vnpus" / "nodes") or a map whose `data.<data_key>` string ("device-config.yaml" /
// "node-config.yaml") parses to such a map. More than one match is an error, as is a
// data entry that is not a string or does not hold `top_key`.
LocateResult LocateConfig(std::string_view text, const std::vector<YAML::Node>& docs,
                          std::string_view top_key, std::string_view data_key,
                          const YamlLimits& limits, LocatedConfig* out, YamlError* error);

// PosOf: position of `node` mapped through `mapping`; {0, 0} for nodes without a mark.
SourcePos PosOf(const YAML::Node& node, const LineMapping& mapping);

// ChildOf: the value of scalar key `key` in mapping `node`, or an undefined Node when `node`
// is not a mapping or lacks the key. Unlike yaml-cpp's operator[], whose result for a missing
// key throws on most uses, the result is always safe to inspect.
YAML::Node ChildOf(const YAML::Node& node, std::string_view key);

}  // namespace npushare::config::internal
