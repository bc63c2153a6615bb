// File: hami/go_time.h
//
// Go's time.Parse for the three layouts HAMi writes, with Go's error texts (they are
// compared by the compat runner for the node lock):
//   kRfc3339   "2006-01-02T15:04:05Z07:00"   node lock (hami.io/mutex.lock)
//   kDateTime  "2006-01-02 15:04:05"         scheduler's Requesting_ handshake
//   kDotted    "2006.01.02 15:04:05"         plugin's Reported_ handshake
// Quirks kept: one or two hour digits, an optional ",ddd"/".ddd" fraction after the
// seconds (ignored), a layout space matches a run of spaces.
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "common/status.h"
#include "hami/civil_time.h"

namespace npushare::hami {

enum class GoLayout { kRfc3339, kDateTime, kDotted };

struct GoParsedTime {
  CivilTime civil;             // wall clock as written
  int utc_offset_seconds = 0;  // kRfc3339 only (Z = 0); 0 for the zone-less layouts
};

// ParseGoTime: kInvalidArgument with Go's ParseError text, e.g.
//   parsing time "lock" as "2006-01-02T15:04:05Z07:00": cannot parse "lock" as "2006"
//   parsing time "2024-13-01T00:00:00Z": month out of range
Result<GoParsedTime> ParseGoTime(std::string_view value, GoLayout layout);

}  // namespace npushare::hami
