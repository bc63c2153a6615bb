#include "hami/scheduler_policy.h"

#include <limits>
#include <string>

#include "hami/go_text.h"

namespace npushare::hami {
namespace {

std::vector<std::string_view> SplitAll(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace

Result<ScoringWeights> ParseScoringWeights(std::string_view value) {
  auto fail = [&](const std::string& why) {
    return InvalidArgumentError(std::string("invalid ") + kDeviceScoringWeightsAnnotation +
                                " annotation " + GoQuote(value) + ": " + why);
  };
  // Count commas first so a hostile value with millions of them is rejected cheaply.
  size_t commas = 0;
  for (char c : value) {
    commas += c == ',' ? 1 : 0;
  }
  if (commas != 2) {
    return fail("expected slot, core, and memory weights");
  }
  ScoringWeights w{0, 0, 0};
  bool seen_slot = false;
  bool seen_core = false;
  bool seen_memory = false;
  for (std::string_view part : SplitAll(value, ',')) {
    const std::string_view entry = TrimGoSpace(part);
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) {
      return fail("expected key=value entries");
    }
    const std::string_view key = TrimGoSpace(entry.substr(0, eq));
    const std::string quoted_key = GoQuote(key);
    if ((key == "slot" && seen_slot) || (key == "core" && seen_core) ||
        (key == "memory" && seen_memory)) {
      return fail("duplicate " + quoted_key + " weight");
    }
    const std::optional<int64_t> weight = ParseGoInt(TrimGoSpace(entry.substr(eq + 1)), 64);
    if (!weight || *weight > std::numeric_limits<int32_t>::max()) {
      return fail(quoted_key + " weight must be an integer");
    }
    if (*weight < 0) {
      return fail(quoted_key + " weight must not be negative");
    }
    const auto v = static_cast<int32_t>(*weight);
    if (key == "slot") {
      w.slot = v;
      seen_slot = true;
    } else if (key == "core") {
      w.core = v;
      seen_core = true;
    } else if (key == "memory") {
      w.memory = v;
      seen_memory = true;
    } else {
      return fail("unknown weight " + quoted_key);
    }
  }
  if (w.slot == 0 && w.core == 0 && w.memory == 0) {
    return fail("at least one weight must be positive");
  }
  return w;
}

NodePolicy ParseNodePolicy(std::optional<std::string_view> value, NodePolicy dflt) {
  if (!value) {
    return dflt;
  }
  return *value == "spread" ? NodePolicy::kSpread : NodePolicy::kBinpack;
}

DevicePolicy ParseDevicePolicy(std::string_view value) {
  DevicePolicy p;
  const std::vector<std::string_view> parts = SplitAll(value, ',');
  for (std::string_view raw : parts) {
    const std::string_view t = TrimGoSpace(raw);
    if (t == "mutex") {
      p.has_mutex = true;
    } else if (t == "topology-aware") {
      p.topology_aware = true;
    }
  }
  if (parts.size() == 1 && value != "numa") {
    if (value == "binpack") {
      p.order = DeviceOrder::kBinpack;
    } else if (value == "mutex") {
      p.order = DeviceOrder::kMutex;
    } else {
      p.order = DeviceOrder::kSpread;
    }
    return p;
  }
  p.order = DeviceOrder::kChain;
  for (std::string_view raw : parts) {
    const std::string_view t = TrimGoSpace(raw);
    if (t == "binpack") {
      p.chain.push_back(DeviceSortKey::kBinpack);
    } else if (t == "spread") {
      p.chain.push_back(DeviceSortKey::kSpread);
    } else if (t == "numa") {
      p.chain.push_back(DeviceSortKey::kNuma);
    }
  }
  return p;
}

}  // namespace npushare::hami
