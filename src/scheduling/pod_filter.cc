#include "scheduling/pod_filter.h"

#include <algorithm>
#include <set>

#include "hami/scheduler_policy.h"
#include "scheduling/fit.h"
#include "scheduling/request_parser.h"

namespace npushare::scheduling {
namespace {

constexpr char kNodeUnregistered[] = "node unregistered";

std::optional<std::string_view> Annotation(const hami::Annotations& a, std::string_view key) {
  auto it = a.find(key);
  if (it == a.end())
    return std::nullopt;
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
  bool numa_bind = false;
  bool hami_core_global = false;
};

// FitContainer: fits one container's requests on `devices` (updated on success).
// Returns false and fills `eval` reasons on failure.
bool FitContainer(const PodContext& ctx, const NodeState& node, NodeDevices& devices,
                  size_t container_index, NodeEvaluation& eval) {
  const auto& reqs = ctx.requests->containers[container_index];
  for (const auto& [cw, request] : reqs) {
    const config::ChipConfig* chip = ctx.config->FindByCommonWord(cw);
    auto dev_it = devices.find(cw);
    if (chip == nullptr || dev_it == devices.end()) {
      eval.reason = kNodeInsufficientDevice;
      eval.reason_names = {kNodeInsufficientDevice};
      return false;
    }
    DeviceUsageList& list = dev_it->second;
    std::vector<hami::ContainerDeviceRequest> score_reqs;
    for (const auto& [_, r] : reqs)
      score_reqs.push_back(r);
    DeviceUsageList candidates;
    for (const auto& d : list) {
      if (d.type == request.type)
        candidates.push_back(d);
    }
    if (request.nums > static_cast<int32_t>(candidates.size())) {
      eval.reason = kNodeInsufficientDevice;
      eval.reason_names = {kNodeInsufficientDevice};
      return false;
    }
    SortDevices(candidates, score_reqs, ctx.weights, ctx.device_policy, ctx.numa_bind);
    FitInput in;
    in.chip = chip;
    in.request = request;
    in.pod_annotations = &ctx.pod->annotations;
    in.pod_hami_core = ctx.pod->IsHamiCore();
    in.node_supports_hami_core = NodeSupportsHamiCore(ctx.hami_core_global, node.annotations);
    in.mutex_policy = hami::HasMutex(ctx.device_policy);
    auto reg = node.registered.find(cw);
    in.node_devices = reg == node.registered.end() ? nullptr : &reg->second;
    FitResult r = Fit(candidates, in);
    if (!r.fit) {
      eval.reason = r.reason;
      eval.reason_names.clear();
      for (const auto& [name, _] : r.reasons)
        eval.reason_names.push_back(name);
      return false;
    }
    AddUsage(list, r.devices);
    auto& slot = eval.allocation[cw][container_index];
    for (const auto& a : r.devices) {
      slot.push_back(hami::ContainerDevice{a.uuid, a.type, a.usedmem, a.usedcores});
    }
  }
  return true;
}

NodeEvaluation EvaluateNode(const PodContext& ctx, const NodeState& node,
                            const NodeDevices& current, NodePolicy policy) {
  NodeEvaluation eval;
  eval.node = node.name;
  const size_t n_containers = ctx.requests->containers.size();
  for (const auto& [cw, _] : current)
    eval.allocation[cw].assign(n_containers, {});

  // Init containers one at a time against the current usage; keep their per-device peak.
  NodeDevices peak = current;
  for (size_t i = 0; i < ctx.requests->init_containers; ++i) {
    NodeDevices scratch = current;
    if (!FitContainer(ctx, node, scratch, i, eval))
      return eval;
    for (auto& [cw, list] : peak) {
      const auto& s = scratch[cw];
      for (size_t k = 0; k < list.size(); ++k) {
        list[k].used = std::max(list[k].used, s[k].used);
        list[k].usedmem = std::max(list[k].usedmem, s[k].usedmem);
        list[k].usedcores = std::max(list[k].usedcores, s[k].usedcores);
      }
    }
  }
  NodeDevices apps = current;
  for (size_t i = ctx.requests->init_containers; i < n_containers; ++i) {
    if (!FitContainer(ctx, node, apps, i, eval))
      return eval;
  }
  eval.fit = true;

  // Score: usage before this pod, plus the topology bonus of what it would get.
  DeviceUsageList all;
  for (const auto& [_, list] : current)
    all.insert(all.end(), list.begin(), list.end());
  const float usage_score = NodeUsageScore(SumDevices(all));
  float bonus = 0.0f;
  for (const auto& [cw, containers] : eval.allocation) {
    const auto& list = current.at(cw);
    std::vector<std::vector<TopologyDevice>> topo;
    for (const auto& c : containers) {
      std::vector<TopologyDevice> devs;
      for (const auto& d : c) {
        auto it = std::find_if(list.begin(), list.end(),
                               [&](const DeviceUsage& u) { return u.id == d.uuid; });
        if (it != list.end())
          devs.push_back({it->has_custom_info, it->network_id});
      }
      topo.push_back(std::move(devs));
    }
    bonus += TopologyScore(cw, topo);
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
      if (p.kind == ParsedRequest::Kind::kRequest)
        m[chip.common_word] = p.request;
      if (p.kind == ParsedRequest::Kind::kInvalid) {
        out.invalid.push_back("container " + c.name + ": " + p.invalid_reason);
      }
    }
  };
  for (const auto& c : pod.init_containers)
    add(c);
  for (const auto& c : pod.containers)
    add(c);
  return out;
}

std::string FilterOutcome::Summary() const {
  std::map<std::string, int> counts;
  for (const auto& n : nodes) {
    if (n.fit)
      continue;
    std::set<std::string> names(n.reason_names.begin(), n.reason_names.end());
    for (const auto& r : names)
      ++counts[r];
  }
  int available = 0;
  for (const auto& n : nodes)
    available += n.fit ? 1 : 0;
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
  if (!out.requests_devices)
    return out;

  PodContext ctx;
  ctx.config = &config;
  ctx.pod = &pod;
  ctx.requests = &out.requests;
  ctx.hami_core_global = options.hami_vnpu_core_global;
  ctx.device_policy =
      hami::ParseDevicePolicy(Annotation(pod.annotations, hami::kGpuSchedulerPolicyAnnotation)
                                  .value_or(std::string_view(options.device_policy)));
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
  if (auto best = SelectNode(fitting, out.node_policy))
    out.chosen = fitting_index[*best];
  return out;
}

}  // namespace npushare::scheduling
