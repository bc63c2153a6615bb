#include "scheduling/pod_filter.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <iterator>
#include <set>
#include <span>

#include "hami/pod_devices.h"
#include "hami/scheduler_policy.h"
#include "scheduling/admission.h"
#include "scheduling/fit.h"
#include "scheduling/request_parser.h"

namespace npushare::scheduling {
namespace {

void SummarizeNodeInto(const config::DeviceConfig& config, const NodeState& node,
                       const NodeDevices& devices, NodeSummary& s);

std::optional<std::string_view> Annotation(const hami::Annotations& a, std::string_view key) {
  auto it = a.find(key);
  if (it == a.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

// Record: what FitContainer adds to the view of later containers.
enum class Record { kNothing, kSlicesOnly, kAll };

void AddUsage(DeviceUsageList& devices, const std::vector<AllocatedDevice>& chosen, Record record) {
  for (const auto& c : chosen) {
    for (auto& d : devices) {
      if (d.id == c.uuid) {
        if (record == Record::kAll) {
          d.used += 1;
          d.usedmem += c.usedmem;
          d.usedcores += c.usedcores;
        }
        if (c.hard_slice) {
          d.slices.Add(c.slice);
        } else {
          if (record == Record::kAll) {
            d.slices.AddPhysical();  // an init container's whole-chip use ends with it
          }
        }
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
  // Per container, per requested chip type: everything Fit needs that does not depend on the
  // node, prepared once per pod (map lookups, budgets, UUID rules, the FitInput itself).
  struct Step {
    std::string_view cw;
    const hami::ContainerDeviceRequest* request = nullptr;
    bool type_is_cw = false;  // request->type == cw (the usual case)
    FitInput input;           // chip == nullptr: the chip type is not configured
  };
  std::vector<std::vector<Step>> steps;
};

// Scratch: buffers reused across the nodes of one FilterPod call (no allocation per node
// once they have grown to a node's size).
struct Scratch {
  DeviceUsageList candidates;
  std::vector<const DeviceUsage*> order;
  std::vector<std::pair<uint64_t, const DeviceUsage*>> keyed;
  std::vector<AllocatedDevice> picked;
  std::vector<TopologyDevice> topology;
  // What Fit picked on the node being evaluated, and on the best node so far (moved into its
  // NodeEvaluation at the end: one allocation per pod, not one per fitting node).
  std::vector<std::pair<size_t, AllocatedDevice>> chosen;
  std::vector<std::pair<size_t, AllocatedDevice>> best_chosen;
  // The summary of a candidate that came without one.
  NodeSummary summary;
};

// SameText: string equality without a libc call for the short, usually identical chip
// names compared once per device.
inline bool SameText(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  if (a.data() == b.data()) {
    return true;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  return true;
}

// FindChipType: devices.find(cw) by the config entry the summary resolved for each key (no
// string compare), with its position in the summary in `type_index`.
NodeDevices::const_iterator FindChipType(const NodeDevices& devices, const NodeSummary& summary,
                                         const config::ChipConfig* chip, size_t& type_index) {
  type_index = 0;
  for (auto it = devices.begin(); it != devices.end(); ++it, ++type_index) {
    if (summary.chip_types[type_index].chip == chip) {
      return it;
    }
  }
  return devices.end();
}

// OrderKey: DeviceLess for the spread and binpack policies as one integer, so the sort
// compares integers instead of calling the comparator: the score (mapped to an unsigned
// integer with the same order, reversed for spread) and the NUMA node, NUMA first under
// numa-bind (descending for binpack). Scores are never NaN (DeviceScore divides by non-zero
// capacities).
uint64_t OrderKey(float score, int32_t numa_node, bool spread, bool numa_bind) {
  score = score == 0.0f ? 0.0f : score;  // -0 and +0 compare equal
  uint32_t bits = std::bit_cast<uint32_t>(score);
  bits = (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
  if (spread) {
    bits = ~bits;
  }
  const uint32_t numa = static_cast<uint32_t>(numa_node) ^ 0x80000000u;
  if (numa_bind) {
    // NUMA in the policy's direction (binpack: higher first), as DeviceLess.
    return (uint64_t{spread ? numa : ~numa} << 32) | bits;
  }
  return (uint64_t{bits} << 32) | numa;
}

// OrderCandidates: scratch.order = the devices of `list` whose type is request.type, in
// DeviceLess order for this container's scores (stable insertion sort: a node has a handful
// of chips). Spread and binpack sort integer keys over pointers into `list` (nothing
// copied); other policies copy the candidates to give DeviceLess their scores.
void OrderCandidates(const PodContext& ctx, Scratch& scratch, const DeviceUsageList& list,
                     std::string_view list_key, const hami::ContainerDeviceRequest& request,
                     bool all_match) {
  std::vector<const DeviceUsage*>& order = scratch.order;
  order.clear();
  // `all_match`: every device's type is the key and the key is the request's type (from the
  // node summary). Otherwise devices usually view the map key as their type (CapacityOf):
  // once the key was found equal to the request's type the address alone decides, without
  // reading the characters of every device.
  const char* matched = !all_match && SameText(list_key, request.type) ? list_key.data() : nullptr;
  auto same_type = [&](const DeviceUsage& d) {
    if (all_match) {
      return true;
    }
    const bool same =
        (matched != nullptr && d.type.data() == matched && d.type.size() == request.type.size()) ||
        SameText(d.type, request.type);
    if (same) {
      matched = d.type.data();
    }
    return same;
  };
  const hami::DeviceOrder policy = ctx.device_policy.order;
  if (policy == hami::DeviceOrder::kSpread || policy == hami::DeviceOrder::kBinpack) {
    std::vector<std::pair<uint64_t, const DeviceUsage*>>& keyed = scratch.keyed;
    keyed.clear();
    const bool spread = policy == hami::DeviceOrder::kSpread;
    for (const auto& d : list) {
      if (!same_type(d)) {
        continue;
      }
      const float score = DeviceScoreOne(d, request, ctx.weights);
      const std::pair<uint64_t, const DeviceUsage*> item{
          OrderKey(score, d.numa, spread, ctx.numa_bind), &d};
      size_t j = keyed.size();
      keyed.push_back(item);
      while (j > 0 && item.first < keyed[j - 1].first) {
        keyed[j] = keyed[j - 1];
        --j;
      }
      keyed[j] = item;
    }
    for (const auto& [_, d] : keyed) {
      order.push_back(d);
    }
    return;
  }
  DeviceUsageList& candidates = scratch.candidates;
  candidates.clear();
  for (const auto& d : list) {
    if (same_type(d)) {
      candidates.push_back(d);
      candidates.back().score = DeviceScoreOne(d, request, ctx.weights);
    }
  }
  for (const auto& d : candidates) {
    const DeviceUsage* key = &d;
    size_t j = order.size();
    order.push_back(key);
    while (j > 0 && DeviceLess(*key, *order[j - 1], ctx.device_policy, ctx.numa_bind)) {
      order[j] = order[j - 1];
      --j;
    }
    order[j] = key;
  }
}

// FitContainer: fits one container's requests against `devices` (`node_hami_core` is
// NodeSupportsHamiCore for `node`, decided once per node). When `record` is not null (it
// then points at `devices`), `what` of the chosen devices' usage is added so that later
// containers see it. What Fit picks goes to scratch.chosen. Returns false and fills
// `failure` on failure.
bool FitContainer(PodContext& ctx, Scratch& scratch, const NodeState& node,
                  const NodeSummary& summary, bool node_hami_core, const NodeDevices& devices,
                  Record what, NodeDevices* record, size_t container_index, FitFailure& failure) {
  for (PodContext::Step& step : ctx.steps[container_index]) {
    const hami::ContainerDeviceRequest& request = *step.request;
    size_t type_index = 0;
    auto dev_it = step.input.chip == nullptr
                      ? devices.end()
                      : FindChipType(devices, summary, step.input.chip, type_index);
    auto insufficient_device = [&] {
      failure = FitFailure{};
      failure.Set(FitReason::kNodeNoDevice, 1);
      return false;
    };
    if (dev_it == devices.end()) {
      return insufficient_device();
    }
    // Candidates (exact type match, npushare fix) in device-policy order; Fit reads them
    // through pointers.
    OrderCandidates(ctx, scratch, dev_it->second, dev_it->first, request,
                    step.type_is_cw && summary.chip_types[type_index].uniform_type);
    if (request.nums > static_cast<int32_t>(scratch.order.size())) {
      return insufficient_device();
    }
    FitInput& in = step.input;
    in.node_supports_hami_core = node_hami_core;
    in.node_devices = nullptr;
    if (request.nums > 1) {  // only the NetworkID grouping of multi-device requests reads it
      auto reg = node.registered.find(step.cw);
      in.node_devices = reg == node.registered.end() ? nullptr : &reg->second;
    }
    if (!FitInto(scratch.order, in, scratch.picked, failure)) {
      return false;
    }
    if (record != nullptr && what != Record::kNothing) {
      AddUsage(record->find(step.cw)->second, scratch.picked, what);
    }
    for (const auto& a : scratch.picked) {
      scratch.chosen.emplace_back(container_index, a);
    }
  }
  return true;
}

// EvaluateNode: fits the pod on one node and scores it; on failure `failure` says why.
NodeEvaluation EvaluateNode(PodContext& ctx, Scratch& scratch, const NodeState& node,
                            const NodeDevices& current, const NodeSummary& summary,
                            NodePolicy policy, FitFailure& failure) {
  NodeEvaluation eval;
  eval.node = node.name;
  scratch.chosen.clear();
  const size_t n_containers = ctx.requests->containers.size();
  const size_t n_init = ctx.requests->init_containers;
  // NodeSupportsHamiCore, from the summary.
  const bool node_hami_core = summary.hami_core_annotation.value_or(ctx.hami_core_global);

  // Init containers run one at a time: for memory, slots and cores each is fitted alone
  // against the current usage (upstream; the pod's resulting usage is AddPodUsage's
  // business). Their vNPUs, though, live until the pod goes (node_usage.h), so the slices of
  // every container add up: later containers see the slices earlier ones took. App
  // containers run together and see everything earlier app containers took. Copying the
  // node's usage for that is only needed when more than one container asks.
  size_t requesting = 0;
  for (size_t i = 0; i < n_containers; ++i) {
    requesting += ctx.requests->containers[i].empty() ? 0 : 1;
  }
  std::optional<NodeDevices> view;
  if (requesting > 1) {
    view = current;
  }
  for (size_t i = 0; i < n_containers; ++i) {
    if (ctx.requests->containers[i].empty()) {
      continue;
    }
    const bool init = i < n_init;
    Record record = !view ? Record::kNothing : init ? Record::kSlicesOnly : Record::kAll;
    if (!FitContainer(ctx, scratch, node, summary, node_hami_core, view ? *view : current, record,
                      view ? &*view : nullptr, i, failure)) {
      return eval;
    }
  }
  eval.fit = true;

  // Score: usage before this pod (from the summary), plus the topology bonus of what it
  // would get.
  const float usage_score = summary.usage_score;
  // Topology bonus per chip type (TopologyScore's rule on the flat `chosen` list, where each
  // (container, chip type) run is contiguous), without building nested vectors per node.
  float bonus = 0.0f;
  size_t type_index = 0;
  for (auto it = current.begin(); it != current.end(); ++it, ++type_index) {
    const NodeSummary::ChipType& type = summary.chip_types[type_index];
    if (!type.ascend910) {
      continue;
    }
    const std::string_view cw = it->first;
    // Fit names its devices' type with the chip's commonWord: compare addresses first.
    const char* chip_cw = type.chip == nullptr ? nullptr : type.chip->common_word.data();
    float sum = 0.0f;
    bool valid = true;
    std::vector<TopologyDevice>& run = scratch.topology;
    run.clear();
    size_t run_container = SIZE_MAX;
    auto flush = [&] {
      if (run.empty()) {
        return;
      }
      std::optional<float> share = TopologyShare(run);
      if (!share) {
        valid = false;
      }
      sum += share.value_or(0.0f);
      run.clear();
    };
    for (const auto& [container, dev] : scratch.chosen) {
      const bool same =
          (dev.type.data() == chip_cw && dev.type.size() == cw.size()) || SameText(dev.type, cw);
      if (!same) {
        continue;
      }
      if (container != run_container) {
        flush();
        run_container = container;
      }
      run.push_back({dev.has_custom_info, dev.network_id});
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

NodeSummary SummarizeNode(const config::DeviceConfig& config, const NodeState& node,
                          const NodeDevices& devices) {
  NodeSummary s;
  SummarizeNodeInto(config, node, devices, s);
  return s;
}

namespace {

// SummarizeNodeInto: SummarizeNode into `s`, reusing its storage (FilterPod summarises every
// candidate that came without a summary: no allocation per node).
void SummarizeNodeInto(const config::DeviceConfig& config, const NodeState& node,
                       const NodeDevices& devices, NodeSummary& s) {
  s.config = &config;
  s.hami_core_annotation.reset();
  s.chip_types.clear();
  if (auto it = node.annotations.find(hami::kHamiVnpuCoreNodeAnnotation);
      it != node.annotations.end()) {
    s.hami_core_annotation = it->second == "true";  // NodeSupportsHamiCore's rule
  }
  NodeCapacitySums sums;
  for (const auto& [cw, list] : devices) {
    NodeSummary::ChipType& t = s.chip_types.emplace_back();
    t.chip = config.FindByCommonWord(cw);
    t.ascend910 = std::string_view(cw).substr(0, 9) == "Ascend910";
    // A named copy of the binding: clang < 16 cannot capture a structured binding in a lambda.
    const std::string& common_word = cw;
    t.uniform_type = std::all_of(list.begin(), list.end(),
                                 [&](const DeviceUsage& d) { return d.type == common_word; });
    for (const DeviceUsage& d : list) {
      sums.Add(d);
    }
  }
  s.usage_score = NodeUsageScore(sums);
}

}  // namespace

std::string PodShapeKey(const PodSpec& pod, const FilterOptions& options) {
  std::string key;
  key.reserve(256);
  // Fields are length-prefixed so no two different pods can produce the same text.
  auto add = [&key](std::string_view s) {
    key += std::to_string(s.size());
    key += ':';
    key += s;
  };
  add(options.hami_vnpu_core_global ? "g1" : "g0");
  add(NodePolicyName(options.node_policy));
  add(options.device_policy);
  for (const auto& [k, v] : pod.annotations) {
    if (k.rfind("hami.io/", 0) == 0 || k.rfind("huawei.com/", 0) == 0 ||
        k.rfind("nvidia.com/", 0) == 0) {
      add(k);
      add(v);
    }
  }
  auto add_list = [&](const std::optional<ResourceList>& list) {
    if (!list) {
      add("-");
      return;
    }
    add(std::to_string(list->size()));
    for (const auto& [k, v] : *list) {
      add(k);
      add(v);
    }
  };
  for (const auto* group : {&pod.init_containers, &pod.containers}) {
    add(group == &pod.init_containers ? "init" : "app");
    add(std::to_string(group->size()));
    for (const auto& c : *group) {
      add_list(c.limits);
      add_list(c.requests);
    }
  }
  return key;
}

std::string FilterOutcome::Summary() const {
  std::map<std::string, size_t, std::less<>> counts;
  if (!reason_groups.empty()) {
    for (const auto& g : reason_groups) {
      for (const auto& r : g.reason_names) {
        counts[r] += g.nodes;
      }
    }
  } else {
    for (const auto& n : nodes) {
      if (n.fit) {
        continue;
      }
      std::set<std::string> names(n.reason_names.begin(), n.reason_names.end());
      for (const auto& r : names) {
        ++counts[r];
      }
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
  std::vector<NodeCandidate> candidates;
  candidates.reserve(nodes.size());
  for (const NodeState* node : nodes) {
    auto u = usage.find(node->name);
    candidates.push_back({node, u == usage.end() ? nullptr : &u->second});
  }
  return FilterPod(config, pod, candidates, options);
}

FilterOutcome FilterPod(const config::DeviceConfig& config, const PodSpec& pod,
                        std::span<const NodeCandidate> nodes, const FilterOptions& options) {
  FilterOutcome out;
  out.requests = BuildPodRequests(config, pod);
  out.requests_devices = !out.requests.Empty();
  out.node_policy = hami::ParseNodePolicy(
      Annotation(pod.annotations, hami::kNodeSchedulerPolicyAnnotation), options.node_policy);
  if (!out.requests_devices) {
    return out;
  }
  // The allocation annotation carries one entry per container; the decoder (ours and the
  // device plugin's) refuses more than this, so such a pod could never start.
  if (out.requests.containers.size() > hami::kMaxPodDevicesContainers) {
    out.error = InvalidArgumentError(PodTooManyContainersMessage(out.requests.containers.size()));
    return out;
  }

  PodContext ctx;
  ctx.config = &config;
  ctx.pod = &pod;
  ctx.requests = &out.requests;
  ctx.hami_core_global = options.hami_vnpu_core_global;
  ctx.pod_hami_core = pod.IsHamiCore();
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
  for (const auto& c : out.requests.containers) {
    auto& steps = ctx.steps.emplace_back();
    for (const auto& [cw, request] : c) {
      PodContext::Step& step = steps.emplace_back();
      step.cw = cw;
      step.request = &request;
      step.type_is_cw = request.type == cw;
      const config::ChipConfig* chip = config.FindByCommonWord(cw);
      if (chip == nullptr) {
        continue;  // input.chip stays null: NodeInsufficientDevice
      }
      FitInput& in = step.input;
      in.chip = chip;
      in.request = request;
      in.pod_annotations = &pod.annotations;
      in.pod_hami_core = ctx.pod_hami_core;
      in.mutex_policy = ctx.mutex_policy;
      in.uuid_rules = HasUuidRules(pod.annotations, cw);
      in.budget = ChipBudgetOf(*chip);
    }
  }

  Scratch scratch;
  FitFailure failure;
  const bool spread = out.node_policy == NodePolicy::kSpread;
  std::optional<size_t> best;  // SelectNode's rule: first of the best, in input order
  // Groups by reason mask; a pod rarely has more than a handful, so a linear search.
  // Per group: its mask, and the last failure with its text (nodes of one group usually fail
  // identically, so the text is built once, not once per node).
  struct GroupState {
    uint32_t mask;
    FitFailure last;
    std::string last_text;
  };
  std::vector<GroupState> groups;
  auto record_failure = [&](NodeEvaluation& eval) {
    const uint32_t mask = failure.Mask();
    size_t g = 0;
    while (g < groups.size() && groups[g].mask != mask) {
      ++g;
    }
    if (g == groups.size()) {
      groups.push_back({mask, FitFailure{}, std::string()});
      groups.back().last.total = -1;  // matches no real failure
      out.reason_groups.push_back({FitReasonNames(mask), 0, {}});
    }
    GroupState& state = groups[g];
    ReasonGroup& group = out.reason_groups[g];
    ++group.nodes;
    const bool example = group.examples.size() < options.reason_group_examples;
    if (!example && !options.keep_node_reasons) {
      return;
    }
    if (!(state.last == failure)) {
      state.last = failure;
      state.last_text = failure.Text();
    }
    if (example) {
      group.examples.emplace_back(eval.node, state.last_text);
    }
    if (options.keep_node_reasons) {
      eval.reason = state.last_text;
      eval.reason_names = group.reason_names;
    }
  };

  out.nodes.reserve(nodes.size());
  if (options.collect_verdicts) {
    out.verdicts.reserve(nodes.size());
  }
  // Whether the best node so far was taken from a verdict (its devices are then not in
  // scratch.best_chosen: it is evaluated again at the end).
  bool best_from_verdict = false;
  auto summary_of = [&](const NodeCandidate& c) -> const NodeSummary& {
    if (c.summary != nullptr && c.summary->config == &config) {
      return *c.summary;
    }
    SummarizeNodeInto(config, *c.node, *c.devices, scratch.summary);
    return scratch.summary;
  };
  for (const NodeCandidate& c : nodes) {
    if (c.devices == nullptr) {
      NodeEvaluation& e = out.nodes.emplace_back();
      e.node = c.node->name;
      failure = FitFailure{};
      failure.Set(FitReason::kNodeNotRegistered, 1);
      record_failure(e);
      if (options.collect_verdicts) {
        out.verdicts.push_back({false, 0.0f, failure});
      }
      continue;
    }
    if (c.verdict != nullptr) {
      NodeEvaluation& e = out.nodes.emplace_back();
      e.node = c.node->name;
      e.fit = c.verdict->fit;
      e.score = c.verdict->score;
      if (options.collect_verdicts) {
        out.verdicts.push_back(*c.verdict);
      }
      if (!e.fit) {
        failure = c.verdict->failure;
        record_failure(e);
        continue;
      }
    } else {
      out.nodes.push_back(
          EvaluateNode(ctx, scratch, *c.node, *c.devices, summary_of(c), out.node_policy, failure));
      const NodeEvaluation& e = out.nodes.back();
      if (options.collect_verdicts) {
        out.verdicts.push_back({e.fit, e.fit ? e.score : 0.0f, e.fit ? FitFailure{} : failure});
      }
      if (!e.fit) {
        record_failure(out.nodes.back());
        continue;
      }
    }
    const NodeEvaluation& e = out.nodes.back();
    const size_t i = out.nodes.size() - 1;
    if (!best || (spread ? e.score < out.nodes[*best].score : e.score > out.nodes[*best].score)) {
      best = i;
      best_from_verdict = c.verdict != nullptr;
      if (!best_from_verdict) {
        scratch.best_chosen.swap(scratch.chosen);
      }
    }
  }
  if (best && best_from_verdict) {
    // The devices of the chosen node: evaluate it (the same decision its verdict recorded).
    const NodeCandidate& c = nodes[*best];
    NodeEvaluation again =
        EvaluateNode(ctx, scratch, *c.node, *c.devices, summary_of(c), out.node_policy, failure);
    if (!again.fit) {
      // A stale verdict (the caller broke its promise): never place on it.
      out.nodes[*best] = std::move(again);
      record_failure(out.nodes[*best]);
      out.error = InternalError("node " + c.node->name + ": stale filter verdict");
      return out;
    }
    scratch.best_chosen.swap(scratch.chosen);
  }
  if (best) {
    out.chosen = best;
    NodeEvaluation& eval = out.nodes[*out.chosen];
    eval.chosen = std::move(scratch.best_chosen);
    const size_t n_containers = out.requests.containers.size();
    // out.nodes follows the input order, so the chosen evaluation's node is nodes[*chosen].
    for (const auto& [cw, _] : nodes[*out.chosen].node->registered) {
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
