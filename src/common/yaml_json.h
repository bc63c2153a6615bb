// File: common/yaml_json.h
//
// YAML -> JSON: Kubernetes manifests are YAML on disk and JSON on the wire; the
// code that reads them works on nlohmann::json. Multi-document streams ("---")
// yield one JSON value per non-empty document.
//
// Scalars: quoted scalars stay strings; plain scalars become null/bool/integer/
// float when they read as such in YAML 1.2 core schema terms (null, true/false,
// decimal integers, floats), otherwise strings. Anchors and aliases are resolved
// by yaml-cpp; the converter bounds depth and total node count so that alias
// bombs and deeply nested input fail with kInvalidArgument instead of exhausting
// memory or stack.
//
// Thread safety: pure function.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace npushare {

struct YamlLimits {
  size_t max_depth = 64;
  size_t max_nodes = 1'000'000;
};

// ParseYamlDocuments: kInvalidArgument with "line:col" on a YAML syntax error or a limit.
Result<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text,
                                                       const YamlLimits& limits = {});

}  // namespace npushare
