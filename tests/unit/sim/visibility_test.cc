#include "state/visibility.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace npushare::sim {
namespace {

TEST(VisibilityTest, ParsesListsAndRanges) {
  auto r = ParseDeviceList("0,2,4-6");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<uint32_t>{0, 2, 4, 5, 6}));
  EXPECT_TRUE(ParseDeviceList("void")->empty());
  EXPECT_TRUE(ParseDeviceList("")->empty());
  EXPECT_EQ(*ParseDeviceList("Ascend910-3"), (std::vector<uint32_t>{3}));
}

TEST(VisibilityTest, RejectsMalformedLists) {
  for (const char* bad : {"1,,2", "a", "3-1", "1,1", "-1", "0,npu-1", "99999999", "1-"}) {
    EXPECT_EQ(ParseDeviceList(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(VisibilityTest, RenumbersPhysicalThenRuntimeSelection) {
  setenv("ASCEND_VISIBLE_DEVICES", "5,2,7", 1);
  setenv("ASCEND_RT_VISIBLE_DEVICES", "2,0", 1);
  unsetenv("ASCEND_RUNTIME_OPTIONS");
  auto none = [](uint32_t, uint32_t*) { return false; };
  auto dcmi_view = ResolveVisibleDevices(8, false, none);
  ASSERT_TRUE(dcmi_view.ok());
  ASSERT_EQ(dcmi_view->size(), 3u);
  EXPECT_EQ((*dcmi_view)[0].chip, 5u);
  auto rt_view = ResolveVisibleDevices(8, true, none);
  ASSERT_TRUE(rt_view.ok());
  ASSERT_EQ(rt_view->size(), 2u);
  EXPECT_EQ((*rt_view)[0].chip, 7u);
  EXPECT_EQ((*rt_view)[1].chip, 5u);
  unsetenv("ASCEND_VISIBLE_DEVICES");
  unsetenv("ASCEND_RT_VISIBLE_DEVICES");
}

TEST(VisibilityTest, VirtualModeMapsVnpuIds) {
  setenv("ASCEND_VISIBLE_DEVICES", "212", 1);
  setenv("ASCEND_RUNTIME_OPTIONS", "NODRV,VIRTUAL", 1);
  auto lookup = [](uint32_t id, uint32_t* chip) {
    *chip = 7;
    return id == 212;
  };
  auto view = ResolveVisibleDevices(8, true, lookup);
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->size(), 1u);
  EXPECT_EQ((*view)[0].chip, 7u);
  EXPECT_EQ((*view)[0].vnpu_id, 212u);
  unsetenv("ASCEND_VISIBLE_DEVICES");
  unsetenv("ASCEND_RUNTIME_OPTIONS");
}

}  // namespace
}  // namespace npushare::sim
