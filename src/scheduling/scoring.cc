#include "scheduling/scoring.h"

#include <algorithm>
#include <map>

namespace npushare::scheduling {
namespace {

// Returns <0, 0, >0 like a comparator for one sort key.
enum class Key { kBinpack, kSpread, kNuma, kMutex };

int CompareKey(const DeviceUsage& a, const DeviceUsage& b, Key key) {
  switch (key) {
    case Key::kBinpack:
      return a.score < b.score ? -1 : (a.score > b.score ? 1 : 0);
    case Key::kSpread:
      return a.score > b.score ? -1 : (a.score < b.score ? 1 : 0);
    case Key::kNuma:
      return a.numa < b.numa ? -1 : (a.numa > b.numa ? 1 : 0);
    case Key::kMutex:
      return a.used > b.used ? -1 : (a.used < b.used ? 1 : 0);
    default:
      return 0;
  }
}

}  // namespace

std::string_view NodePolicyName(NodePolicy p) {
  return p == NodePolicy::kSpread ? "spread" : "binpack";
}

namespace scoring_internal {

bool DeviceLessGeneral(const DeviceUsage& a, const DeviceUsage& b, const DevicePolicy& policy,
                       bool numa_bind) {
  // numa-bind forces the NUMA key first (ascending) except under mutex, whose busy-first order
  // upstream's Less() checks before numa-bind. Binpack and spread are handled in DeviceLess.
  if (numa_bind && policy.order != hami::DeviceOrder::kMutex) {
    int c = CompareKey(a, b, Key::kNuma);
    if (c != 0) {
      return c < 0;
    }
  }
  Key primary = Key::kSpread;
  switch (policy.order) {
    case hami::DeviceOrder::kBinpack:
      primary = Key::kBinpack;
      break;
    case hami::DeviceOrder::kMutex:
      primary = Key::kMutex;
      break;
    case hami::DeviceOrder::kChain: {
      // The written chain, spread when empty, then Index ascending. (No allocation: this
      // runs for every comparison of every candidate node.)
      if (policy.chain.empty()) {
        int c = CompareKey(a, b, Key::kSpread);
        if (c != 0) {
          return c < 0;
        }
      }
      for (auto k : policy.chain) {
        const Key key = k == hami::DeviceSortKey::kBinpack  ? Key::kBinpack
                        : k == hami::DeviceSortKey::kSpread ? Key::kSpread
                                                            : Key::kNuma;
        int c = CompareKey(a, b, key);
        if (c != 0) {
          return c < 0;
        }
      }
      return a.index < b.index;
    }
    case hami::DeviceOrder::kSpread:
    default:
      primary = Key::kSpread;
      break;
  }
  int c = CompareKey(a, b, primary);
  if (c != 0) {
    return c < 0;
  }
  return CompareKey(a, b, Key::kNuma) < 0;
}

}  // namespace scoring_internal

namespace {

// ScoreOf: the float32 formula, shared by DeviceScore and DeviceScoreOne so both compute
// bit-identical scores.
float ScoreOf(const DeviceUsage& d, int64_t req, int64_t core, int64_t mem,
              const hami::ScoringWeights& weights) {
  const float slot = static_cast<float>(weights.slot) * static_cast<float>(req + d.used) /
                     static_cast<float>(d.count);
  const float cores = static_cast<float>(weights.core) * static_cast<float>(core + d.usedcores) /
                      static_cast<float>(d.totalcore);
  const float memory = static_cast<float>(weights.memory) * static_cast<float>(mem + d.usedmem) /
                       static_cast<float>(d.totalmem);
  return 10.0f * (slot + cores + memory);
}

}  // namespace

float DeviceScoreOne(const DeviceUsage& d, const hami::ContainerDeviceRequest& r,
                     const hami::ScoringWeights& weights) {
  if (d.count == 0 || d.totalcore == 0 || d.totalmem == 0) {
    return 0.0f;
  }
  const int64_t mem = r.mem_percentage_req != 0 && r.mem_percentage_req != 101
                          ? d.totalmem * r.mem_percentage_req / 100
                          : int64_t{r.memreq};
  return ScoreOf(d, 1, r.coresreq, mem, weights);
}

float DeviceScore(const DeviceUsage& d, const std::vector<hami::ContainerDeviceRequest>& requests,
                  const hami::ScoringWeights& weights) {
  if (d.count == 0 || d.totalcore == 0 || d.totalmem == 0) {
    return 0.0f;
  }
  int64_t req = 0, core = 0, mem = 0;
  for (const auto& r : requests) {
    if (r.type != d.type) {
      continue;
    }
    ++req;
    core += r.coresreq;
    if (r.mem_percentage_req != 0 && r.mem_percentage_req != 101) {
      mem += d.totalmem * r.mem_percentage_req / 100;
    } else {
      mem += r.memreq;
    }
  }
  return ScoreOf(d, req, core, mem, weights);
}

void SortDevices(DeviceUsageList& devices,
                 const std::vector<hami::ContainerDeviceRequest>& requests,
                 const hami::ScoringWeights& weights, const DevicePolicy& policy, bool numa_bind) {
  for (auto& d : devices) {
    d.score = DeviceScore(d, requests, weights);
  }
  // A node has a handful of chips: a stable insertion sort beats std::stable_sort, which
  // allocates a buffer on every call (this runs for every candidate node of every pod).
  for (size_t i = 1; i < devices.size(); ++i) {
    DeviceUsage key = devices[i];
    size_t j = i;
    while (j > 0 && DeviceLess(key, devices[j - 1], policy, numa_bind)) {
      devices[j] = devices[j - 1];
      --j;
    }
    devices[j] = key;
  }
}

NodeCapacitySums SumDevices(const DeviceUsageList& devices) {
  NodeCapacitySums s;
  for (const auto& d : devices) {
    s.Add(d);
  }
  return s;
}

float NodeUsageScore(const NodeCapacitySums& s) {
  if (s.count == 0 || s.totalcore == 0 || s.totalmem == 0) {
    return 0.0f;
  }
  const float v = static_cast<float>(s.used) / static_cast<float>(s.count) +
                  static_cast<float>(s.usedcores) / static_cast<float>(s.totalcore) +
                  static_cast<float>(s.usedmem) / static_cast<float>(s.totalmem);
  return 10.0f * v;
}

std::optional<float> TopologyShare(std::span<const TopologyDevice> devices) {
  if (devices.empty()) {
    return 0.0f;
  }
  int best = 0;
  for (size_t i = 0; i < devices.size(); ++i) {
    if (!devices[i].has_custom_info || !devices[i].network_id) {
      return std::nullopt;
    }
    int same = 0;
    for (const auto& other : devices) {
      same += other.network_id == devices[i].network_id ? 1 : 0;
    }
    best = std::max(best, same);
  }
  return static_cast<float>(best) / static_cast<float>(devices.size());
}

float TopologyScore(std::string_view cw,
                    const std::vector<std::vector<TopologyDevice>>& containers) {
  if (cw.substr(0, 9) != "Ascend910") {
    return 0.0f;
  }
  float sum = 0.0f;
  for (const auto& devs : containers) {
    std::optional<float> share = TopologyShare(devs);
    if (!share) {
      return 0.0f;
    }
    sum += *share;
  }
  return 10.0f * sum;
}

float CombineNodeScore(float usage_score, float topology_bonus, NodePolicy policy) {
  return policy == NodePolicy::kSpread ? usage_score - topology_bonus
                                       : usage_score + topology_bonus;
}

std::optional<size_t> SelectNode(const std::vector<ScoredNode>& nodes, NodePolicy policy) {
  if (nodes.empty()) {
    return std::nullopt;
  }
  size_t best = 0;
  for (size_t i = 1; i < nodes.size(); ++i) {
    const bool better = policy == NodePolicy::kSpread ? nodes[i].score < nodes[best].score
                                                      : nodes[i].score > nodes[best].score;
    if (better) {
      best = i;
    }
  }
  return best;
}

}  // namespace npushare::scheduling
