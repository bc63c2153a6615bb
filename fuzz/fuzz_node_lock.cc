// Fuzzes ParseNodeLock and the acquire/release decisions. Invariants: a parsed lock
// formats back (in UTC) to a value that parses to the same time and owner; decisions
// never crash and contention/error always carry a message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "hami/civil_time.h"
#include "hami/node_lock.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npushare::hami;
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  auto lock = ParseNodeLock(value);
  // Go (and we) format years outside 0000..9999 differently from how they parse; a
  // zone offset can push a parsable local time just outside that range.
  static const int64_t kMin = CivilSecondsOf({0, 1, 1, 0, 0, 0});
  static const int64_t kMax = CivilSecondsOf({9999, 12, 31, 23, 59, 59});
  if (lock.ok() && lock->unix_seconds >= kMin && lock->unix_seconds <= kMax) {
    auto again = ParseNodeLock(FormatNodeLock(lock->unix_seconds, 0, lock->ns, lock->name));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->unix_seconds == lock->unix_seconds);
    FUZZ_CHECK(again->ns == lock->ns && again->name == lock->name);
  }
  const PodRef me{"ns", "pod"};
  for (std::optional<bool> exists :
       {std::optional<bool>(), std::optional<bool>(true), std::optional<bool>(false)}) {
    const auto d = DecideLockAcquire(value, 1787293239, 300, me, exists, "node");
    if (d.action == LockAcquireAction::kContention || d.action == LockAcquireAction::kError) {
      FUZZ_CHECK(!d.message.empty());
    }
    FUZZ_CHECK(lock.ok() || d.action == LockAcquireAction::kError);
  }
  (void)DecideLockRelease(value, me, false);
  return 0;
}
