// File: sim/npu/state/node_config.h
//
// The npu-sim node description (YAML) and its translation to an initial state file.
//
// Example (every key but `cards` is optional):
//   version: 1
//   driver_version: "25.5.2"
//   model: 910B3              # default model for every card
//   cards:                    # a list, or a count: `cards: 8`
//     - id: 0                 # NPU ID; may be sparse (0, 32, 96 ...)
//       model: 910B3
//       chips:
//         - memory_mb: 65536
//           aicore: 20
//           aicpu: 7
//           reserved_mb: 4096
//           die_id: [0x0A1B2C3D, 1, 2, 3, 4]
//           health: critical  # ok | warning | alarm | critical
//           error_codes: [0x80E01801]
//           recover_after_ms: 2000   # becomes healthy this long after init
//           temperature_c: 40
//           power_w: 93.6
//
// Limits: at most 64 chips in total, 64 cards, card ids < 256, at most 8 error codes.
// Unknown keys are rejected so a typo never silently becomes a default.
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "state/state_layout.h"

namespace npushare::sim {

struct ChipSpec {
  std::optional<uint64_t> memory_mb;
  std::optional<uint64_t> reserved_mb;
  std::optional<uint32_t> aicore;
  std::optional<uint32_t> aicpu;
  std::optional<std::array<uint32_t, 5>> die_id;
  uint32_t health = 0;
  std::vector<uint32_t> error_codes;
  uint64_t recover_after_ms = 0;  // 0 = no scheduled recovery
  int32_t temperature_c = 40;
  double power_w = 93.6;
};

struct CardSpec {
  uint32_t id = 0;
  int model_index = -1;
  std::vector<ChipSpec> chips;  // empty = model default count, all defaults
};

struct NodeSpec {
  std::string driver_version = "25.5.2";
  std::vector<CardSpec> cards;
};

// ParseNodeYaml: parses and validates a node description. kInvalidArgument on malformed YAML,
// unknown keys, unknown models or values out of range; the message names the offending key.
Result<NodeSpec> ParseNodeYaml(const std::string& text);

// ParseHealth: "ok"/"warning"/"alarm"/"critical" -> 0..3; kInvalidArgument otherwise.
Result<uint32_t> ParseHealth(const std::string& word);

// BuildInitialState: the state file contents for `spec` (dynamic fields zeroed). Die ids that
// are not given are derived deterministically from (card, chip); chip 0's first word is kept
// below 0x10000000 so consumers' zero-padding is exercised.
std::unique_ptr<NpuSimState> BuildInitialState(const NodeSpec& spec, uint64_t now_ns);

}  // namespace npushare::sim
