// File: sim/scheduler/node_fit.h
//
// The in-tree filter plugins of kube-scheduler that the stand-in runs before the extenders,
// as pure functions over Pod and Node JSON:
//   NodeUnschedulable  spec.unschedulable nodes, unless the pod tolerates
//                      node.kubernetes.io/unschedulable:NoSchedule
//   NodeAffinity       spec.nodeSelector (every pair equals a label) and
//                      requiredDuringSchedulingIgnoredDuringExecution nodeSelectorTerms
//                      (terms ORed, expressions ANDed; In NotIn Exists DoesNotExist Gt Lt on
//                      labels, matchFields on metadata.name)
//   TaintToleration    every NoSchedule / NoExecute taint must be tolerated
//   NodeResourcesFit   each requested resource fits allocatable minus what pods on the node
//                      request, except resources in `ignored` (extenders' managedResources
//                      with ignoredByScheduler); allocatable "pods" bounds the pod count
// Reasons use kube-scheduler's wording ("Insufficient cpu", "node(s) didn't match Pod's node
// affinity/selector", "node(s) had untolerated taint {k: v}", "node(s) were unschedulable",
// "Too many pods"), so the FailedScheduling summary reads like the real one.
//
// Requests (PodRequests): per resource, max(sum over containers, max over init containers)
// plus spec.overhead; a container's limit stands in for a missing request (the API server's
// defaulting; kube-local does not default). Quantities are kept as milli-units.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::kube_scheduler_sim {

// ResourceList: resource name -> quantity in milli-units (cpu "500m" -> 500, memory "1Ki" ->
// 1024000).
using ResourceList = std::map<std::string, int64_t>;

// PodRequests: the pod's effective requests. kInvalidArgument for an unparsable quantity.
Result<ResourceList> PodRequests(const nlohmann::json& pod);

// NodeAllocatable: status.allocatable (else status.capacity) of a node; unparsable entries are
// left out.
ResourceList NodeAllocatable(const nlohmann::json& node);

// NodeUsage: what the pods already on (or assumed onto) a node request.
struct NodeUsage {
  ResourceList requested;
  int64_t pods = 0;
};

// CheckNodeFit: every reason `node` is infeasible for `pod` (empty when it fits).
// `allocatable` is NodeAllocatable(node) (callers cache it per node).
std::vector<std::string> CheckNodeFit(const nlohmann::json& pod, const ResourceList& pod_requests,
                                      const nlohmann::json& node, const ResourceList& allocatable,
                                      const NodeUsage& usage, const std::set<std::string>& ignored);

// LeastAllocatedScore: 0..100, the mean free share of cpu and memory after placing the pod
// (kube-scheduler's default NodeResourcesFit scoring); resources the node lacks count as 0.
int64_t LeastAllocatedScore(const ResourceList& pod_requests, const ResourceList& allocatable,
                            const NodeUsage& usage);

// RequestsResource: whether any container or init container names `resource` in its requests
// or limits (kube-scheduler's extender IsInterested test).
bool RequestsResource(const nlohmann::json& pod, const std::string& resource);

}  // namespace npushare::kube_scheduler_sim
