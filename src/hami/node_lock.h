// File: hami/node_lock.h
//
// hami.io/mutex.lock (hami-protocol.md §2.4), one key per node shared by all vendors:
//   "<RFC3339 time>,<namespace>,<pod>"   e.g. 2026-08-21T14:20:39+08:00,team-a,job-0
//   "<RFC3339 time>"                     legacy form, no owner
// This file holds the value codec and the *pure* acquire/release decisions; the code
// that GETs and PATCHes the node (and owns retries, resourceVersion preconditions and
// the per-node in-process mutex) calls them with what it read.
//
// Malformed values (upstream bug #14): upstream refuses to touch a lock it cannot parse,
// so a garbage value blocks the node until a human removes it. We keep that decision
// (kError with upstream's parse error text, which the compat vectors check) because we
// cannot know the age of a value without a parsable time, and silently stealing a lock
// could double-book a chip. Operators see the exact value in the error; an
// age-by-observation policy (e.g. from the node's managedFields) is out of scope here.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace npushare::hami {

inline constexpr int64_t kDefaultNodeLockTimeoutSeconds = 300;

struct NodeLock {
  int64_t unix_seconds = 0;  // the lock time, UTC
  std::string ns;            // "" for the legacy form
  std::string name;          // "" for the legacy form
};

struct PodRef {
  std::string ns;
  std::string name;
  friend bool operator==(const PodRef&, const PodRef&) = default;
};

// ParseNodeLock: no ',' -> the whole value is an RFC3339 time (legacy); otherwise exactly
// three ','-parts (else "malformed lock annotation: expected 3 parts, got N from <value>")
// whose first is an RFC3339 time (else Go's "parsing time ..." text). kInvalidArgument.
Result<NodeLock> ParseNodeLock(std::string_view value);

// FormatNodeLock: Go's time.Format(time.RFC3339) of unix_seconds seen in a zone
// `utc_offset_seconds` east of UTC ("Z" when 0, else "+hh:mm"/"-hh:mm"), then
// ",<ns>,<name>" unless both are empty (legacy form).
std::string FormatNodeLock(int64_t unix_seconds, int utc_offset_seconds, std::string_view ns,
                           std::string_view name);

enum class LockAcquireAction {
  kSet,              // no lock: write a new one
  kTakeOverAndSet,   // expired, or its holder pod is gone: remove, then write a new one
  kAlreadyHeld,      // the requester holds it already (LockNode runs once per chip type)
  kNeedHolderCheck,  // GET `holder`; call again with holder_exists set
  kContention,       // someone else holds a live lock
  kError,            // the value does not parse; message has the parse error
};

struct LockAcquireDecision {
  LockAcquireAction action = LockAcquireAction::kError;
  std::string message;  // kContention / kError: the error text to return
  PodRef holder;        // kNeedHolderCheck: the pod to look up
};

// DecideLockAcquire: upstream LockNode's decision for `requester` on node `node_name`.
// `existing` = the current annotation (nullopt = absent); `now_unix` = the clock;
// the lock has expired when now - lock_time > timeout_s. `holder_exists` is the result
// of GETting the holder pod (nullopt = not looked up yet). Order: absent -> kSet;
// unparsable -> kError; expired -> kTakeOverAndSet; same pod -> kAlreadyHeld; named
// holder: unknown -> kNeedHolderCheck, gone -> kTakeOverAndSet, alive -> kContention;
// legacy -> kContention. Contention text:
//   "node <node> has been locked within <Go duration of timeout>: node lock contention"
LockAcquireDecision DecideLockAcquire(std::optional<std::string_view> existing, int64_t now_unix,
                                      int64_t timeout_s, const PodRef& requester,
                                      std::optional<bool> holder_exists,
                                      std::string_view node_name);

// ContentionMessage: the contention text above (also used when the set step finds a lock).
std::string NodeLockContentionMessage(std::string_view node_name, int64_t timeout_s);

enum class LockReleaseAction {
  kNothing,  // no lock, or someone else's (not forced)
  kRemove,   // merge-patch the key to null (re-check the value is unchanged first)
};

// DecideLockRelease: ReleaseNodeLock's decision. Removes when forced, when the value has
// no ',' (a legacy lock is released by anyone) or when it ends with ",<ns>,<name>" of
// `releaser`; otherwise leaves it. The value is not parsed.
LockReleaseAction DecideLockRelease(std::optional<std::string_view> existing,
                                    const PodRef& releaser, bool force);

}  // namespace npushare::hami
