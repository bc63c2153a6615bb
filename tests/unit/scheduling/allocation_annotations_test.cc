#include "scheduling/allocation_annotations.h"

#include <gtest/gtest.h>

#include "unit/scheduling/test_chips.h"

namespace npushare::scheduling {
namespace {

TEST(AllocationAnnotationsTest, HardSliceCarriesTemplate) {
  config::DeviceConfig cfg;
  cfg.chips = {testing::Chip910B3()};
  PodAllocation alloc;
  alloc["Ascend910B3"] = {{{"u1", "Ascend910B3", 16384, 0}}};
  hami::Annotations a = FilterAnnotations(cfg, false, "node-a", alloc, 1700000000);
  EXPECT_EQ(a.at("hami.io/vgpu-node"), "node-a");
  EXPECT_EQ(a.at("hami.io/vgpu-time"), "1700000000");
  EXPECT_EQ(a.at("predicate-time"), "1700000000");
  EXPECT_EQ(a.at("hami.io/Ascend910B3-devices-to-allocate"), "u1,Ascend910B3,16384,0:;");
  EXPECT_EQ(a.at("hami.io/Ascend910B3-devices-allocated"), "u1,Ascend910B3,16384,0:;");
  EXPECT_EQ(a.at("huawei.com/Ascend910B3"),
            R"([{"UUID":"u1","temp":"vir05_1c_16g","memory":16384}])");
}

TEST(AllocationAnnotationsTest, SoftSliceHasNoTemplate) {
  config::DeviceConfig cfg;
  cfg.chips = {testing::Chip910B3()};
  PodAllocation alloc;
  alloc["Ascend910B3"] = {{}, {{"u1", "Ascend910B3", 15360, 20}}};
  hami::Annotations a = FilterAnnotations(cfg, true, "n", alloc, 1);
  EXPECT_EQ(a.at("hami.io/Ascend910B3-devices-to-allocate"), ";u1,Ascend910B3,15360,20:;");
  EXPECT_EQ(a.at("huawei.com/Ascend910B3"), R"([{"UUID":"u1","memory":15360,"core":20}])");
}

}  // namespace
}  // namespace npushare::scheduling
