// File: scheduling/scoring.h
//
// Device and node scoring and ordering (hami-protocol.md §4.4).
//
//   DeviceScore     10 x (wSlot(req+Used)/Count + wCore(core+Usedcores)/Totalcore
//                         + wMem(mem+Usedmem)/Totalmem), float32, 0 on a zero capacity
//   SortDevices     orders a node's devices by the device policy; Fit consumes the
//                   list from the END, so the preferred device goes last
//   NodeUsageScore  10 x (sum Used/sum Count + sum Usedcores/sum Totalcore
//                         + sum Usedmem/sum Totalmem), before the pod is added
//   TopologyScore   Ascend's ScoreNode bonus: 10 x sum over containers of the
//                   largest same-NetworkID share (Ascend910* only)
//   CombineNodeScore usage score plus the topology bonus, made policy-neutral
//                   (npushare fix, docs/compat.md): under spread the bonus is
//                   subtracted, so good topology is preferred under both policies
//   SelectNode      binpack: highest score; spread: lowest; ties: first in input order
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hami/scheduler_policy.h"
#include "hami/types.h"
#include "scheduling/device_usage.h"

namespace npushare::scheduling {

// Policies are parsed from annotations in hami/scheduler_policy.h; this file orders by them.
using hami::DevicePolicy;
using hami::NodePolicy;

std::string_view NodePolicyName(NodePolicy p);

namespace scoring_internal {
// DeviceLessGeneral: DeviceLess for every policy (defined in scoring.cc).
bool DeviceLessGeneral(const DeviceUsage& a, const DeviceUsage& b, const DevicePolicy& policy,
                       bool numa_bind);
}  // namespace scoring_internal

// DeviceLess: strict weak ordering used by SortDevices. Inline for the two common policies
// (Filter sorts every candidate node's chips with it); the rest is DeviceLessGeneral.
inline bool DeviceLess(const DeviceUsage& a, const DeviceUsage& b, const DevicePolicy& policy,
                       bool numa_bind) {
  if (policy.order != hami::DeviceOrder::kSpread && policy.order != hami::DeviceOrder::kBinpack) {
    return scoring_internal::DeviceLessGeneral(a, b, policy, numa_bind);
  }
  // numa-bind keeps NUMA groups contiguous in the policy's direction, as upstream's Less():
  // binpack puts higher NUMA nodes first, spread lower ones.
  if (numa_bind && a.numa != b.numa) {
    return policy.order == hami::DeviceOrder::kBinpack ? a.numa > b.numa : a.numa < b.numa;
  }
  // spread: higher score first; binpack: lower first; ties by NUMA ascending.
  if (a.score < b.score) {
    return policy.order == hami::DeviceOrder::kBinpack;
  }
  if (a.score > b.score) {
    return policy.order == hami::DeviceOrder::kSpread;
  }
  return a.numa < b.numa;
}

// DeviceScore: score of `d` for the requests of one container (only requests whose type
// equals d.type count; `req` counts entries, not Nums).
float DeviceScore(const DeviceUsage& d, const std::vector<hami::ContainerDeviceRequest>& requests,
                  const hami::ScoringWeights& weights);

// DeviceScoreOne: DeviceScore when `r` is the only request whose type equals d.type (a
// container asks for each chip type at most once, so Filter always has exactly one).
float DeviceScoreOne(const DeviceUsage& d, const hami::ContainerDeviceRequest& r,
                     const hami::ScoringWeights& weights);

// SortDevices: computes every device's score for `requests` and sorts (stable).
void SortDevices(DeviceUsageList& devices,
                 const std::vector<hami::ContainerDeviceRequest>& requests,
                 const hami::ScoringWeights& weights, const DevicePolicy& policy, bool numa_bind);

struct NodeCapacitySums {
  int64_t used = 0, count = 0, usedcores = 0, totalcore = 0, usedmem = 0, totalmem = 0;
  void Add(const DeviceUsage& d) {
    used += d.used;
    count += d.count;
    usedcores += d.usedcores;
    totalcore += d.totalcore;
    usedmem += d.usedmem;
    totalmem += d.totalmem;
  }
};
float NodeUsageScore(const NodeCapacitySums& sums);
NodeCapacitySums SumDevices(const DeviceUsageList& devices);

// TopologyDevice: what TopologyScore needs of an allocated device.
struct TopologyDevice {
  bool has_custom_info = false;
  std::optional<double> network_id;
};

// TopologyScore: Ascend ScoreNode. `containers`: per container, its allocated devices of `cw`.
float TopologyScore(std::string_view cw,
                    const std::vector<std::vector<TopologyDevice>>& containers);

// TopologyShare: the largest same-NetworkID share of one container's devices (0 for an
// empty list); nullopt when a device lacks custominfo or NetworkID (the whole score is 0).
std::optional<float> TopologyShare(std::span<const TopologyDevice> devices);

float CombineNodeScore(float usage_score, float topology_bonus, NodePolicy policy);

struct ScoredNode {
  std::string name;
  float score = 0.0f;
};

// SelectNode: index of the chosen node in `nodes`, or nullopt when empty.
std::optional<size_t> SelectNode(const std::vector<ScoredNode>& nodes, NodePolicy policy);

}  // namespace npushare::scheduling
