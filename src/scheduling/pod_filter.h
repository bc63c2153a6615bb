// File: scheduling/pod_filter.h
//
// FilterPod: the scheduler extender's Filter for Ascend chips, as a pure
// function: evaluates one pod against candidate nodes, scores those that fit and
// chooses one (hami-protocol.md §4.3-§4.5).
//
// Per node: init containers are fitted one at a time against the node's current
// usage; app containers cumulatively against another copy. The vNPU slices of every
// container (init ones included: their vNPUs live until the pod goes) add up for the
// placement rule (vnpu_placement.h). For each container and
// requested chip the node's devices are scored and sorted by the device policy,
// candidates are the devices whose type EQUALS the requested commonWord (npushare
// fix: upstream matches a case-insensitive substring, so Ascend910B4 requests could
// land on Ascend910B4-1 chips), and Fit picks devices.
//
// Usage:
//   FilterOutcome out = FilterPod(config, pod, nodes, usage_by_node, options);
//   if (out.chosen) { auto& n = out.nodes[*out.chosen]; ... n.allocation ... }
//
// Thread safety: pure function; inputs are read only.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/device_config.h"
#include "scheduling/fit.h"
#include "scheduling/node_usage.h"
#include "scheduling/pod_spec.h"
#include "scheduling/scoring.h"

namespace npushare::scheduling {

struct FilterOptions {
  bool hami_vnpu_core_global = false;             // vnpus.hamiVnpuCore
  NodePolicy node_policy = NodePolicy::kBinpack;  // --node-scheduler-policy default
  std::string device_policy = "spread";           // --gpu-scheduler-policy default

  // Parameters that affect memory and speed.
  // keep_node_reasons: fill NodeEvaluation::reason / reason_names for every node that does
  // not fit (default true: as before). false leaves them empty for all nodes but the
  // examples of FilterOutcome::reason_groups, which carry the same information grouped; an
  // unplaceable pod then costs a few hundred bytes instead of ~0.5 KB per node.
  bool keep_node_reasons = true;
  // reason_group_examples: how many nodes (with their full reason) each group names.
  size_t reason_group_examples = 3;
  // collect_verdicts: fill FilterOutcome::verdicts (one NodeVerdict per candidate), for
  // callers that hand them back as NodeCandidate::verdict for the next pod of the same shape.
  // Default false (costs ~100 bytes per node).
  bool collect_verdicts = false;
};

// NodeVerdict: what FilterPod decided for one node, without the devices it would take: enough
// to answer a pod of the same shape (PodShapeKey) again while the node, its usage and the
// config stay what they were.
struct NodeVerdict {
  bool fit = false;
  float score = 0.0f;  // when fit
  FitFailure failure;  // when !fit: why (FitFailure::Text is the reason)
};

// PodShapeKey: a key equal for two pods exactly when FilterPod, given the same nodes, options
// and config, decides the same for every node: the options, every container's limits and
// requests (init containers marked), and the pod's annotations in the hami.io/, huawei.com/
// and nvidia.com/ namespaces (every annotation Filter reads: policies, weights, numa-bind,
// vnpu-mode, UUID lists). Conservative: pods differing in anything else Filter ignores (names,
// images, other annotations) share the key.
std::string PodShapeKey(const PodSpec& pod, const FilterOptions& options);

// ContainerRequests: per container (init first) <cw> -> request.
using ContainerRequests =
    std::vector<std::map<std::string, hami::ContainerDeviceRequest, std::less<>>>;

struct PodRequests {
  ContainerRequests containers;
  size_t init_containers = 0;
  std::vector<std::string> invalid;  // reasons of requests that were dropped as invalid
  bool Empty() const;
};

// BuildPodRequests: ParseContainerRequest for every container and chip.
PodRequests BuildPodRequests(const config::DeviceConfig& config, const PodSpec& pod);

struct NodeEvaluation {
  std::string node;
  bool fit = false;
  std::string reason;                     // GenReason text or a plain upstream reason
  std::vector<std::string> reason_names;  // distinct reason names, for summaries
  float score = 0.0f;
  // Filled for the CHOSEN node only (building it for every candidate was the dominant cost
  // of Filter): every <cw> registered on the node, per container, empty lists if unused.
  PodAllocation allocation;
  // What Fit picked, for the CHOSEN node only (filling it for every fitting node cost an
  // allocation per node): (container index, device), in allocation order. Views strings of
  // the NodeState and the config (see device_usage.h).
  std::vector<std::pair<size_t, AllocatedDevice>> chosen;
};

// ReasonGroup: the nodes that failed for the same set of reason names.
struct ReasonGroup {
  std::vector<std::string> reason_names;  // distinct, sorted: the group's key
  size_t nodes = 0;                       // how many nodes are in the group
  // The first FilterOptions::reason_group_examples nodes of the group, in input order, with
  // their full reason text (e.g. "1/8 CardInsufficientMemory, 7/8 CardTimeSlicingExhausted").
  std::vector<std::pair<std::string, std::string>> examples;
};

struct FilterOutcome {
  Status error;                   // e.g. malformed hami.io/device-scoring-weights
  bool requests_devices = false;  // false: the pod asks for no configured chip
  PodRequests requests;
  std::vector<NodeEvaluation> nodes;  // in input order
  std::optional<size_t> chosen;       // index into nodes
  // One per candidate (input order) when FilterOptions::collect_verdicts; a candidate that
  // came with a verdict gets it back unchanged.
  std::vector<NodeVerdict> verdicts;
  NodePolicy node_policy = NodePolicy::kBinpack;
  // Every node that does not fit, grouped by its reason names (groups in order of their
  // first node). Filled whatever FilterOptions::keep_node_reasons says.
  std::vector<ReasonGroup> reason_groups;

