#include "scheduler/service/cached_node_lock.h"

#include <nlohmann/json.hpp>

#include "hami/types.h"
#include "kube/resource.h"

namespace npushare::scheduler {

Status AcquireNodeLockWithHint(kube::KubeClient& client, kube::NodeLockClient& locks,
                               kube::Clock& clock, int64_t timeout_s, std::string_view node,
                               const hami::PodRef& pod, const std::optional<NodeLockHint>& hint,
                               LockHintOutcome* outcome) {
  LockHintOutcome how = LockHintOutcome::kNoHint;
  if (hint && !hint->resource_version.empty() && !pod.ns.empty() && !pod.name.empty()) {
    const auto now = clock.WallNow();
    const int64_t now_unix =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    std::optional<std::string_view> existing;
    if (hint->value) {
      existing = *hint->value;
    }
    const hami::LockAcquireDecision d =
        hami::DecideLockAcquire(existing, now_unix, timeout_s, pod, std::nullopt, node);
    if (d.action == hami::LockAcquireAction::kSet) {
      kube::PatchOptions po;
      po.resource_version = hint->resource_version;
      const nlohmann::json patch = {
          {"metadata",
           {{"annotations",
             {{hami::kNodeLockAnnotation, kube::NodeLockClient::LockValueFor(pod, now)}}}}}};
      auto patched = client.Patch(kube::kNodes, "", node, kube::PatchType::kMerge, patch, po);
      if (patched.ok()) {
        if (outcome != nullptr) {
          *outcome = LockHintOutcome::kHit;
        }
        return OkStatus();
      }
      how = LockHintOutcome::kStale;
    } else {
      how = LockHintOutcome::kNotFree;
    }
  }
  if (outcome != nullptr) {
    *outcome = how;
  }
  return locks.Acquire(node, pod);
}

}  // namespace npushare::scheduler
