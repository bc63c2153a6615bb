// File: sim/container/stale_cleanup.h
//
// CleanStaleBundles: a runtime starting on a root_dir that an earlier process left containers
// in (kubelet-sim killed, demo interrupted) finishes them off: for every bundle, the container
// is killed (`runc delete --force`, and for the namespace runtime the init recorded in
// <bundle>/init as "pid starttime", checked against /proc so a reused pid is never hit), the
// poststop hooks run when a vNPU record is left, and the bundle is removed. A root_dir belongs
// to one runtime instance at a time.
//
// Thread safety: call before the runtime starts containers.
#pragma once

#include <string>

#include "common/status.h"

namespace npushare::container_sim {

inline constexpr char kInitFile[] = "init";

// ProcessStartTime: field 22 of /proc/<pid>/stat (clock ticks since boot), 0 if unknown.
unsigned long long ProcessStartTime(int pid);

// CleanStaleBundles: see above; `runc` may be empty (runc unavailable). Returns the first
// failure but tries every bundle.
Status CleanStaleBundles(const std::string& root_dir, const std::string& runc);

}  // namespace npushare::container_sim
