#include "scheduling/fit.h"

#include <gtest/gtest.h>

#include "unit/scheduling/test_chips.h"

namespace npushare::scheduling {
namespace {

using testing::Chip910B3;

// `id` must outlive the device (DeviceUsage views it): pass literals.
DeviceUsage Dev(std::string_view id, uint32_t index, int32_t used = 0, int64_t usedmem = 0) {
  DeviceUsage d;
  d.id = id;
  d.index = index;
  d.type = "Ascend910B3";
  d.health = true;
  d.count = 4;
  d.used = used;
  d.totalmem = 65536;
  d.usedmem = usedmem;
  d.totalcore = 20;
  return d;
}

class FitTest : public ::testing::Test {
 protected:
  FitInput Input(int32_t nums, int32_t memreq) {
    FitInput in;
    in.chip = &chip_;
    in.request = {nums, "Ascend910B3", memreq, memreq == 0 ? 100 : 0, 0};
    in.pod_annotations = &annotations_;
    return in;
  }
  config::ChipConfig chip_ = Chip910B3();
  hami::Annotations annotations_;
};

TEST_F(FitTest, LastDeviceIsPreferred) {
  DeviceUsageList devs = {Dev("a", 0), Dev("b", 1)};
  FitResult r = Fit(devs, Input(1, 16384));
  ASSERT_TRUE(r.fit);
  ASSERT_EQ(r.devices.size(), 1u);
  EXPECT_EQ(r.devices[0].uuid, "b");
  EXPECT_EQ(r.reason, "");
}

TEST_F(FitTest, ReasonsAreCountedAndSorted) {
  DeviceUsageList devs = {Dev("a", 0, 4), Dev("b", 1, 0, 60000), Dev("c", 2)};
  devs[2].health = false;
  FitResult r = Fit(devs, Input(1, 16384));
  EXPECT_FALSE(r.fit);
  EXPECT_EQ(r.reason,
            "1/3 CardInsufficientMemory, 1/3 CardNotHealth, 1/3 CardTimeSlicingExhausted");
  EXPECT_EQ(r.reasons.at(kCardNotHealth), 1);
}

TEST_F(FitTest, WholeCardNeedsUntouchedMemory) {
  DeviceUsageList devs = {Dev("a", 0, 1, 1)};
  FitResult r = Fit(devs, Input(1, 0));
  EXPECT_FALSE(r.fit);
  EXPECT_EQ(r.reason, "1/1 CardInsufficientMemory");
}

TEST_F(FitTest, HamiCorePodNeedsHamiCoreNode) {
  DeviceUsageList devs = {Dev("a", 0), Dev("b", 1)};
  FitInput in = Input(1, 1024);
  in.pod_hami_core = true;
  in.node_supports_hami_core = false;
  EXPECT_EQ(Fit(devs, in).reason, "1/2 ModeNotFit");
  in.node_supports_hami_core = true;
  EXPECT_TRUE(Fit(devs, in).fit);
}

TEST_F(FitTest, UuidWhitelistAndBlacklist) {
  DeviceUsageList devs = {Dev("a", 0), Dev("b", 1)};
  annotations_["hami.io/use-Ascend910B3-uuid"] = "a";
  FitResult r = Fit(devs, Input(1, 1024));
  ASSERT_TRUE(r.fit);
  EXPECT_EQ(r.devices[0].uuid, "a");
  annotations_.clear();
  annotations_["hami.io/no-use-Ascend910B3-uuid"] = "a, b";
  EXPECT_EQ(Fit(devs, Input(1, 1024)).reason, "2/2 CardUuidMismatch");
}

TEST_F(FitTest, MutexPolicyRejectsSharedDevices) {
  DeviceUsageList devs = {Dev("a", 0, 1)};
  FitInput in = Input(1, 1024);
  in.mutex_policy = true;
  EXPECT_EQ(Fit(devs, in).reason, "1/1 ExclusiveDeviceAllocateConflict");
}

TEST_F(FitTest, TopologyPicksLargestNetworkGroup) {
  DeviceUsageList devs = {Dev("n0a", 0), Dev("n1a", 4), Dev("n0b", 1), Dev("n1b", 5),
                          Dev("n1c", 6)};
  std::vector<hami::DeviceInfo> registered;
  for (auto& d : devs) {
    d.network_id = d.index > 3 ? 1 : 0;
    d.has_custom_info = true;
    hami::DeviceInfo info;
    info.id = d.id;
    info.index = d.index;
    info.has_custom_info = true;
    info.network_id = d.network_id;
    registered.push_back(info);
  }
  FitInput in = Input(2, 0);
  in.node_devices = &registered;
  FitResult r = Fit(devs, in);
  ASSERT_TRUE(r.fit);
  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_EQ(r.devices[0].uuid, "n1c");
  EXPECT_EQ(r.devices[1].uuid, "n1b");
}

TEST_F(FitTest, Pairs910CDiesIntoModules) {
  config::ChipConfig c910 = chip_;
  c910.common_word = "Ascend910C";
  DeviceUsageList devs;
  static const std::string kIds[] = {"d0", "d1", "d2", "d3", "d4", "d5"};
  for (uint32_t i : {0u, 2u, 3u, 5u}) {
    DeviceUsage d = Dev(kIds[i], i);
    d.type = "Ascend910C";
    devs.push_back(d);
  }
  FitInput in = Input(2, 0);
  in.chip = &c910;
  in.request.type = "Ascend910C";
  FitResult r = Fit(devs, in);
  ASSERT_TRUE(r.fit) << r.reason;
  EXPECT_EQ(r.devices[0].uuid, "d3");
  EXPECT_EQ(r.devices[1].uuid, "d2");
  in.request.nums = 4;
  r = Fit(devs, in);
  EXPECT_FALSE(r.fit);
  EXPECT_EQ(r.reason, "2/4 AllocatedCardsInsufficientRequest");
}

TEST(GenReasonTest, SortsAsStrings) {
  EXPECT_EQ(GenReason({{"B", 2}, {"A", 10}}, 16), "10/16 A, 2/16 B");
  EXPECT_EQ(GenReason({}, 3), "");
}

TEST(NodeSupportsHamiCoreTest, AnnotationOverridesGlobal) {
  EXPECT_TRUE(NodeSupportsHamiCore(true, {}));
  EXPECT_FALSE(NodeSupportsHamiCore(true, {{"hami-vnpu-core", "false"}}));
  EXPECT_FALSE(NodeSupportsHamiCore(true, {{"hami-vnpu-core", "True"}}));
  EXPECT_TRUE(NodeSupportsHamiCore(false, {{"hami-vnpu-core", "true"}}));
}

}  // namespace
}  // namespace npushare::scheduling
