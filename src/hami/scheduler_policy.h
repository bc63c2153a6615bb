// File: hami/scheduler_policy.h
//
// The user's scheduling-policy annotations (hami-protocol.md §3.1, §4.4), parsed into
// data. The device sort and node choice that consume them live in src/scheduling.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hami/types.h"

namespace npushare::hami {

// ParseScoringWeights: hami.io/device-scoring-weights, "slot=<int>,core=<int>,memory=<int>":
// exactly three ','-entries, each trimmed "key=value" (value trimmed, base-10, optional
// sign), keys slot/core/memory once each, none negative, not all zero. Errors
// (kInvalidArgument) carry upstream's text: `invalid hami.io/device-scoring-weights
// annotation "<value>": <reason>` with reasons "expected slot, core, and memory weights",
// "expected key=value entries", `duplicate "k" weight`, `"k" weight must be an integer`,
// `"k" weight must not be negative`, `unknown weight "k"`, "at least one weight must be
// positive". Our only extra rule: a weight above 2^31-1 is rejected as not an integer
// (upstream accepts int64; such weights only overflow the float32 score).
Result<ScoringWeights> ParseScoringWeights(std::string_view value);

enum class NodePolicy { kBinpack, kSpread };

// ParseNodePolicy: hami.io/node-scheduler-policy. nullopt (annotation absent) -> dflt;
// exactly "spread" -> kSpread; any other value, including "" and "Spread" -> kBinpack.
NodePolicy ParseNodePolicy(std::optional<std::string_view> value, NodePolicy dflt);

// The keys a device-policy chain sorts by, in written order.
enum class DeviceSortKey { kBinpack, kSpread, kNuma };

enum class DeviceOrder {
  kBinpack,  // single "binpack": ascending score, NUMA tiebreak
  kSpread,   // single "spread", "topology-aware" or unknown: descending score
  kMutex,    // single "mutex": descending Used
  kChain,    // a ',' list or bare "numa": `chain` then Index ascending
};

struct DevicePolicy {
  DeviceOrder order = DeviceOrder::kSpread;
  std::vector<DeviceSortKey> chain;  // kChain only; empty = behave as spread
  bool has_mutex = false;            // "mutex" is one of the entries
  bool topology_aware = false;       // "topology-aware" is one of the entries
};

// ParseDevicePolicy: hami.io/gpu-scheduler-policy (or the --gpu-scheduler-policy default).
// Chain entries are trimmed; unknown entries are dropped from the chain.
DevicePolicy ParseDevicePolicy(std::string_view value);

// HasMutex: Fit must reject devices with Used > 0.
inline bool HasMutex(const DevicePolicy& p) {
  return p.has_mutex;
}

}  // namespace npushare::hami
