// Issue 11: reasons grouped by node set (bounded memory for unplaceable pods), the container
// limit at Filter, the dry run's input checks and JSON warnings, and that Filter's fast paths
// (key sort, lazy reasons, FitInto) decide exactly what the public pieces decide.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "cli/dry_run.h"
#include "cli/manifest_reader.h"
#include "cli/schedule_command.h"
#include "scheduling/pod_filter.h"
#include "support/temp_dir.h"
#include "unit/scheduling/test_chips.h"

namespace npushare::scheduling {
namespace {

using testing::Chip910B3;

NodeState Node(const std::string& name, int chips, bool soft = false) {
  NodeState n;
  n.name = name;
  n.annotations["hami-vnpu-core"] = soft ? "true" : "false";
  for (int i = 0; i < chips; ++i) {
    hami::DeviceInfo d;
    d.id = name + "-npu-" + std::to_string(i);
    d.index = static_cast<uint32_t>(i);
    d.count = soft ? 8 : 4;
    d.devmem = 65536;
    d.devcore = soft ? 100 : 20;
    d.type = "Ascend910B3";
    d.health = true;
    d.numa = i % 2;
    n.registered["Ascend910B3"].push_back(d);
  }
  return n;
}

PodSpec Pod(const std::string& memory, const std::string& count = "1", bool soft = false) {
  PodSpec p;
  p.name = "p";
  if (soft) {
    p.annotations[hami::kVnpuModeAnnotation] = hami::kVnpuModeHamiCore;
  }
  ContainerSpec c;
  c.name = "main";
  c.limits = ResourceList{{"huawei.com/Ascend910B3", count}};
  if (!memory.empty()) {
    (*c.limits)["huawei.com/Ascend910B3-memory"] = memory;
  }
  p.containers.push_back(c);
  return p;
}

TEST(Issue11ReasonGroupsTest, NodesAreGroupedAndPerNodeTextIsOptional) {
  config::DeviceConfig cfg;
  cfg.chips = {Chip910B3()};
  std::vector<NodeState> nodes;
  for (int i = 0; i < 300; ++i) {
    nodes.push_back(Node("n" + std::to_string(i), 1 + i % 2, /*soft=*/i % 3 == 0));
  }
  std::vector<const NodeState*> ptrs;
  std::map<std::string, NodeDevices, std::less<>> usage;
  for (const auto& n : nodes) {
    ptrs.push_back(&n);
    usage[n.name] = CapacityOf(n);
  }
  NodeState ghost;
  ghost.name = "ghost";  // not in usage: "node unregistered"
  ptrs.push_back(&ghost);
  const PodSpec pod = Pod("", "2");  // two whole cards: only two-chip nodes fit
  FilterOptions keep;
  FilterOutcome full = FilterPod(cfg, pod, ptrs, usage, keep);
  FilterOptions lean;
  lean.keep_node_reasons = false;
  FilterOutcome grouped = FilterPod(cfg, pod, ptrs, usage, lean);

  ASSERT_TRUE(full.chosen.has_value());
  EXPECT_EQ(full.chosen, grouped.chosen);
  EXPECT_EQ(full.Summary(), grouped.Summary());
  EXPECT_EQ(grouped.Summary(),
            "150/301 nodes are available: 150 NodeInsufficientDevice, 1 node unregistered.");
  ASSERT_EQ(grouped.reason_groups.size(), 2u);
  EXPECT_EQ(grouped.reason_groups[0].nodes, 150u);
  EXPECT_EQ(grouped.reason_groups[0].examples.size(), 3u);
  EXPECT_EQ(grouped.reason_groups[0].examples[0].first, "n0");
  EXPECT_EQ(grouped.reason_groups[1].reason_names, std::vector<std::string>{"node unregistered"});
  size_t texts = 0;
  for (size_t i = 0; i < grouped.nodes.size(); ++i) {
    EXPECT_EQ(grouped.nodes[i].fit, full.nodes[i].fit);
    texts += grouped.nodes[i].reason.empty() ? 0 : 1;
    if (!full.nodes[i].fit) {
      EXPECT_FALSE(full.nodes[i].reason.empty());
    }
  }
  EXPECT_EQ(texts, 0u);  // lean: no per-node strings at all
}

TEST(Issue11ReasonGroupsTest, FilterRefusesMoreContainersThanTheAllocationCarries) {
  config::DeviceConfig cfg;
  cfg.chips = {Chip910B3()};
  NodeState n = Node("n", 8);
  std::map<std::string, NodeDevices, std::less<>> usage{{"n", CapacityOf(n)}};
  PodSpec pod = Pod("16384");
  pod.containers.resize(2000, pod.containers[0]);
  FilterOutcome out = FilterPod(cfg, pod, {&n}, usage, FilterOptions{});
  EXPECT_EQ(out.error.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(out.chosen.has_value());
}

// The filter's fast paths against the public reference pieces, on random clusters and pods
// (fixed seed): SortDevices + Fit per node, SelectNode over the fitting ones.
TEST(Issue11FastPathTest, FilterDecidesWhatTheReferencePipelineDecides) {
  config::DeviceConfig cfg;
  cfg.chips = {Chip910B3()};
  std::mt19937 rng(5);
  const char* policies[] = {"spread", "binpack", "numa,binpack", "mutex", "numa"};
  for (int round = 0; round < 200; ++round) {
    std::vector<NodeState> nodes;
    for (int i = 0; i < 6; ++i) {
      nodes.push_back(Node("n" + std::to_string(i), 1 + static_cast<int>(rng() % 8), rng() % 2));
    }
    std::vector<const NodeState*> ptrs;
    std::map<std::string, NodeDevices, std::less<>> usage;
    for (const auto& n : nodes) {
      ptrs.push_back(&n);
      NodeDevices devs = CapacityOf(n);
      for (auto& d : devs["Ascend910B3"]) {
        const int k = static_cast<int>(rng() % 4);
        d.used = k;
        d.usedmem = 16384 * k;
        d.usedcores = d.totalcore == 100 ? 10 * k : 0;
        d.health = rng() % 10 != 0;
      }
      usage[n.name] = std::move(devs);
    }
    const bool soft = rng() % 2 == 1;
    const char* mems[] = {"4096", "16384", "30000", "32768", ""};
    PodSpec pod = Pod(mems[rng() % 5], std::to_string(1 + rng() % 2), soft);
    pod.annotations[hami::kGpuSchedulerPolicyAnnotation] = policies[rng() % 5];
    pod.annotations[hami::kNodeSchedulerPolicyAnnotation] = rng() % 2 ? "spread" : "binpack";
    const bool numa_bind = rng() % 2 == 1;
    if (numa_bind) {
      pod.annotations[hami::kNumaBindAnnotation] = "true";
    }
    FilterOptions opts;
    FilterOutcome out = FilterPod(cfg, pod, ptrs, usage, opts);
    ASSERT_TRUE(out.error.ok());

    // Reference: one container, one chip type.
    const hami::ContainerDeviceRequest req = out.requests.containers[0].at("Ascend910B3");
    const hami::DevicePolicy policy =
        hami::ParseDevicePolicy(pod.annotations[hami::kGpuSchedulerPolicyAnnotation]);
    std::vector<ScoredNode> fitting;
    std::vector<size_t> index;
    for (size_t i = 0; i < nodes.size(); ++i) {
      DeviceUsageList list = usage[nodes[i].name]["Ascend910B3"];
      if (req.nums > static_cast<int32_t>(list.size())) {
        EXPECT_FALSE(out.nodes[i].fit);
        continue;
      }
      SortDevices(list, {req}, {}, policy, numa_bind);
      FitInput in;
      in.chip = &cfg.chips[0];
      in.request = req;
      in.pod_annotations = &pod.annotations;
      in.pod_hami_core = soft;
      in.node_supports_hami_core = soft ? nodes[i].annotations["hami-vnpu-core"] == "true" : false;
      in.mutex_policy = hami::HasMutex(policy);
      FitResult r = Fit(list, in);
      ASSERT_EQ(r.fit, out.nodes[i].fit) << "round " << round << " node " << i;
      if (!r.fit) {
        EXPECT_EQ(r.reason, out.nodes[i].reason) << "round " << round;
        continue;
      }
      fitting.push_back({nodes[i].name, out.nodes[i].score});
      index.push_back(i);
      if (out.chosen == i) {
        ASSERT_EQ(r.devices.size(), out.nodes[i].chosen.size());
        for (size_t k = 0; k < r.devices.size(); ++k) {
          EXPECT_EQ(r.devices[k].uuid, out.nodes[i].chosen[k].second.uuid) << "round " << round;
        }
      }
    }
    auto best = SelectNode(fitting, out.node_policy);
    ASSERT_EQ(best.has_value(), out.chosen.has_value());
    if (best) {
      EXPECT_EQ(index[*best], *out.chosen) << "round " << round;
    }
  }
}

// --- npushare schedule input ---------------------------------------------------------------

config::DeviceConfig Config() {
  config::DeviceConfig cfg;
  cfg.chips = {Chip910B3()};
  return cfg;
}

TEST(Issue11ScheduleInputTest, CompactNodeDuplicateAndUnknownKeysAreErrors) {
  auto dup = cli::ReadNodes("nodes:\n- name: a\n  chip: Ascend910B3\n  name: b\n", Config());
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  auto unknown =
      cli::ReadNodes("nodes:\n- name: a\n  chip: Ascend910B3\n  vdeviceCount: 2\n", Config());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  auto ok = cli::ReadNodes("nodes:\n- name: a\n  chip: Ascend910B3\n  vDeviceCount: 2\n", Config());
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(Issue11ScheduleInputTest, OversizedInputIsRefusedAndJsonKeepsWarnings) {
  npushare::testing::ScopedTempDir dir("issue11");
  const std::string config = std::string(NPUSHARE_SOURCE_DIR) + "/deploy/config/device-config.yaml";
  const std::string nodes = std::string(NPUSHARE_SOURCE_DIR) + "/examples/nodes.yaml";
  const std::string big = dir.path() + "/big.yaml";
  {
    std::ofstream f(big);
    f << std::string((16 << 20) + 1, ' ');
  }
  cli::ScheduleArgs args;
  args.config_path = config;
  args.nodes_path = nodes;
  args.pods_path = big;
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunSchedule(args, out, err), 1);
  EXPECT_NE(err.str().find("limited to 16 MiB"), std::string::npos) << err.str();

  // A hami-core pod whose memory the scheduler cannot use: admitted by upstream rules only
  // when it bypasses the webhook, so feed the filter directly through a placed-free run.
  const std::string pods = dir.path() + "/pods.yaml";
  {
    std::ofstream f(pods);
    f << "kind: Pod\nmetadata:\n  name: w\nspec:\n  containers:\n  - name: c\n"
         "    resources:\n      limits:\n        huawei.com/Ascend910B3: \"1\"\n"
         "      requests:\n        huawei.com/Ascend310P: \"1\"\n"
         "        huawei.com/Ascend310P-memory: \"-5\"\n";
  }
  args.pods_path = pods;
  args.output = "json";
  std::ostringstream jout, jerr;
  ASSERT_EQ(cli::RunSchedule(args, jout, jerr), 0) << jerr.str();
  auto j = nlohmann::json::parse(jout.str());
  ASSERT_EQ(j["pods"].size(), 1u);
  ASSERT_TRUE(j["pods"][0].contains("warnings"));
  ASSERT_EQ(j["pods"][0]["warnings"].size(), 1u) << jout.str();
  EXPECT_NE(j["pods"][0]["warnings"][0].get<std::string>().find("request ignored"),
            std::string::npos);
}

}  // namespace
}  // namespace npushare::scheduling
