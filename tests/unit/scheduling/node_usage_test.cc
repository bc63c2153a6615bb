#include "scheduling/node_usage.h"

#include <gtest/gtest.h>

namespace npushare::scheduling {
namespace {

NodeState OneChip() {
  NodeState n;
  n.name = "a";
  hami::DeviceInfo d;
  d.id = "u1";
  d.count = 4;
  d.devmem = 65536;
  d.devcore = 20;
  d.type = "Ascend910B3";
  d.health = true;
  n.registered["Ascend910B3"] = {d};
  return n;
}

TEST(NodeUsageTest, AppContainersAddUpInitContainersTakeTheMax) {
  const NodeState node = OneChip();  // owns the ids the usage views
  NodeDevices devs = CapacityOf(node);
  PlacedPod pod;
  pod.node = "a";
  pod.init_containers = 2;
  pod.allocation["Ascend910B3"] = {
      {{"u1", "Ascend910B3", 30000, 10}},  // init 1
      {{"u1", "Ascend910B3", 50000, 5}},   // init 2
      {{"u1", "Ascend910B3", 16384, 0}},   // app 1
      {{"u1", "Ascend910B3", 16384, 0}},   // app 2
  };
  AddPodUsage(devs, pod);
  const DeviceUsage& d = devs["Ascend910B3"][0];
  EXPECT_EQ(d.used, 2);         // max(1 init slot, 2 app slots)
  EXPECT_EQ(d.usedmem, 50000);  // max(50000, 32768)
  EXPECT_EQ(d.usedcores, 10);   // max(10, 0)
}

TEST(NodeUsageTest, UnknownDevicesAndChipsAreIgnored) {
  const NodeState node = OneChip();  // owns the ids the usage views
  NodeDevices devs = CapacityOf(node);
  PlacedPod pod;
  pod.allocation["Ascend910B3"] = {{{"other", "Ascend910B3", 100, 0}}};
  pod.allocation["Ascend310P"] = {{{"u1", "Ascend310P", 100, 0}}};
  AddPodUsage(devs, pod);
  EXPECT_EQ(devs["Ascend910B3"][0].used, 0);
  EXPECT_EQ(devs.count("Ascend310P"), 0u);
}

}  // namespace
}  // namespace npushare::scheduling
