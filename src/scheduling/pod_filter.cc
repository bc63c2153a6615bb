#include "scheduling/pod_filter.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <set>
#include <span>

#include "hami/scheduler_policy.h"
#include "scheduling/fit.h"
#include "scheduling/request_parser.h"

namespace npushare::scheduling {
namespace {

constexpr char kNodeUnregistered[] = "node unregistered";

std::optional<std::string_view> Annotation(const hami::Annotations& a, std::string_view key) {
  auto it = a.find(key);
  if (it == a.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

void AddUsage(DeviceUsageList& devices, const std::vector<AllocatedDevice>& chosen) {
  for (const auto& c : chosen) {
    for (auto& d : devices) {
      if (d.id == c.uuid) {
        d.used += 1;
        d.usedmem += c.usedmem;
        d.usedcores += c.usedcores;
        break;
      }
    }
  }
}

struct PodContext {
  const config::DeviceConfig* config;
  const PodSpec* pod;
  const PodRequests* requests;
  hami::ScoringWeights weights;
  DevicePolicy device_policy;
  bool mutex_policy = false;  // hami::HasMutex(device_policy)
  bool numa_bind = false;
  bool hami_core_global = false;
  bool pod_hami_core = false;
  // Per requested <cw>: its chip config and whether UUID lists apply (looked up once per pod).
  struct ChipInfo {
    const config::ChipConfig* chip = nullptr;
    bool uuid_rules = false;
  };
  std::map<std::string, ChipInfo, std::less<>> chips;
  // Per container, its requests as a list (what DeviceScore takes); built once per pod.
  std::vector<std::vector<hami::ContainerDeviceRequest>> score_requests;
};

// FitContainer: fits one container's requests against `devices` (`node_hami_core` is
// NodeSupportsHamiCore for `node`, decided once per node). When `record` is not null (it
// then points at `devices`), the chosen devices' usage is added so that later containers
// see it. Returns false and fills `eval` reasons on failure.
bool FitContainer(const PodContext& ctx, const NodeState& node, bool node_hami_core,
                  const NodeDevices& devices, NodeDevices* record, size_t container_index,
                  NodeEvaluation& eval) {
  const auto& reqs = ctx.requests->containers[container_index];
  for (const auto& [cw, request] : reqs) {
    const PodContext::ChipInfo& info = ctx.chips.at(cw);
    const config::ChipConfig* chip = info.chip;
    auto dev_it = devices.find(cw);
    if (chip == nullptr || dev_it == devices.end()) {
      eval.reason = kNodeInsufficientDevice;
      eval.reason_names = {kNodeInsufficientDevice};
      return false;
    }
    const DeviceUsageList& list = dev_it->second;
    DeviceUsageList candidates;
    candidates.reserve(list.size());
    for (const auto& d : list) {
      if (d.type == request.type) {
        candidates.push_back(d);
      }
    }
    if (request.nums > static_cast<int32_t>(candidates.size())) {
      eval.reason = kNodeInsufficientDevice;
      eval.reason_names = {kNodeInsufficientDevice};
      return false;
    }
    SortDevices(candidates, ctx.score_requests[container_index], ctx.weights, ctx.device_policy,
                ctx.numa_bind);
    FitInput in;
    in.chip = chip;
    in.request = request;
    in.pod_annotations = &ctx.pod->annotations;
    in.pod_hami_core = ctx.pod_hami_core;
    in.node_supports_hami_core = node_hami_core;
    in.mutex_policy = ctx.mutex_policy;
    in.uuid_rules = info.uuid_rules;
    auto reg = node.registered.find(cw);
    in.node_devices = reg == node.registered.end() ? nullptr : &reg->second;
    FitResult r = Fit(candidates, in);
    if (!r.fit) {
      eval.reason = r.reason;
      eval.reason_names.clear();
      for (const auto& [name, _] : r.reasons) {
        eval.reason_names.push_back(name);
      }
      return false;
    }
    if (record != nullptr) {
      AddUsage(record->at(cw), r.devices);
    }
    for (const auto& a : r.devices) {
      eval.chosen.emplace_back(container_index, a);
    }
  }
  return true;
}

NodeEvaluation EvaluateNode(const PodContext& ctx, const NodeState& node,
                            const NodeDevices& current, NodePolicy policy) {
  NodeEvaluation eval;
  eval.node = node.name;
  const size_t n_containers = ctx.requests->containers.size();
  const size_t n_init = ctx.requests->init_containers;
  const bool node_hami_core = NodeSupportsHamiCore(ctx.hami_core_global, node.annotations);

  // Init containers run one at a time: each is fitted alone against the current usage.
  // (The pod's resulting usage, init peak vs. app sum, is AddPodUsage's business.)
  for (size_t i = 0; i < n_init; ++i) {
    if (!FitContainer(ctx, node, node_hami_core, current, nullptr, i, eval)) {
      return eval;
    }
  }
  // App containers run together: each must see the devices the earlier ones took. Copying
  // the node's usage for that is only needed when more than one app container asks.
  size_t requesting_apps = 0;
  for (size_t i = n_init; i < n_containers; ++i) {
    requesting_apps += ctx.requests->containers[i].empty() ? 0 : 1;
  }
  std::optional<NodeDevices> apps;
  if (requesting_apps > 1) {
    apps = current;
  }
  for (size_t i = n_init; i < n_containers; ++i) {
    if (ctx.requests->containers[i].empty()) {
      continue;
    }
    const NodeDevices& view = apps ? *apps : current;
    if (!FitContainer(ctx, node, node_hami_core, view, apps ? &*apps : nullptr, i, eval)) {
      return eval;
    }
  }
  eval.fit = true;

  // Score: usage before this pod, plus the topology bonus of what it would get.
  NodeCapacitySums sums;
  for (const auto& [_, list] : current) {
    for (const DeviceUsage& d : list) {
      sums.Add(d);
    }
  }
  const float usage_score = NodeUsageScore(sums);
  // Topology bonus per chip type (TopologyScore's rule on the flat `chosen` list, where each
  // (container, chip type) run is contiguous), without building nested vectors per node.
  float bonus = 0.0f;
  for (const auto& [cw, _] : current) {
    if (cw.rfind("Ascend910", 0) != 0) {
      continue;
    }
    float sum = 0.0f;
    bool valid = true;
    TopologyDevice run[64];
    size_t n = 0;
    size_t run_container = SIZE_MAX;
    auto flush = [&] {
      if (n == 0) {
        return;
      }
      std::optional<float> share = TopologyShare(std::span<const TopologyDevice>(run, n));
      if (!share) {
        valid = false;
      }
      sum += share.value_or(0.0f);
      n = 0;
    };
    for (const auto& [container, dev] : eval.chosen) {
      if (dev.type != cw) {
        continue;
      }
      if (container != run_container) {
        flush();
        run_container = container;
      }
      if (n < std::size(run)) {
        run[n++] = {dev.has_custom_info, dev.network_id};
      }
    }
    flush();
    if (valid) {
      bonus += 10.0f * sum;
    }
  }
  eval.score = CombineNodeScore(usage_score, bonus, policy);
  return eval;
}

}  // namespace

bool PodRequests::Empty() const {
  return std::all_of(containers.begin(), containers.end(), [](const auto& m) { return m.empty(); });
}

PodRequests BuildPodRequests(const config::DeviceConfig& config, const PodSpec& pod) {
  PodRequests out;
  out.init_containers = pod.init_containers.size();
  auto add = [&](const ContainerSpec& c) {
    auto& m = out.containers.emplace_back();
    for (const auto& chip : config.chips) {
      ParsedRequest p = ParseContainerRequest(chip, c);
      if (p.kind == ParsedRequest::Kind::kRequest) {
        m[chip.common_word] = p.request;
      }
      if (p.kind == ParsedRequest::Kind::kInvalid) {
        out.invalid.push_back("container " + c.name + ": " + p.invalid_reason);
      }
    }
  };
  for (const auto& c : pod.init_containers) {
    add(c);
  }
  for (const auto& c : pod.containers) {
    add(c);
  }
  return out;
}

std::string FilterOutcome::Summary() const {
  std::map<std::string, int> counts;
  for (const auto& n : nodes) {
    if (n.fit) {
      continue;
    }
    std::set<std::string> names(n.reason_names.begin(), n.reason_names.end());
    for (const auto& r : names) {
      ++counts[r];
    }
  }
  int available = 0;
  for (const auto& n : nodes) {
    available += n.fit ? 1 : 0;
  }
  std::string s =
      std::to_string(available) + "/" + std::to_string(nodes.size()) + " nodes are available";
  bool first = true;
  for (const auto& [name, c] : counts) {
    s += first ? ": " : ", ";
    first = false;
    s += std::to_string(c) + " " + name;
  }
  s += ".";
  return s;
}

FilterOutcome FilterPod(const config::DeviceConfig& config, const PodSpec& pod,
                        const std::vector<const NodeState*>& nodes,
                        const std::map<std::string, NodeDevices, std::less<>>& usage,
                        const FilterOptions& options) {
  FilterOutcome out;
  out.requests = BuildPodRequests(config, pod);
  out.requests_devices = !out.requests.Empty();
  out.node_policy = hami::ParseNodePolicy(
      Annotation(pod.annotations, hami::kNodeSchedulerPolicyAnnotation), options.node_policy);
  if (!out.requests_devices) {
    return out;
  }

  PodContext ctx;
  ctx.config = &config;
  ctx.pod = &pod;
  ctx.requests = &out.requests;
  ctx.hami_core_global = options.hami_vnpu_core_global;
  ctx.pod_hami_core = pod.IsHamiCore();
  for (const auto& c : out.requests.containers) {
    for (const auto& [cw, _] : c) {
      ctx.chips[cw] = {config.FindByCommonWord(cw), HasUuidRules(pod.annotations, cw)};
    }
  }
  for (const auto& c : out.requests.containers) {
    auto& list = ctx.score_requests.emplace_back();
    for (const auto& [_, r] : c) {
      list.push_back(r);
    }
  }
  ctx.device_policy =
      hami::ParseDevicePolicy(Annotation(pod.annotations, hami::kGpuSchedulerPolicyAnnotation)
                                  .value_or(std::string_view(options.device_policy)));
  ctx.mutex_policy = hami::HasMutex(ctx.device_policy);
  const std::string_view numa = Annotation(pod.annotations, hami::kNumaBindAnnotation).value_or("");
  ctx.numa_bind = numa == "true" || numa == "1" || numa == "t" || numa == "T" || numa == "TRUE" ||
                  numa == "True";
  if (auto w = pod.annotations.find(hami::kDeviceScoringWeightsAnnotation);
      w != pod.annotations.end()) {
    auto parsed = hami::ParseScoringWeights(w->second);
    if (!parsed.ok()) {
      out.error = parsed.status().WithContext(hami::kDeviceScoringWeightsAnnotation);
      return out;
    }
    ctx.weights = *parsed;
  }

  std::vector<ScoredNode> fitting;
  std::vector<size_t> fitting_index;
  out.nodes.reserve(nodes.size());
  fitting.reserve(nodes.size());
  fitting_index.reserve(nodes.size());
  for (const NodeState* node : nodes) {
    auto u = usage.find(node->name);
    if (u == usage.end()) {
      NodeEvaluation e;
      e.node = node->name;
      e.reason = kNodeUnregistered;
      e.reason_names = {kNodeUnregistered};
      out.nodes.push_back(std::move(e));
      continue;
    }
    out.nodes.push_back(EvaluateNode(ctx, *node, u->second, out.node_policy));
    if (out.nodes.back().fit) {
      fitting.push_back({node->name, out.nodes.back().score});
      fitting_index.push_back(out.nodes.size() - 1);
    }
  }
  if (auto best = SelectNode(fitting, out.node_policy)) {
    out.chosen = fitting_index[*best];
    NodeEvaluation& eval = out.nodes[*out.chosen];
    const size_t n_containers = out.requests.containers.size();
    // out.nodes follows the input order, so the chosen evaluation's node is nodes[*chosen].
    for (const auto& [cw, _] : nodes[*out.chosen]->registered) {
      eval.allocation[cw].resize(n_containers);
    }
    for (const auto& [container, a] : eval.chosen) {
      eval.allocation[std::string(a.type)][container].push_back(
          hami::ContainerDevice{std::string(a.uuid), std::string(a.type), a.usedmem, a.usedcores});
    }
  }
  return out;
}

}  // namespace npushare::scheduling
