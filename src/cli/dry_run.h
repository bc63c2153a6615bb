// File: cli/dry_run.h
//
// DryRunScheduler: what `npushare schedule` does, without I/O: for each pod in
// order, run admission, filter over all nodes, score, choose, and record the
// usage so later pods see it. Pods that already carry an allocation (see
// manifest_reader.h) only contribute usage.
//
// Thread safety: not thread-safe; one instance per run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/device_config.h"
#include "scheduling/node_usage.h"
#include "scheduling/pod_filter.h"
#include "scheduling/pod_spec.h"

namespace npushare::cli {

struct PlacedDevice {
  std::string container;
  std::string uuid;
  uint32_t index = 0;
  std::string type;
  int32_t memory = 0;
  int32_t cores = 0;
  std::optional<std::string> template_name;  // hard slice only
};

struct PodDecision {
  std::string name;
  std::string ns;
  enum class Outcome {
    kScheduled,
    kUnschedulable,
    kAdmissionRejected,
    kNoNpuRequest,  // asks for no configured chip: left to kube-scheduler alone
    kAlreadyPlaced,
    kFilterError,
  };
  Outcome outcome = Outcome::kUnschedulable;
  bool admitted = true;
  std::optional<std::string> admission_error;
  std::optional<std::string> node;
  std::vector<PlacedDevice> devices;
  std::optional<std::string> reasons;  // kube-scheduler style summary when unschedulable
  // When unschedulable: the nodes grouped by reason (counts, and a few example nodes with
  // their full reason text); memory stays bounded however many nodes there are.
  std::vector<scheduling::ReasonGroup> reason_groups;
  // node -> reason text for the example nodes of reason_groups only (not every node).
  std::vector<std::pair<std::string, std::string>> node_reasons;
  std::vector<std::string> warnings;  // e.g. requests dropped as invalid
  hami::Annotations annotations;      // exactly what the scheduler would write
  bool hami_core = false;
};

struct DryRunOptions {
  // keep_node_reasons is forced off: decisions keep reason_groups instead.
  scheduling::FilterOptions filter;
  int64_t now_unix_seconds = 0;  // timestamp written into annotations
};

class DryRunScheduler {
 public:
  // REQUIRES: `config` outlives the scheduler.
  DryRunScheduler(const config::DeviceConfig& config, std::vector<scheduling::NodeState> nodes,
                  DryRunOptions options);

  // Schedule: decides one pod and records its usage when placed.
  PodDecision Schedule(scheduling::PodSpec pod);

  // AddPlaced: counts a pod placed earlier (its node must be known; unknown -> kNotFound).
  Status AddPlaced(const scheduling::PlacedPod& pod);

  const std::vector<scheduling::NodeState>& nodes() const { return nodes_; }

 private:
  const config::DeviceConfig& config_;
  std::vector<scheduling::NodeState> nodes_;
  std::map<std::string, scheduling::NodeDevices, std::less<>> usage_;
  DryRunOptions options_;
};

}  // namespace npushare::cli
