// File: sim/demo/cluster_observer.h
//
// ClusterObserver: what the demo shows and judges, sampled from the components' own outputs
// once a second: pods from the API server (phase, node, the scheduler's allocation
// annotations), the soft node's arbiter metrics file (memory used/quota, compute share granted
// and achieved), vNPUs in npu-sim (npu-smi info -t info-vnpu).
//
// Achieved share: a busy tenant's fraction of the device time charged on its chip over the
// last ~5 s of samples (arbiter metrics charged_ns). Expected share: the arbiter is
// work-conserving, so busy tenants split a chip by weight / (sum of the busy weights there).
//
// Thread safety: one thread.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "deviceplugin/daemon/arbiter_metrics_file.h"
#include "sim/demo/demo_cluster.h"

namespace npushare::demo {

// PodView: one table row.
struct PodView {
  std::string name;
  std::string uid;
  std::string node;
  std::string phase;
  std::string detail;  // container state reason, or why it is pending
  std::string chips;   // "0,1" (chip indexes on the node)
  std::string mode;    // "soft", "hard", "whole", "" (none yet)
  int64_t mem_quota_mb = -1;
  int64_t mem_used_mb = -1;
  std::string granted;                // "40%" (soft) or "4096MB slice" (hard)
  std::string achieved;               // "38%" measured, "" unknown
  bool expect_unschedulable = false;  // label demo.npushare.io/expect=unschedulable
};

// ShareCheck: one busy soft tenant device at the last measurement.
struct ShareCheck {
  std::string pod;
  int chip = -1;
  double weight = 0;
  double expected_pct = 0;
  double achieved_pct = 0;
};

class ClusterObserver {
 public:
  explicit ClusterObserver(DemoCluster& cluster);

  // Sample: one observation (API, arbiter metrics, vNPUs). Errors are kept in last_error().
  void Sample();

  const std::vector<PodView>& pods() const { return pods_; }
  // RenderTable: the pods as a fixed-width table.
  std::string RenderTable() const;

  // History for the verdict.
  const std::set<std::string>& reached_running() const { return reached_running_; }
  std::optional<std::chrono::steady_clock::time_point> first_running() const {
    return first_running_;
  }
  const std::vector<std::string>& quota_violations() const { return quota_violations_; }
  int max_vnpus() const { return max_vnpus_; }
  const std::vector<ShareCheck>& share_checks() const { return share_checks_; }
  const std::string& last_error() const { return last_error_; }

 private:
  struct MetricsSample {
    std::chrono::steady_clock::time_point at;
    deviceplugin::daemon::ArbiterMetrics metrics;
  };
  void SampleShares(const NodePaths& node);

  DemoCluster& cluster_;
  std::vector<PodView> pods_;
  std::map<std::string, std::string> uuid_to_index_;
  std::map<std::string, std::deque<MetricsSample>> metrics_;  // by node
  std::set<std::string> reached_running_;
  std::optional<std::chrono::steady_clock::time_point> first_running_;
  std::vector<std::string> quota_violations_;
  int max_vnpus_ = 0;
  std::vector<ShareCheck> share_checks_;
  std::string last_error_;
};

}  // namespace npushare::demo
