#include "cli/dry_run.h"

#include "scheduling/admission.h"
#include "scheduling/allocation_annotations.h"
#include "scheduling/template_trimmer.h"

namespace npushare::cli {

using scheduling::PodSpec;

DryRunScheduler::DryRunScheduler(const config::DeviceConfig& config,
                                 std::vector<scheduling::NodeState> nodes, DryRunOptions options)
    : config_(config), nodes_(std::move(nodes)), options_(std::move(options)) {
  options_.filter.keep_node_reasons = false;
  for (const auto& n : nodes_) {
    usage_[n.name] = scheduling::CapacityOf(n);
  }
}

Status DryRunScheduler::AddPlaced(const scheduling::PlacedPod& pod) {
  auto it = usage_.find(pod.node);
  if (it == usage_.end()) {
    return NotFoundError("pod " + pod.key + " is placed on unknown node " + pod.node);
  }
  scheduling::AddPodUsage(it->second, pod, config_);
  return OkStatus();
}

PodDecision DryRunScheduler::Schedule(PodSpec pod) {
  PodDecision d;
  d.name = pod.name;
  d.ns = pod.ns;
  d.hami_core = pod.IsHamiCore();

  // Admission, as the webhook would run it.
  scheduling::PodAdmission adm = scheduling::MutatePod(config_, pod);
  if (adm.error.ok() && adm.found) {
    for (const auto* list : {&pod.init_containers, &pod.containers}) {
      for (const auto& c : *list) {
        if (c.privileged) {
          adm.error = InvalidArgumentError("container " + c.name + " is privileged");
        }
      }
    }
    if (adm.error.ok() && !pod.node_name.empty()) {
      adm.error = InvalidArgumentError("pod has node assigned");
    }
  }
  if (!adm.error.ok()) {
    d.outcome = PodDecision::Outcome::kAdmissionRejected;
    d.admitted = false;
    d.admission_error = adm.error.message();
    return d;
  }

  std::vector<const scheduling::NodeState*> candidates;
  for (const auto& n : nodes_) {
    candidates.push_back(&n);
  }
  scheduling::FilterOutcome out =
      scheduling::FilterPod(config_, pod, candidates, usage_, options_.filter);
  d.warnings = out.requests.invalid;
  if (!out.error.ok()) {
    d.outcome = PodDecision::Outcome::kFilterError;
    d.reasons = out.error.message();
    return d;
  }
  if (!out.requests_devices) {
    d.outcome = PodDecision::Outcome::kNoNpuRequest;
    return d;
  }
  if (!out.chosen) {
    d.outcome = PodDecision::Outcome::kUnschedulable;
    d.reasons = out.Summary();
    for (const auto& g : out.reason_groups) {
      for (const auto& example : g.examples) {
        d.node_reasons.push_back(example);
      }
    }
    d.reason_groups = std::move(out.reason_groups);
    return d;
  }

  const scheduling::NodeEvaluation& chosen = out.nodes[*out.chosen];
  d.outcome = PodDecision::Outcome::kScheduled;
  d.node = chosen.node;
  d.annotations = scheduling::FilterAnnotations(config_, d.hami_core, chosen.node,
                                                chosen.allocation, options_.now_unix_seconds);
  // FilterOutcome::nodes follows the input order, and the input was nodes_.
  const scheduling::NodeState& node = nodes_[*out.chosen];
  const size_t n_init = pod.init_containers.size();
  for (const auto& [cw, containers] : chosen.allocation) {
    const config::ChipConfig* chip = config_.FindByCommonWord(cw);
    for (size_t i = 0; i < containers.size(); ++i) {
      const std::string cname =
          i < n_init ? pod.init_containers[i].name : pod.containers[i - n_init].name;
      for (const auto& dev : containers[i]) {
        PlacedDevice p;
        p.container = cname;
        p.uuid = dev.uuid;
        p.type = dev.type;
        p.memory = dev.usedmem;
        p.cores = dev.usedcores;
        for (const auto& info : node.registered.at(cw)) {
          if (info.id == dev.uuid) {
            p.index = info.index;
          }
        }
        if (!d.hami_core && chip != nullptr) {
          std::string t = scheduling::TrimMemory(*chip, dev.usedmem).template_name;
          if (!t.empty()) {
            p.template_name = t;
          }
        }
        d.devices.push_back(std::move(p));
      }
    }
  }
  scheduling::PlacedPod placed;
  placed.key = pod.Key();
  placed.node = chosen.node;
  placed.init_containers = n_init;
  placed.allocation = chosen.allocation;
  placed.hami_core = d.hami_core;
  AddPlaced(placed).IgnoreError();  // the node is one of ours by construction
  return d;
}

}  // namespace npushare::cli