  // Summary: kube-scheduler style "0/3 nodes are available: 2 CardInsufficientMemory,
  // 1 ModeNotFit." (reason names counted once per node, sorted by name). Computed from
  // reason_groups (from the nodes' reason_names when the groups are empty).
  std::string Summary() const;
};

// NodeSummary: what Filter reads of a node that does not depend on the pod. Callers that
// keep nodes between pods (the scheduler's cache) build it once per change of the node
// (SummarizeNode) instead of Filter deriving it for every pod and node; FilterPod builds one
// itself for a candidate without one, so the outcome is the same either way.
struct NodeSummary {
  const config::DeviceConfig* config = nullptr;  // the config it was built against
  std::optional<bool> hami_core_annotation;      // hami-vnpu-core ("true" -> true), if present
  float usage_score = 0.0f;                      // NodeUsageScore of the devices (before the pod)
  // One entry per chip type of the NodeDevices, in its order.
  struct ChipType {
    const config::ChipConfig* chip = nullptr;  // config->FindByCommonWord(key); null: unknown
    bool uniform_type = false;                 // every device's type equals the key
    bool ascend910 = false;                    // the key starts with "Ascend910" (topology)
  };
  std::vector<ChipType> chip_types;
};

// SummarizeNode: the summary of `node` with its current `devices` under `config`. The result
// points at `config`'s chips: rebuild it when the config, the node or its usage changes.
NodeSummary SummarizeNode(const config::DeviceConfig& config, const NodeState& node,
                          const NodeDevices& devices);

// NodeCandidate: a node and its devices with current usage, resolved by the caller (e.g.
// from a cache holding both), so Filter needs no lookup by name. `devices` null: the node
// is not registered ("node unregistered"). `summary`: SummarizeNode of the same node,
// devices and config, or null (FilterPod derives it; one built against another config is
// ignored). `verdict`: what FilterPod decided for this node for a pod of the same
// PodShapeKey with the same options and config, while the node and its devices were exactly
// as now, or null; FilterPod then takes it instead of evaluating the node again (the caller
// vouches for it: a stale verdict gives a wrong answer). All must outlive the FilterOutcome.
struct NodeCandidate {
  const NodeState* node = nullptr;
  const NodeDevices* devices = nullptr;
  const NodeSummary* summary = nullptr;
  const NodeVerdict* verdict = nullptr;
};

// FilterPod: `usage` maps node name -> its devices with current usage (from CapacityOf +
// AddPodUsage); a node missing from it is reported "node unregistered".
FilterOutcome FilterPod(const config::DeviceConfig& config, const PodSpec& pod,
                        const std::vector<const NodeState*>& nodes,
                        const std::map<std::string, NodeDevices, std::less<>>& usage,
                        const FilterOptions& options);

// FilterPod: the same over pre-resolved candidates (the fast path: no map lookup per node).
FilterOutcome FilterPod(const config::DeviceConfig& config, const PodSpec& pod,
                        std::span<const NodeCandidate> candidates, const FilterOptions& options);

}  // namespace npushare::scheduling
