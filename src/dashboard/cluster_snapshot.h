// File: dashboard/cluster_snapshot.h
//
// ClusterSnapshot: what the dashboard shows at one instant, as plain structs, and
// SnapshotSource, the seam through which the scheduler hands it over. The main types:
//
//   ClusterSnapshot  time + nodes + pending pods
//     NodeView       one node: name, where its device plugin's /metrics is, its chips
//       ChipView     one chip: index, uuid (VDIE die id), type (common word), memory, cores,
//                    health, mode (hard templates / soft hami-vnpu-core)
//         SliceView  one container's share of the chip: hard template or soft quota + core %,
//                    and what the device plugin measured (memory used, compute granted /
//                    achieved) when known
//     PendingPodView a pod the scheduler could not place, with its reason text
//
// The scheduler fills everything it knows from its caches (allocations, registered devices,
// pending pods); Dashboard (dashboard.h) adds the measured fields from the device plugins'
// /metrics before rendering. Unknown measurements are std::nullopt and render as JSON null.
//
// Usage:
//   class CacheSnapshotSource : public dashboard::SnapshotSource {
//     Result<ClusterSnapshot> Snapshot() override { ... copy from the caches ... }
//   };
//
// Thread safety: the structs are values. SnapshotSource::Snapshot() is called from the
// dashboard's refresh thread and from HTTP worker threads: implementations must be safe for
// concurrent calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::dashboard {

// ChipMode: how a chip is shared. kHard: vNPU templates (the runtime carves the chip);
// kSoft: hami-vnpu-core runtime interception (memory quota + arbitrated compute share).
enum class ChipMode { kHard, kSoft };

// SliceView: one container's allocation on one chip.
struct SliceView {
  std::string pod_namespace;
  std::string pod_name;
  std::string container;  // container name; "" when only the index is known
  uint32_t container_index = 0;
  // Hard slices: the vNPU template ("vir05_1c_16g"); "" for soft slices and whole chips.
  std::string template_name;
  // memory_quota_bytes: memory the slice holds on the chip (template memory or soft quota).
  int64_t memory_quota_bytes = 0;
  // core_percent: compute share in percent of the chip (soft: the -core request; hard: the
  // template's AI cores / chip cores * 100). 0 = unlimited / not requested.
  int32_t core_percent = 0;

  // Measured by the device plugin (filled by Dashboard from /metrics; nullopt = unknown).
  std::optional<int64_t> memory_used_bytes;
  std::optional<double> compute_granted_percent;   // arbiter grants, % of the chip's time
  std::optional<double> compute_achieved_percent;  // device time used, % of the chip's time
};

// ChipView: one physical chip of a node.
struct ChipView {
  uint32_t index = 0;
  std::string uuid;  // VDIE die id, as in hami.io/node-register-<cw> and device_uuid labels
  std::string type;  // common word, e.g. "Ascend910B3"
  int64_t memory_total_bytes = 0;
  int32_t cores = 0;  // AI cores (100 under hami-vnpu-core)
  bool healthy = true;
  ChipMode mode = ChipMode::kHard;
  std::vector<SliceView> slices;
};

// NodeView: one node with registered chips.
struct NodeView {
  std::string name;
  // metrics_url: the device plugin's /metrics on this node ("http://10.0.0.5:9395/metrics");
  // "" = not scraped (measured fields stay unknown).
  std::string metrics_url;
  std::vector<ChipView> chips;

  // Filled by Dashboard (dashboard.h), not by the source: the last scrape of metrics_url.
  bool metrics_scraped = false;  // true when that scrape succeeded
  std::string metrics_error;     // why it failed; "" when it succeeded or was not tried
  size_t metrics_skipped_lines = 0;
};

// PendingPodView: a pod waiting for an NPU, with the scheduler's reason
// ("0/3 nodes are available: 2 CardInsufficientMemory, 1 ModeNotFit.").
struct PendingPodView {
  std::string pod_namespace;
  std::string pod_name;
  std::string reason;
  int64_t since_unix_ms = 0;  // first seen pending; 0 = unknown
};

// ClusterSnapshot: the whole picture at time_unix_ms.
struct ClusterSnapshot {
  int64_t time_unix_ms = 0;
  std::vector<NodeView> nodes;
  std::vector<PendingPodView> pending;
};

// SnapshotSource: the scheduler side of the seam.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // Snapshot: the current allocations, devices and pending pods. Measured fields may be left
  // unset. An error (e.g. kUnavailable while the caches have not synced) is shown on the page
  // and in the JSON's `error` field; the last good snapshot is not reused.
  virtual Result<ClusterSnapshot> Snapshot() = 0;
};

// ChipModeName: "hard" / "soft" (the JSON spelling).
const char* ChipModeName(ChipMode mode);

}  // namespace npushare::dashboard
