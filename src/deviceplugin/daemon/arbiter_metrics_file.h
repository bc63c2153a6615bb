// File: deviceplugin/daemon/arbiter_metrics_file.h
//
// Reads npushare-arbiter's metrics file (its --metrics-file; docs/softslice.md §4 "Metrics") so
// the device plugin's /metrics can show per-container soft-slice usage. The file holds two
// kinds of lines, `key=value` tokens separated by spaces:
//   tenant=<t> index=<i> dev=<d> chip=<c> weight=<w> granted_ns=<n> charged_ns=<n> device_ns=<n>
//   tenant=<t> mem_dev=<d> quota_bytes=<n> used_bytes=<n> live_procs=<n> reclaimed_procs=<n>
//       denied_allocs=<n>
// <t> is the tenant (state directory) name, "<pod uid>_<container>" for containers the plugin
// allocated (allocate/container_response.h TenantNameFor).
//
// The file is written by another process (and its memory lines come from the containers' own
// ledgers), so parsing is defensive: at most kMaxArbiterMetricsBytes are read (a larger file
// is an error, not truncated), a line that is not well-formed (unknown shape, a number that
// does not parse or is out of range, a device index >= 16) is skipped and counted, unknown
// keys are ignored (newer arbiters may add some), and at most kMaxArbiterTenants tenants are
// kept.
//
// Usage:
//   Result<ArbiterMetrics> m = ReadArbiterMetricsFile(options.arbiter_metrics_file);
//   if (m.ok()) { for (const ArbiterContainer& c : m->containers) ... }
//
// Thread safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace npushare::deviceplugin::daemon {

inline constexpr size_t kMaxArbiterMetricsBytes = size_t{4} << 20;
inline constexpr size_t kMaxArbiterTenants = 4096;
inline constexpr uint32_t kMaxArbiterDevices = 16;  // VNPU_MAX_DEVICES

// ArbiterDevice: one logical device of a container; each half present when its line was.
struct ArbiterDevice {
  // core line
  bool has_core = false;
  int32_t chip = -1;        // physical chip the device is scheduled on
  uint64_t weight = 0;      // core share, percent
  uint64_t granted_ns = 0;  // time the arbiter granted the chip (counter)
  uint64_t charged_ns = 0;  // time charged against the share (counter)
  uint64_t device_ns = 0;   // device time the container reported (counter)
  // memory line
  bool has_memory = false;
  uint64_t quota_bytes = 0;  // 0 = not limited
  uint64_t used_bytes = 0;
};

// ArbiterContainer: one tenant. pod_uid/container are empty when the tenant name is not of the
// "<uid>_<container>" shape.
struct ArbiterContainer {
  std::string tenant;
  std::string pod_uid;
  std::string container;
  std::map<uint32_t, ArbiterDevice> devices;  // by logical device index
};

struct ArbiterMetrics {
  std::vector<ArbiterContainer> containers;  // sorted by tenant
  size_t skipped_lines = 0;
};

// ParseArbiterMetrics: kInvalidArgument only when `text` exceeds kMaxArbiterMetricsBytes;
// otherwise the well-formed lines (see the file comment).
Result<ArbiterMetrics> ParseArbiterMetrics(std::string_view text);

// ReadArbiterMetricsFile: kNotFound when `path` does not exist (no arbiter on this node yet);
// kFailedPrecondition when it is not a regular file (a symlink included) or exceeds the limit;
// FileSystemError's code (common/fs_error.h) when it cannot be opened or read.
Result<ArbiterMetrics> ReadArbiterMetricsFile(const std::string& path);

}  // namespace npushare::deviceplugin::daemon
