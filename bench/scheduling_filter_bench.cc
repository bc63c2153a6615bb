// Filter + score of one pod against N nodes of 8 x 910B3 each, with a realistic mix of
// used devices (fixed seed): whole cards taken, template slices, soft slices, idle chips.
// Reports time per pod (the benchmark's time) and per node (the "per_node" counter, seconds with an
// SI prefix). Goals: issue 2, under 1 ms per pod at 1,000 nodes on one core; issue 11, filter +
// score at most 0.5 ms per pod at 1,000 nodes x 8 chips.
// BM_FilterPodReusedVerdicts is what npushare-scheduler does per pod in steady state.
// Two entry points: BM_FilterPod uses the name -> usage map form (a lookup per node);
// BM_FilterPodCandidates the pre-resolved NodeCandidate form a cache-backed service uses (with
// the per-node summaries the scheduler's cache keeps, as npushare-scheduler runs it).
#include <benchmark/benchmark.h>

#include <random>

#include "scheduling/node_usage.h"
#include "scheduling/pod_filter.h"

namespace npushare::scheduling {
namespace {

config::ChipConfig Chip910B3() {
  config::ChipConfig c;
  c.chip_name = "910B3";
  c.common_word = "Ascend910B3";
  c.resource_name = "huawei.com/Ascend910B3";
  c.resource_memory_name = "huawei.com/Ascend910B3-memory";
  c.resource_core_name = "huawei.com/Ascend910B3-core";
  c.memory_allocatable = 65536;
  c.memory_capacity = 65536;
  c.ai_core = 20;
  c.ai_cpu = 7;
  c.templates = {{"vir05_1c_16g", 16384, 5, 1}, {"vir10_3c_32g", 32768, 10, 3}};
  return c;
}

struct Cluster {
  config::DeviceConfig config;
  std::vector<NodeState> nodes;
  std::vector<const NodeState*> ptrs;
  std::map<std::string, NodeDevices, std::less<>> usage;
  std::vector<NodeSummary> summaries;  // as the scheduler's cache keeps them
  std::vector<NodeCandidate> candidates;
};

Cluster MakeCluster(int n_nodes) {
  Cluster c;
  c.config.chips = {Chip910B3()};
  std::mt19937 rng(42);
  c.nodes.reserve(static_cast<size_t>(n_nodes));
  for (int n = 0; n < n_nodes; ++n) {
    NodeState node;
    node.name = "node-" + std::to_string(n);
    const bool soft = n % 2 == 1;
    node.annotations["hami-vnpu-core"] = soft ? "true" : "false";
    for (uint32_t i = 0; i < 8; ++i) {
      hami::DeviceInfo d;
      d.id = node.name + "-npu-" + std::to_string(i);
      d.index = i;
      d.count = soft ? 8 : 4;
      d.devmem = 65536;
      d.devcore = soft ? 100 : 20;
      d.type = "Ascend910B3";
      d.health = rng() % 50 != 0;
      d.has_custom_info = true;
      d.network_id = i > 3 ? 1 : 0;
      node.registered["Ascend910B3"].push_back(d);
    }
    c.nodes.push_back(std::move(node));
  }
  for (const auto& node : c.nodes) {
    c.ptrs.push_back(&node);
    NodeDevices devs = CapacityOf(node);
    for (auto& d : devs["Ascend910B3"]) {
      const bool soft = node.annotations.at("hami-vnpu-core") == "true";
      // What the chip holds, as the placement rule sees it (vnpu_placement.h): vir05_1c_16g
      // slices on hard nodes, the physical chip for whole cards and soft slices.
      const vnpu::SliceShape vir05{0, 5, 1};
      switch (rng() % 4) {
        case 0:
          d.used = 1, d.usedmem = 65536;
          d.slices.AddPhysical();
          break;  // whole card
        case 1:
          d.used = 2, d.usedmem = 32768;
          if (soft) {
            d.usedcores = 40;
            d.slices.AddPhysical();
            d.slices.AddPhysical();
          } else {
            d.slices.Add(vir05);
            d.slices.Add(vir05);
          }
          break;  // slices
        case 2:
          d.used = 1, d.usedmem = 16384;
          if (soft) {
            d.usedcores = 10;
            d.slices.AddPhysical();
          } else {
            d.slices.Add(vir05);
          }
          break;
        default:
          break;  // idle
      }
    }
    c.usage[node.name] = std::move(devs);
  }
  c.summaries.reserve(c.nodes.size());
  for (const auto& node : c.nodes) {
    c.summaries.push_back(SummarizeNode(c.config, node, c.usage.at(node.name)));
  }
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    c.candidates.push_back({&c.nodes[i], &c.usage.at(c.nodes[i].name), &c.summaries[i]});
  }
  return c;
}

PodSpec SlicePod(bool soft) {
  PodSpec p;
  p.name = "bench";
  if (soft)
    p.annotations[hami::kVnpuModeAnnotation] = hami::kVnpuModeHamiCore;
  ContainerSpec c;
  c.name = "main";
  c.limits = ResourceList{{"huawei.com/Ascend910B3", "1"},
                          {"huawei.com/Ascend910B3-memory", soft ? "20000" : "16384"}};
  if (soft)
    (*c.limits)["huawei.com/Ascend910B3-core"] = "30";
  p.containers.push_back(c);
  return p;
}

void BM_FilterPod(benchmark::State& state, bool soft) {
  Cluster c = MakeCluster(static_cast<int>(state.range(0)));
  PodSpec pod = SlicePod(soft);
  FilterOptions opts;
  size_t fitting = 0;
  for (auto _ : state) {
    FilterOutcome out = FilterPod(c.config, pod, c.ptrs, c.usage, opts);
    fitting = out.chosen ? 1 : 0;
    benchmark::DoNotOptimize(out);
  }
  // Seconds per node, printed with an SI prefix (e.g. "250n" = 250 ns).
  state.counters["per_node"] = benchmark::Counter(
      static_cast<double>(state.range(0)),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["placed"] = static_cast<double>(fitting);
}

void BM_FilterPodCandidates(benchmark::State& state, bool soft) {
  Cluster c = MakeCluster(static_cast<int>(state.range(0)));
  PodSpec pod = SlicePod(soft);
  FilterOptions opts;
  size_t fitting = 0;
  for (auto _ : state) {
    FilterOutcome out = FilterPod(c.config, pod, c.candidates, opts);
    fitting = out.chosen ? 1 : 0;
    benchmark::DoNotOptimize(out);
  }
  state.counters["per_node"] = benchmark::Counter(
      static_cast<double>(state.range(0)),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["placed"] = static_cast<double>(fitting);
}

// BM_FilterPodReusedVerdicts: the scheduler's steady state (ClusterCache::reuse_verdicts): the
// pod is of the shape the previous one had, and only one node (the previous pod's) changed
// since, so every other node comes with its verdict and is not evaluated again.
void BM_FilterPodReusedVerdicts(benchmark::State& state, bool soft) {
  Cluster c = MakeCluster(static_cast<int>(state.range(0)));
  PodSpec pod = SlicePod(soft);
  FilterOptions opts;
  opts.collect_verdicts = true;
  const FilterOutcome first = FilterPod(c.config, pod, c.candidates, opts);
  std::vector<NodeCandidate> candidates = c.candidates;
  for (size_t i = 0; i < candidates.size(); ++i) {
    candidates[i].verdict = &first.verdicts[i];
  }
  size_t fitting = 0;
  size_t changed = 0;
  for (auto _ : state) {
    candidates[changed].verdict = nullptr;  // the node the previous pod went to
    FilterOutcome out = FilterPod(c.config, pod, candidates, opts);
    candidates[changed].verdict = &first.verdicts[changed];
    changed = (changed + 7) % candidates.size();
    fitting = out.chosen ? 1 : 0;
    benchmark::DoNotOptimize(out);
  }
  state.counters["per_node"] = benchmark::Counter(
      static_cast<double>(state.range(0)),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["placed"] = static_cast<double>(fitting);
}

BENCHMARK_CAPTURE(BM_FilterPodReusedVerdicts, hard_slice, false)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FilterPodCandidates, hard_slice, false)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FilterPodCandidates, soft_slice, true)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FilterPod, hard_slice, false)
    ->Arg(1000)
    ->Arg(5000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FilterPod, soft_slice, true)
    ->Arg(1000)
    ->Arg(5000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace npushare::scheduling

BENCHMARK_MAIN();
