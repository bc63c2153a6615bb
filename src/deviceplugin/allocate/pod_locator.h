// File: deviceplugin/allocate/pod_locator.h
//
// Which pod is kubelet allocating? Kubelet's Allocate names only device IDs, so the plugin
// finds the pod the scheduler bound to this node (hami-protocol.md §5.3 step 1):
//   1. GET the node. A `hami.io/mutex.lock` that does not parse fails (upstream: kubelet's
//      Allocate cannot tell which pod is meant, and HAMi's scheduler cannot have bound one
//      past such a lock). A lock naming a pod: GET it; it is the answer when it exists, is not
//      being deleted and still has a pending allocation of this chip type (a non-empty entry in
//      `hami.io/<cw>-devices-to-allocate`). Deviations from upstream (docs/compat.md): a lock
//      naming a deleted (or deleting) pod (bug §9.14) or a pod with nothing pending here falls back
//      to the list instead of failing the Allocate or picking a pod that is already running.
//   2. LIST pods with fieldSelector spec.nodeName=<node> and pick with SelectPendingPod.
//   3. Nothing there: the lock holder of step 1 if it has bind-phase `allocating` but no
//      pending entry (missing or empty annotation), so that its Allocate fails with that
//      error, is marked `failed` and its lock released, rather than "no pod" leaving the
//      lock held. A holder with another phase (e.g. `success`: already allocated) is never
//      picked for something it does not have pending.
//
// SelectPendingPod (pure): candidates are pods that
//   - are not being deleted, have status.phase Pending,
//   - carry `hami.io/bind-time` (any value), `hami.io/bind-phase: allocating` and
//     `hami.io/vgpu-node: <node>`,
//   - carry `hami.io/<cw>-devices-to-allocate` that is malformed (so that its Allocate fails
//     with the decode error rather than "no pod") or has a non-empty container entry.
// Order (deterministic; upstream takes the API's list order): the earliest bind-time first
// (decimal unix seconds; other values after all numeric ones, by text), then namespace, then
// name. Upstream also accepts bind-phase `success`, because it marks a pod `success` after its
// first container; npushare marks it after the last, so `success` means "nothing pending".
//
// Thread safety: PodLocator is safe for concurrent use (it only reads through KubeClient).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hami/node_lock.h"
#include "kube/kube_client.h"
#include "kube/objects.h"

namespace npushare::deviceplugin::allocate {

// LocatedPod: the pod kubelet is allocating, as read (resourceVersion included).
struct LocatedPod {
  nlohmann::json object;
  kube::PodView view;
  hami::PodRef ref;
  bool via_lock = false;  // found as the node lock's holder (else from the list)
};

// HasPendingEntry: true when `annotations` carry `hami.io/<cw>-devices-to-allocate` with a
// non-empty container entry, or a value that does not decode (see SelectPendingPod).
bool HasPendingEntry(const std::map<std::string, std::string>& annotations, const std::string& cw);

// SelectPendingPod: index into `pods` (PodViews from the node's pod list) of the pod to
// allocate, or nullopt when no pod qualifies. See the file comment for the rules.
std::optional<size_t> SelectPendingPod(const std::vector<kube::PodView>& pods,
                                       std::string_view node, const std::string& cw);

class PodLocator {
 public:
  // PodLocator: REQUIRES: client outlives this.
  PodLocator(kube::KubeClient& client, std::string node, std::string common_word);

  // Locate: the pod, or
  //   kNotFound "no binding pod found on node <node>" when nothing qualifies;
  //   kInvalidArgument with upstream's parse error for a malformed node lock;
  //   the API error (kUnavailable, ...) when the node or the pods cannot be read.
  Result<LocatedPod> Locate() const;

 private:
  kube::KubeClient& client_;
  const std::string node_;
  const std::string cw_;
};

}  // namespace npushare::deviceplugin::allocate
