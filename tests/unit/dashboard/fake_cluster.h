// Test helper: FakeSnapshotSource and MakeCluster, a deterministic cluster of N nodes x M chips
// with hard and soft slices and pending pods, for the dashboard's unit and browser tests.
#pragma once

#include <mutex>
#include <string>
#include <utility>

#include "dashboard/cluster_snapshot.h"

namespace npushare::dashboard::testing {

// MakeCluster: node-<n>, chips uuid "npu-<n>-<c>". Even chips are hard (two templates),
// odd chips are soft (two containers of one pod with quota + core share); every 8th chip is
// unhealthy and every 5th chip is empty. `pending` pods "waiting-<i>" in namespace "queue".
inline ClusterSnapshot MakeCluster(int nodes, int chips, int pending, int64_t time_ms = 1000) {
  ClusterSnapshot s;
  s.time_unix_ms = time_ms;
  constexpr int64_t kMiB = 1 << 20;
  for (int n = 0; n < nodes; ++n) {
    NodeView node;
    node.name = "node-" + std::to_string(n);
    for (int c = 0; c < chips; ++c) {
      ChipView chip;
      chip.index = static_cast<uint32_t>(c);
      chip.uuid = "npu-" + std::to_string(n) + "-" + std::to_string(c);
      chip.type = "Ascend910B3";
      chip.memory_total_bytes = 65536 * kMiB;
      chip.cores = c % 2 == 0 ? 20 : 100;
      chip.healthy = c % 8 != 7;
      chip.mode = c % 2 == 0 ? ChipMode::kHard : ChipMode::kSoft;
      const std::string pod = "job-" + std::to_string(n) + "-" + std::to_string(c);
      if (c % 5 == 4) {
        // empty chip
      } else if (chip.mode == ChipMode::kHard) {
        SliceView a;
        a.pod_namespace = "team-a";
        a.pod_name = pod + "-x";
        a.container = "main";
        a.template_name = "vir05_1c_16g";
        a.memory_quota_bytes = 16384 * kMiB;
        a.core_percent = 25;
        SliceView b = a;
        b.pod_name = pod + "-y";
        b.template_name = "vir10_3c_32g";
        b.memory_quota_bytes = 32768 * kMiB;
        b.core_percent = 50;
        chip.slices = {a, b};
      } else {
        SliceView a;
        a.pod_namespace = "team-b";
        a.pod_name = pod;
        a.container = "trainer";
        a.memory_quota_bytes = 4096 * kMiB;
        a.core_percent = 30;
        a.memory_used_bytes = 1024 * kMiB;
        a.compute_granted_percent = 35.0;
        a.compute_achieved_percent = 28.5;
        SliceView b = a;
        b.container = "sidecar";
        b.container_index = 1;
        b.memory_quota_bytes = 2048 * kMiB;
        b.core_percent = 10;
        b.memory_used_bytes = 512 * kMiB;
        b.compute_granted_percent = 12.0;
        b.compute_achieved_percent = 9.0;
        chip.slices = {a, b};
      }
      node.chips.push_back(std::move(chip));
    }
    s.nodes.push_back(std::move(node));
  }
  for (int i = 0; i < pending; ++i) {
    s.pending.push_back({"queue", "waiting-" + std::to_string(i),
                         "0/" + std::to_string(nodes) + " nodes are available: " +
                             std::to_string(nodes) + " CardInsufficientMemory.",
                         time_ms - 5000});
  }
  return s;
}

// FakeSnapshotSource: returns `snapshot` (or `error` when not OK); counts calls.
class FakeSnapshotSource : public SnapshotSource {
 public:
  explicit FakeSnapshotSource(ClusterSnapshot snapshot) : snapshot_(std::move(snapshot)) {}
  Result<ClusterSnapshot> Snapshot() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    if (!error_.ok()) {
      return error_;
    }
    return snapshot_;
  }
  void Set(ClusterSnapshot s) {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_ = std::move(s);
  }
  void SetError(Status e) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(e);
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  ClusterSnapshot snapshot_;
  Status error_;
  int calls_ = 0;
};

}  // namespace npushare::dashboard::testing
