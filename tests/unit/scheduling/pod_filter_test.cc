#include "scheduling/pod_filter.h"

#include <gtest/gtest.h>

#include "unit/scheduling/test_chips.h"

namespace npushare::scheduling {
namespace {

using testing::Chip910B3;
using testing::ChipNamed;

NodeState MakeNode(const std::string& name, const std::string& cw, int n, int32_t mem,
                   bool topology = true) {
  NodeState node;
  node.name = name;
  for (int i = 0; i < n; ++i) {
    hami::DeviceInfo d;
    d.id = name + "-" + std::to_string(i);
    d.index = static_cast<uint32_t>(i);
    d.count = 4;
    d.devmem = mem;
    d.devcore = 20;
    d.type = cw;
    d.health = true;
    if (topology) {
      d.has_custom_info = true;
      d.network_id = i > 3 ? 1 : 0;
    }
    node.registered[cw].push_back(d);
  }
  return node;
}

PodSpec WholeCards(const std::string& cw, int n) {
  PodSpec pod;
  pod.name = "p";
  ContainerSpec c;
  c.name = "main";
  c.limits = ResourceList{{"huawei.com/" + cw, std::to_string(n)}};
  pod.containers.push_back(c);
  return pod;
}

class PodFilterTest : public ::testing::Test {
 protected:
  FilterOutcome Run(const PodSpec& pod, std::vector<NodeState>& nodes,
                    std::map<std::string, NodeDevices, std::less<>>* usage = nullptr) {
    std::vector<const NodeState*> ptrs;
    std::map<std::string, NodeDevices, std::less<>> own;
    for (const auto& n : nodes) {
      ptrs.push_back(&n);
      own[n.name] = CapacityOf(n);
    }
    return FilterPod(config_, pod, ptrs, usage != nullptr ? *usage : own, options_);
  }
  config::DeviceConfig config_;
  FilterOptions options_;
};

// Regression, issue 2: a request for Ascend910B4 must not land on Ascend910B4-1 chips
// (upstream matches a case-insensitive substring).
TEST_F(PodFilterTest, Issue2ExactChipTypeMatch) {
  config_.chips = {ChipNamed("Ascend910B4", 32768), ChipNamed("Ascend910B4-1", 65536)};
  std::vector<NodeState> nodes = {MakeNode("b4-1", "Ascend910B4-1", 8, 65536)};
  FilterOutcome out = Run(WholeCards("Ascend910B4", 1), nodes);
  ASSERT_TRUE(out.requests_devices);
  EXPECT_FALSE(out.chosen.has_value());
  EXPECT_EQ(out.nodes[0].reason, "NodeInsufficientDevice");

  std::vector<NodeState> b4 = {MakeNode("b4", "Ascend910B4", 8, 32768)};
  FilterOutcome ok = Run(WholeCards("Ascend910B4", 1), b4);
  EXPECT_TRUE(ok.chosen.has_value());
}

// Regression, issue 2: under spread, the node that can give same-network chips wins.
TEST_F(PodFilterTest, Issue2SpreadKeepsTopologyBonusPositive) {
  config_.chips = {Chip910B3()};
  std::vector<NodeState> nodes = {MakeNode("split", "Ascend910B3", 8, 65536),
                                  MakeNode("same", "Ascend910B3", 8, 65536)};
  std::map<std::string, NodeDevices, std::less<>> usage;
  for (const auto& n : nodes)
    usage[n.name] = CapacityOf(n);
  // Same usage on both nodes (6 of 8 chips full); "same" keeps chips 0,1 (network 0)
  // free, "split" keeps chips 3 (network 0) and 4 (network 1).
  for (auto& d : usage["same"]["Ascend910B3"]) {
    if (d.index > 1)
      d.used = 4, d.usedmem = 65536;
  }
  for (auto& d : usage["split"]["Ascend910B3"]) {
    if (d.index != 3 && d.index != 4)
      d.used = 4, d.usedmem = 65536;
  }
  options_.node_policy = NodePolicy::kSpread;
  FilterOutcome out = Run(WholeCards("Ascend910B3", 2), nodes, &usage);
  ASSERT_TRUE(out.chosen.has_value());
  EXPECT_EQ(out.nodes[*out.chosen].node, "same");
  options_.node_policy = NodePolicy::kBinpack;
  out = Run(WholeCards("Ascend910B3", 2), nodes, &usage);
  ASSERT_TRUE(out.chosen.has_value());
  EXPECT_EQ(out.nodes[*out.chosen].node, "same");
}

TEST_F(PodFilterTest, PodWithoutNpuRequestIsNotFiltered) {
  config_.chips = {Chip910B3()};
  std::vector<NodeState> nodes = {MakeNode("a", "Ascend910B3", 1, 65536)};
  PodSpec pod;
  pod.containers.push_back(ContainerSpec{"c", ResourceList{{"cpu", "1"}}, std::nullopt, false, {}});
  FilterOutcome out = Run(pod, nodes);
  EXPECT_FALSE(out.requests_devices);
  EXPECT_TRUE(out.nodes.empty());
}

TEST_F(PodFilterTest, UnknownNodeIsUnregistered) {
  config_.chips = {Chip910B3()};
  std::vector<NodeState> nodes = {MakeNode("a", "Ascend910B3", 1, 65536)};
  std::map<std::string, NodeDevices, std::less<>> empty;
  FilterOutcome out = Run(WholeCards("Ascend910B3", 1), nodes, &empty);
  EXPECT_EQ(out.nodes[0].reason, "node unregistered");
  EXPECT_EQ(out.Summary(), "0/1 nodes are available: 1 node unregistered.");
}

TEST_F(PodFilterTest, SummaryCountsReasonsPerNode) {
  config_.chips = {Chip910B3()};
  std::vector<NodeState> nodes = {MakeNode("a", "Ascend910B3", 1, 65536),
                                  MakeNode("b", "Ascend910B3", 1, 65536)};
  PodSpec pod = WholeCards("Ascend910B3", 1);
  pod.containers[0].limits->emplace("huawei.com/Ascend910B3-memory", "70000");
  FilterOutcome out = Run(pod, nodes);
  EXPECT_FALSE(out.chosen.has_value());
  EXPECT_EQ(out.Summary(), "0/2 nodes are available: 2 CardInsufficientMemory.");
}

TEST_F(PodFilterTest, BadScoringWeightsIsAnError) {
  config_.chips = {Chip910B3()};
  std::vector<NodeState> nodes = {MakeNode("a", "Ascend910B3", 1, 65536)};
  PodSpec pod = WholeCards("Ascend910B3", 1);
  pod.annotations[hami::kDeviceScoringWeightsAnnotation] = "slot=1";
  FilterOutcome out = Run(pod, nodes);
  EXPECT_EQ(out.error.code(), StatusCode::kInvalidArgument);
}

TEST_F(PodFilterTest, InitContainerPeakAndAppSum) {
  config_.chips = {Chip910B3()};
  std::vector<NodeState> nodes = {MakeNode("a", "Ascend910B3", 1, 65536, false)};
  PodSpec pod;
  ContainerSpec init{
      "init",
      ResourceList{{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "40000"}},
      std::nullopt,
      false,
      {}};
  ContainerSpec app{
      "app",
      ResourceList{{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "30000"}},
      std::nullopt,
      false,
      {}};
  pod.init_containers = {init};
  pod.containers = {app, app};
  // Init (40000) and the two apps (60000) run at different times: both fit alone.
  FilterOutcome out = Run(pod, nodes);
  ASSERT_TRUE(out.chosen.has_value()) << out.nodes[0].reason;
  const auto& alloc = out.nodes[0].allocation.at("Ascend910B3");
  ASSERT_EQ(alloc.size(), 3u);
  EXPECT_EQ(alloc[0].size(), 1u);
  EXPECT_EQ(alloc[1].size(), 1u);
  EXPECT_EQ(alloc[2].size(), 1u);

  // Three apps (90000) do not.
  pod.containers.push_back(app);
  out = Run(pod, nodes);
  EXPECT_FALSE(out.chosen.has_value());
}

TEST_F(PodFilterTest, LaterPodsSeeEarlierUsage) {
  config_.chips = {Chip910B3()};
  std::vector<NodeState> nodes = {MakeNode("a", "Ascend910B3", 2, 65536)};
  std::map<std::string, NodeDevices, std::less<>> usage = {{"a", CapacityOf(nodes[0])}};
  for (int i = 0; i < 2; ++i) {
    FilterOutcome out = Run(WholeCards("Ascend910B3", 1), nodes, &usage);
    ASSERT_TRUE(out.chosen.has_value());
    PlacedPod placed{"default/p" + std::to_string(i), "a", 0, out.nodes[0].allocation};
    AddPodUsage(usage["a"], placed);
  }
  FilterOutcome out = Run(WholeCards("Ascend910B3", 1), nodes, &usage);
  EXPECT_FALSE(out.chosen.has_value());
  EXPECT_EQ(out.nodes[0].reason, "2/2 CardInsufficientMemory");
}

TEST_F(PodFilterTest, VerdictsHandedBackGiveTheSameOutcomeAndTheChosenDevices) {
  config_.chips = {Chip910B3()};
  std::vector<NodeState> nodes = {MakeNode("a", "Ascend910B3", 2, 65536),
                                  MakeNode("b", "Ascend910B3", 8, 65536),
                                  MakeNode("c", "Ascend910B3", 1, 65536)};
  std::vector<NodeDevices> devices;
  for (const auto& n : nodes) {
    devices.push_back(CapacityOf(n));
  }
  const PodSpec pod = WholeCards("Ascend910B3", 2);  // does not fit on c
  std::vector<NodeCandidate> candidates;
  for (size_t i = 0; i < nodes.size(); ++i) {
    candidates.push_back({&nodes[i], &devices[i]});
  }
  options_.collect_verdicts = true;
  FilterOutcome first = FilterPod(config_, pod, candidates, options_);
  ASSERT_TRUE(first.chosen.has_value());
  ASSERT_EQ(first.verdicts.size(), nodes.size());
  EXPECT_FALSE(first.verdicts[2].fit);
  for (size_t i = 0; i < nodes.size(); ++i) {
    candidates[i].verdict = &first.verdicts[i];
  }
  FilterOutcome again = FilterPod(config_, pod, candidates, options_);
  EXPECT_EQ(again.chosen, first.chosen);
  EXPECT_EQ(again.nodes[*again.chosen].allocation, first.nodes[*first.chosen].allocation);
  EXPECT_EQ(again.nodes[2].reason, first.nodes[2].reason);
  EXPECT_EQ(again.Summary(), first.Summary());

  // A verdict that no longer holds (the chosen node filled up) is caught, never placed on.
  for (auto& d : devices[*first.chosen].begin()->second) {
    d.used = d.count;
  }
  FilterOutcome stale = FilterPod(config_, pod, candidates, options_);
  EXPECT_FALSE(stale.error.ok());
}

TEST(PodShapeKeyTest, EqualExactlyWhenFilterReadsTheSame) {
  auto pod = [](const std::string& name, const std::string& mem) {
    PodSpec p = WholeCards("Ascend910B3", 1);
    p.name = name;
    p.containers[0].limits->emplace("huawei.com/Ascend910B3-memory", mem);
    return p;
  };
  FilterOptions o;
  EXPECT_EQ(PodShapeKey(pod("a", "16384"), o), PodShapeKey(pod("b", "16384"), o));
  EXPECT_NE(PodShapeKey(pod("a", "16384"), o), PodShapeKey(pod("a", "32768"), o));
  PodSpec annotated = pod("a", "16384");
  annotated.annotations["hami.io/use-Ascend910B3-uuid"] = "x";
  EXPECT_NE(PodShapeKey(annotated, o), PodShapeKey(pod("a", "16384"), o));
  PodSpec other = pod("a", "16384");
  other.annotations["team"] = "x";  // not read by Filter
  EXPECT_EQ(PodShapeKey(other, o), PodShapeKey(pod("a", "16384"), o));
  PodSpec init = pod("a", "16384");
  init.init_containers.push_back(init.containers[0]);
  init.containers[0].limits.reset();
  EXPECT_NE(PodShapeKey(init, o), PodShapeKey(pod("a", "16384"), o));
  FilterOptions spread = o;
  spread.node_policy = NodePolicy::kSpread;
  EXPECT_NE(PodShapeKey(pod("a", "16384"), spread), PodShapeKey(pod("a", "16384"), o));
}

}  // namespace
}  // namespace npushare::scheduling
