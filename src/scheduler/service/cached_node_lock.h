// File: scheduler/service/cached_node_lock.h
//
// AcquireNodeLockWithHint: Bind's node lock (hami-protocol.md §2.4) taken in one API call when
// the informer's copy of the node says the lock is free, instead of NodeLockClient's GET +
// PATCH. The write is the same merge patch with the cached resourceVersion as precondition,
// so a stale copy can never overwrite a lock: the API server refuses the patch (409) and the
// full protocol (kube/node_lock_client.h: GET, decide, holder check, conditional patch,
// backoff) runs as before. Anything but "free" in the copy (held, expired, ours, garbled) and
// any failed fast patch also go to the full protocol, which decides from the API server's
// node, never from the cache.
//
//   cached copy says free --PATCH rv=cached--> 200: held (kHit)
//                                          \-> 409 / lost response / other error:
//                                              NodeLockClient::Acquire (kStale)
//   no copy, or copy not free ------------------> NodeLockClient::Acquire (kNoHint / kNotFree)
//
// A lost response on the fast patch is safe: the full protocol's GET then shows the lock
// naming this pod (kAlreadyHeld).
//
// Usage:
//   NodeLockHint hint = ...;  // from ClusterCache::NodeLockOf(node)
//   LockHintOutcome how;
//   NPUSHARE_RETURN_IF_ERROR(AcquireNodeLockWithHint(client, locks, clock, timeout_s, node,
//                                                    pod, hint, &how));
//
// Thread safety: safe for concurrent use (as NodeLockClient); concurrent binds to one node
// are kept apart by the resourceVersion precondition.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "hami/node_lock.h"
#include "kube/clock.h"
#include "kube/kube_client.h"
#include "kube/node_lock_client.h"

namespace npushare::scheduler {

// NodeLockHint: the node's lock annotation (nullopt: absent) and resourceVersion as the
// informer last saw them.
struct NodeLockHint {
  std::optional<std::string> value;
  std::string resource_version;
};

// LockHintOutcome: which path AcquireNodeLockWithHint took (for metrics and tests).
enum class LockHintOutcome {
  kNoHint,   // no cached copy (or no resourceVersion): full protocol
  kNotFree,  // the copy shows a lock: full protocol
  kHit,      // the copy was current: one conditional patch
  kStale,    // the fast patch failed (409, lost response, error): full protocol after it
};

// AcquireNodeLockWithHint: the result of NodeLockClient::Acquire (see its codes), reached in
// one PATCH when `hint` is current. `outcome` (may be null) says which path was taken.
// `timeout_s`: the lock timeout (as NodeLockOptions::timeout_seconds).
Status AcquireNodeLockWithHint(kube::KubeClient& client, kube::NodeLockClient& locks,
                               kube::Clock& clock, int64_t timeout_s, std::string_view node,
                               const hami::PodRef& pod, const std::optional<NodeLockHint>& hint,
                               LockHintOutcome* outcome);

}  // namespace npushare::scheduler
