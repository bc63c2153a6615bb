#include "hami/scheduler_policy.h"

#include <gtest/gtest.h>

namespace npushare::hami {
namespace {

std::string WeightsError(std::string_view v) {
  return ParseScoringWeights(v).status().message();
}

TEST(ScoringWeightsTest, ParsesValidValues) {
  auto w = ParseScoringWeights(" memory = 3, slot = 1, core = 0 ");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(*w, (ScoringWeights{1, 0, 3}));
  EXPECT_EQ(*ParseScoringWeights("slot=+2,core=1,memory=1"), (ScoringWeights{2, 1, 1}));
}

TEST(ScoringWeightsTest, ErrorsCarryUpstreamText) {
  EXPECT_EQ(WeightsError(""),
            "invalid hami.io/device-scoring-weights annotation \"\": expected slot, core, and "
            "memory weights");
  EXPECT_NE(WeightsError("slot=1,core,memory=3").find("expected key=value entries"),
            std::string::npos);
  EXPECT_NE(WeightsError("slot=1,core=-1,memory=3").find("\"core\" weight must not be negative"),
            std::string::npos);
  EXPECT_NE(WeightsError("slot=1,bandwidth=2,memory=3").find("unknown weight \"bandwidth\""),
            std::string::npos);
  EXPECT_NE(WeightsError("slot=1,slot=2,memory=3").find("duplicate \"slot\" weight"),
            std::string::npos);
  EXPECT_NE(WeightsError("slot=0,core=0,memory=0").find("at least one weight must be positive"),
            std::string::npos);
  EXPECT_NE(WeightsError("slot=x,core=0,memory=1").find("\"slot\" weight must be an integer"),
            std::string::npos);
  EXPECT_NE(WeightsError("slot=3000000000,core=0,memory=1").find("must be an integer"),
            std::string::npos);
  EXPECT_EQ(ParseScoringWeights(std::string(1 << 20, ',')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_NE(WeightsError(std::string("slot=1\0,core=1,memory=1", 23)).find("\\x00"),
            std::string::npos);
}

TEST(NodePolicyTest, OnlyExactSpread) {
  EXPECT_EQ(ParseNodePolicy(std::nullopt, NodePolicy::kSpread), NodePolicy::kSpread);
  EXPECT_EQ(ParseNodePolicy("spread", NodePolicy::kBinpack), NodePolicy::kSpread);
  EXPECT_EQ(ParseNodePolicy("Spread", NodePolicy::kSpread), NodePolicy::kBinpack);
  EXPECT_EQ(ParseNodePolicy("", NodePolicy::kSpread), NodePolicy::kBinpack);
}

TEST(DevicePolicyTest, SingleValuesAndChains) {
  EXPECT_EQ(ParseDevicePolicy("binpack").order, DeviceOrder::kBinpack);
  EXPECT_EQ(ParseDevicePolicy("spread").order, DeviceOrder::kSpread);
  EXPECT_EQ(ParseDevicePolicy("bogus").order, DeviceOrder::kSpread);
  DevicePolicy p = ParseDevicePolicy("topology-aware");
  EXPECT_EQ(p.order, DeviceOrder::kSpread);
  EXPECT_TRUE(p.topology_aware);
  p = ParseDevicePolicy("mutex");
  EXPECT_EQ(p.order, DeviceOrder::kMutex);
  EXPECT_TRUE(HasMutex(p));
  p = ParseDevicePolicy("numa");
  EXPECT_EQ(p.order, DeviceOrder::kChain);
  EXPECT_EQ(p.chain, std::vector<DeviceSortKey>{DeviceSortKey::kNuma});
  p = ParseDevicePolicy("numa, binpack,bogus,mutex");
  EXPECT_EQ(p.order, DeviceOrder::kChain);
  EXPECT_EQ(p.chain, (std::vector<DeviceSortKey>{DeviceSortKey::kNuma, DeviceSortKey::kBinpack}));
  EXPECT_TRUE(HasMutex(p));
  p = ParseDevicePolicy("x,y");
  EXPECT_EQ(p.order, DeviceOrder::kChain);
  EXPECT_TRUE(p.chain.empty());
  EXPECT_FALSE(HasMutex(p));
}

}  // namespace
}  // namespace npushare::hami
