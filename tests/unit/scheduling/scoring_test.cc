#include "scheduling/scoring.h"

#include <gtest/gtest.h>

namespace npushare::scheduling {
namespace {

DeviceUsage Dev(uint32_t index, float score, int32_t numa = 0, int32_t used = 0) {
  DeviceUsage d;
  d.index = index;
  d.score = score;
  d.numa = numa;
  d.used = used;
  return d;
}

TEST(DeviceLessTest, BinpackPutsBusiestLast) {
  DeviceUsageList devs = {Dev(0, 30), Dev(1, 10), Dev(2, 20)};
  auto p = hami::ParseDevicePolicy("binpack");
  std::stable_sort(devs.begin(), devs.end(),
                   [&](const auto& a, const auto& b) { return DeviceLess(a, b, p, false); });
  EXPECT_EQ(devs.back().index, 0u);
  p = hami::ParseDevicePolicy("spread");
  std::stable_sort(devs.begin(), devs.end(),
                   [&](const auto& a, const auto& b) { return DeviceLess(a, b, p, false); });
  EXPECT_EQ(devs.back().index, 1u);
}

TEST(DeviceLessTest, NumaBindForcesNumaFirst) {
  auto p = hami::ParseDevicePolicy("spread");
  EXPECT_TRUE(DeviceLess(Dev(0, 1, 0), Dev(1, 99, 1), p, true));
  EXPECT_FALSE(DeviceLess(Dev(0, 1, 0), Dev(1, 99, 1), p, false));
  p = hami::ParseDevicePolicy("numa,binpack");
  EXPECT_TRUE(DeviceLess(Dev(0, 99, 0), Dev(1, 1, 1), p, true));
}

// Issue 11: with numa-bind the NUMA key follows the policy's direction as upstream's current
// Less() does: binpack puts the higher NUMA node first; mutex ignores numa-bind.
TEST(DeviceLessTest, NumaBindKeepsThePolicysDirection) {
  auto p = hami::ParseDevicePolicy("binpack");
  EXPECT_TRUE(DeviceLess(Dev(0, 99, 1), Dev(1, 1, 0), p, true));
  EXPECT_FALSE(DeviceLess(Dev(0, 1, 0), Dev(1, 99, 1), p, true));
  EXPECT_TRUE(DeviceLess(Dev(0, 1, 0), Dev(1, 2, 0), p, true));  // same NUMA: score ascending
  auto m = hami::ParseDevicePolicy("mutex");
  EXPECT_TRUE(DeviceLess(Dev(0, 0, 1, 5), Dev(1, 0, 0, 0), m, true));  // busy first, NUMA ignored
}

TEST(DeviceScoreTest, OnlySameTypeRequestsCount) {
  DeviceUsage d;
  d.type = "A";
  d.count = 10;
  d.used = 2;
  d.totalcore = 4;
  d.usedcores = 1;
  d.totalmem = 8192;
  d.usedmem = 2048;
  std::vector<hami::ContainerDeviceRequest> reqs = {{4, "A", 1024, 0, 1}, {2, "B", 4096, 50, 2}};
  EXPECT_FLOAT_EQ(DeviceScore(d, reqs, {}), 11.75f);
  d.count = 0;
  EXPECT_FLOAT_EQ(DeviceScore(d, reqs, {}), 0.0f);
}

TEST(TopologyScoreTest, SameNetworkScoresHigher) {
  std::vector<std::vector<TopologyDevice>> same = {{{true, 0.0}, {true, 0.0}}};
  std::vector<std::vector<TopologyDevice>> split = {{{true, 0.0}, {true, 1.0}}};
  EXPECT_FLOAT_EQ(TopologyScore("Ascend910B3", same), 10.0f);
  EXPECT_FLOAT_EQ(TopologyScore("Ascend910B3", split), 5.0f);
  EXPECT_FLOAT_EQ(TopologyScore("Ascend310P", same), 0.0f);
  std::vector<std::vector<TopologyDevice>> missing = {{{true, 0.0}, {false, std::nullopt}}};
  EXPECT_FLOAT_EQ(TopologyScore("Ascend910B3", missing), 0.0f);
}

// Regression, issue 2: the topology bonus must not penalise good topology under spread.
TEST(Issue2TopologySpreadTest, GoodTopologyWinsUnderBothPolicies) {
  const float usage = 12.5f;
  for (NodePolicy p : {NodePolicy::kBinpack, NodePolicy::kSpread}) {
    std::vector<ScoredNode> nodes = {{"split", CombineNodeScore(usage, 5.0f, p)},
                                     {"same", CombineNodeScore(usage, 10.0f, p)}};
    auto chosen = SelectNode(nodes, p);
    ASSERT_TRUE(chosen.has_value());
    EXPECT_EQ(nodes[*chosen].name, "same") << NodePolicyName(p);
  }
}

TEST(SelectNodeTest, TiesGoToTheFirstNode) {
  std::vector<ScoredNode> nodes = {{"a", 1.0f}, {"b", 1.0f}};
  EXPECT_EQ(*SelectNode(nodes, NodePolicy::kBinpack), 0u);
  EXPECT_EQ(*SelectNode(nodes, NodePolicy::kSpread), 0u);
  EXPECT_FALSE(SelectNode({}, NodePolicy::kSpread).has_value());
}

}  // namespace
}  // namespace npushare::scheduling
