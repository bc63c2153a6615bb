// File: common/go_duration.h
//
// ParseGoDuration: Go's time.ParseDuration for non-negative values, the form Kubernetes and HAMi
// configuration use for timeouts ("30s", "1m30s", "1.5h", "250ms", "10us", "0"). Shared by
// kube-scheduler-sim's KubeSchedulerConfiguration reader (extender httpTimeout) and
// npushare-scheduler's duration flags (--node-lock-timeout), which add their own rules on top
// (e.g. a bare number meaning seconds).
//
// Accepted: one or more <number><unit> pairs, number = digits with at most one '.', unit one of
// ns, us, µs, ms, s, m, h; or exactly "0". At most 64 characters and 1e18 ns (~31 years).
// Rejected with kInvalidArgument: signs, spaces, a number without a unit, unknown units.
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(std::chrono::nanoseconds d, ParseGoDuration("1m30s"));
//
// Thread safety: pure function.
#pragma once

#include <chrono>
#include <string_view>

#include "common/status.h"

namespace npushare {

// ParseGoDuration: the duration, rounded to the nearest nanosecond.
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

}  // namespace npushare
