// File: kube/node_lock_client.h
//
// NodeLockClient: takes and releases the node lock `hami.io/mutex.lock` (hami-protocol.md
// §2.4) against the API server: the I/O around the pure decisions of hami/node_lock.h.
//
// Acquire(node, pod):
//   1. GET the node; DecideLockAcquire on its annotation (GET the holder pod when the
//      decision asks, NotFound = gone).
//   2. kSet / kTakeOverAndSet: one merge patch of the annotation to
//      "<now RFC3339 UTC>,<ns>,<name>" carrying the node's resourceVersion as precondition.
//      A takeover (expired lock, holder pod gone) replaces the old value in the same
//      conditional patch instead of upstream's release-then-set, so no third party can slip
//      in between.
//   3. 409 Conflict (someone wrote the node since our GET): back off and start again at 1.
//      A PATCH whose response was lost (kUnavailable, kDeadlineExceeded, kUnknown, kInternal,
//      kDataLoss) is treated the same way: the next GET shows the lock naming us, which
//      DecideLockAcquire reports as kAlreadyHeld (lost-response recognition).
//   At most `max_attempts` rounds; backoff initial_backoff * 2^round with jitter in
//   [d, 1.5 d] (upstream: 100 ms x2, jitter 0.5), slept through the Clock seam.
// Release(node, pod, force):
//   GET -> DecideLockRelease -> merge patch of the key to null with the resourceVersion
//   precondition; 409 / lost responses are re-read and retried the same way. A lock that
//   changed between our GET and the patch (a new lock by another pod) is never removed: the
//   precondition fails, the re-read sees the new value and decides kNothing. Forced and
//   legacy (comma-less) locks are removed only while the value is still the one first seen.
//
// Error codes (choose what to do next):
//   Acquire: OK = `pod` holds the lock (newly or already). kAborted = another live pod holds
//   it (the contention text of hami/node_lock.h) or conflicts persisted for max_attempts;
//   retry later. kInvalidArgument = the value does not parse (a human must clear it).
//   kNotFound = no such node. Other API errors as KubeClient returns them (its own retries
//   already spent). After a non-OK result other than kAborted/kInvalidArgument the lock MAY
//   have been written (a lost response on the last round): callers that give up call
//   Release, which removes it only if it names `pod`.
//   Release: OK = the lock is gone, or belongs to someone else (nothing to do), or the node
//   is gone. kAborted = conflicts persisted. Other API errors as they come.
//
// Usage (scheduler Bind):
//   NodeLockClient locks(client, clock);
//   NPUSHARE_RETURN_IF_ERROR(locks.Acquire(node, {ns, name}));
//   if (!bind_ok) locks.Release(node, {ns, name}).IgnoreError();
//
// Thread safety: safe for concurrent use. Calls for the same node from this process are
// serialised by an in-process per-node mutex (upstream's nodelock mutex), so two binds in one
// scheduler never race each other through the API server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "hami/node_lock.h"
#include "kube/clock.h"
#include "kube/kube_client.h"

namespace npushare::kube {

// NodeLockOptions: defaults are upstream's (hami-protocol.md §8).
struct NodeLockOptions {
  // --- correctness ---
  // timeout_seconds: a lock older than this is expired and taken over (HAMi
  // --node-lock-timeout). Default 300 s.
  int64_t timeout_seconds = hami::kDefaultNodeLockTimeoutSeconds;
  // max_attempts: GET+PATCH rounds before giving up on conflicts / lost responses. Default 5.
  int max_attempts = 5;
  // --- parameters that affect performance ---
  // initial_backoff: sleep before the second round; doubles per round. Default 100 ms.
  std::chrono::milliseconds initial_backoff{100};
  // jitter_seed: seeds the jitter generator (tests fix it).
  uint64_t jitter_seed = 0x6c6f636b;
};

class NodeLockClient {
 public:
  // NodeLockClient: REQUIRES: client and clock outlive this.
  NodeLockClient(KubeClient& client, Clock& clock, NodeLockOptions options = {});
  NodeLockClient(const NodeLockClient&) = delete;
  NodeLockClient& operator=(const NodeLockClient&) = delete;

  // Acquire: see the file comment for codes. `pod.ns` and `pod.name` must be non-empty
  // (kInvalidArgument otherwise: an owner-less lock could be released by anyone).
  Status Acquire(std::string_view node, const hami::PodRef& pod);
  // Release: see the file comment. `force` removes any lock (DecideLockRelease).
  Status Release(std::string_view node, const hami::PodRef& pod, bool force = false);

  // LockValueFor: the annotation value Acquire writes for `pod` at wall time `now`.
  static std::string LockValueFor(const hami::PodRef& pod,
                                  std::chrono::system_clock::time_point now);

 private:
  Mutex& NodeMutex(std::string_view node) NPUSHARE_EXCLUDES(mu_);
  void Backoff(int round);
  Status TryAcquire(std::string_view node, const hami::PodRef& pod, bool* retry);
  Status TryRelease(std::string_view node, const hami::PodRef& pod, bool force,
                    std::optional<std::string>* first_seen, bool* retry);

  KubeClient& client_;
  Clock& clock_;
  const NodeLockOptions options_;
  Mutex mu_;  // guards node_mutexes_ and rng_
  // node_mutexes_: one mutex per node name ever locked by this process; entries are never
  // erased (a node name costs a few bytes, and erasing would race with a waiter).
  std::unordered_map<std::string, std::unique_ptr<Mutex>> node_mutexes_ NPUSHARE_GUARDED_BY(mu_);
  std::mt19937_64 rng_ NPUSHARE_GUARDED_BY(mu_);
};

// IsLostResponse: a non-idempotent call failed in a way that leaves unknown whether the
// server applied it (re-read before retrying).
bool IsLostResponse(const Status& s);

}  // namespace npushare::kube
