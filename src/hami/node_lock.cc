#include "hami/node_lock.h"

#include <cstdio>
#include <limits>

#include "hami/civil_time.h"
#include "hami/go_text.h"
#include "hami/go_time.h"

namespace npushare::hami {
namespace {

Result<int64_t> ParseRfc3339Unix(std::string_view s) {
  NPUSHARE_ASSIGN_OR_RETURN(GoParsedTime t, ParseGoTime(s, GoLayout::kRfc3339));
  return CivilSecondsOf(t.civil) - t.utc_offset_seconds;
}

}  // namespace

Result<NodeLock> ParseNodeLock(std::string_view value) {
  NodeLock lock;
  if (value.find(',') == std::string_view::npos) {
    NPUSHARE_ASSIGN_OR_RETURN(lock.unix_seconds, ParseRfc3339Unix(value));
    return lock;
  }
  size_t parts = 1;
  for (char c : value) {
    parts += c == ',' ? 1 : 0;
  }
  if (parts != 3) {
    return InvalidArgumentError("malformed lock annotation: expected 3 parts, got " +
                                std::to_string(parts) + " from " + std::string(value));
  }
  const size_t c1 = value.find(',');
  const size_t c2 = value.find(',', c1 + 1);
  NPUSHARE_ASSIGN_OR_RETURN(lock.unix_seconds, ParseRfc3339Unix(value.substr(0, c1)));
  lock.ns = std::string(value.substr(c1 + 1, c2 - c1 - 1));
  lock.name = std::string(value.substr(c2 + 1));
  return lock;
}

std::string FormatNodeLock(int64_t unix_seconds, int utc_offset_seconds, std::string_view ns,
                           std::string_view name) {
  std::string out =
      FormatCivil(CivilFromSeconds(unix_seconds + utc_offset_seconds), "YYYY-MM-DDThh:mm:ss");
  if (utc_offset_seconds == 0) {
    out += 'Z';
  } else {
    const int a = utc_offset_seconds < 0 ? -utc_offset_seconds : utc_offset_seconds;
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%c%02d:%02d", utc_offset_seconds < 0 ? '-' : '+', a / 3600,
                  (a / 60) % 60);
    out += buf;
  }
  if (!ns.empty() || !name.empty()) {
    out += ',';
    out += ns;
    out += ',';
    out += name;
  }
  return out;
}

std::string NodeLockContentionMessage(std::string_view node_name, int64_t timeout_s) {
  return "node " + std::string(node_name) + " has been locked within " +
         FormatGoDurationSeconds(timeout_s) + ": node lock contention";
}

LockAcquireDecision DecideLockAcquire(std::optional<std::string_view> existing, int64_t now_unix,
                                      int64_t timeout_s, const PodRef& requester,
                                      std::optional<bool> holder_exists,
                                      std::string_view node_name) {
  LockAcquireDecision d;
  if (!existing) {
    d.action = LockAcquireAction::kSet;
    return d;
  }
  Result<NodeLock> lock = ParseNodeLock(*existing);
  if (!lock.ok()) {
    d.action = LockAcquireAction::kError;
    d.message = lock.status().message();
    return d;
  }
  // The lock time comes from untrusted text: saturate instead of overflowing.
  int64_t age = 0;
  if (__builtin_sub_overflow(now_unix, lock->unix_seconds, &age)) {
    age = now_unix > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  if (age > timeout_s) {
    d.action = LockAcquireAction::kTakeOverAndSet;
    return d;
  }
  if (lock->ns == requester.ns && lock->name == requester.name) {
    d.action = LockAcquireAction::kAlreadyHeld;
    return d;
  }
  if (!lock->ns.empty() && !lock->name.empty()) {
    if (!holder_exists) {
      d.action = LockAcquireAction::kNeedHolderCheck;
      d.holder = PodRef{lock->ns, lock->name};
      return d;
    }
    if (!*holder_exists) {
      d.action = LockAcquireAction::kTakeOverAndSet;
      return d;
    }
  }
  d.action = LockAcquireAction::kContention;
  d.message = NodeLockContentionMessage(node_name, timeout_s);
  return d;
}

LockReleaseAction DecideLockRelease(std::optional<std::string_view> existing,
                                    const PodRef& releaser, bool force) {
  if (!existing) {
    return LockReleaseAction::kNothing;
  }
  if (force || existing->find(',') == std::string_view::npos ||
      existing->ends_with("," + releaser.ns + "," + releaser.name)) {
    return LockReleaseAction::kRemove;
  }
  return LockReleaseAction::kNothing;
}

}  // namespace npushare::hami
