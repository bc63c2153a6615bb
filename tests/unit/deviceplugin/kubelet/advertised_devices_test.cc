// NodeDevices -> the IDs kubelet sees (HAMi's "<uuid>-<k>" virtual devices).
#include "deviceplugin/kubelet/advertised_devices.h"

#include <gtest/gtest.h>

namespace npushare::deviceplugin {
namespace {

NodeDevices TwoChips(int32_t vdevice_count) {
  NodeDevices nd;
  nd.common_word = "Ascend910B3";
  nd.resource_name = "huawei.com/Ascend910B3";
  nd.vdevice_count = vdevice_count;
  Chip a;
  a.uuid = "u0";
  a.healthy = true;
  Chip b;
  b.uuid = "u1";
  b.healthy = false;
  nd.chips = {a, b};
  return nd;
}

TEST(AdvertisedDevices, VdeviceCountIdsPerChipWithTheChipsHealth) {
  auto ids = AdvertisedDevices(TwoChips(3));
  std::vector<PluginDevice> want = {{"u0-0", true},  {"u0-1", true},  {"u0-2", true},
                                    {"u1-0", false}, {"u1-1", false}, {"u1-2", false}};
  EXPECT_EQ(ids, want);
}

TEST(AdvertisedDevices, NonPositiveCountAdvertisesOnePerChip) {
  EXPECT_EQ(AdvertisedDevices(TwoChips(0)).size(), 2u);
  EXPECT_EQ(AdvertisedDevices(TwoChips(-5)).size(), 2u);
  EXPECT_TRUE(AdvertisedDevices(NodeDevices{}).empty());
}

TEST(AdvertisedDevices, ResourceAndEndpointFollowTheCommonWord) {
  PluginResource r = PluginResourceFor(TwoChips(1));
  EXPECT_EQ(r.resource_name, "huawei.com/Ascend910B3");
  EXPECT_EQ(r.endpoint, "Ascend910B3.sock");
}

}  // namespace
}  // namespace npushare::deviceplugin
