// File: config/internal/decoders.h  (internal to src/config)
//
// Schema decoders: walk the YAML of a device or node config (HAMi schema,
// hami-protocol.md §7), fill the value types and report type-level problems through the
// DecodeContext. Semantic rules (required fields, ranges, duplicates, cross-field checks)
// live in config/config_validation.h so that they also apply to configs built in code.
//
// Each decoder reads only keys of its schema and bounded list lengths, so the work is
// bounded even when YAML aliases make the node graph share subtrees.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/device_config.h"
#include "config/internal/yaml_fields.h"
#include "config/node_config.h"

namespace npushare::config::internal {

// List limits, far above any real cluster.
inline constexpr size_t kMaxChips = 256;
inline constexpr size_t kMaxTemplatesPerChip = 64;
inline constexpr size_t kMaxNodes = 10000;
inline constexpr size_t kMaxFilterEntries = 1024;

// DecodeDeviceConfig: `root` is the mapping holding `vnpus`.
void DecodeDeviceConfig(const YAML::Node& root, DecodeContext& ctx, DeviceConfig* out);
// DecodeNodeConfig: `root` is the mapping holding `nodes`.
void DecodeNodeConfig(const YAML::Node& root, DecodeContext& ctx, NodeConfig* out);

}  // namespace npushare::config::internal
