// Device side of npushare-device-plugin against the real npu-sim on a 310P3 node: two cards
// with sparse NPU ids (0, 32), the second reporting a minor alarm (health warning).
#include <gtest/gtest.h>

#include "deviceplugin/devices/device_manager.h"
#include "deviceplugin/devices/node_registrar.h"
#include "hami/node_register.h"
#include "integration/deviceplugin/devices/sim_node_fixture.h"

namespace npushare::deviceplugin::devices {
namespace {

using sim::testing::BinPath;
using testing::SimNode;

class Devices310P3Test : public testing::ClusterFixture {
 protected:
  static SimNode& Sim() { return SimNode::Get("node_310p3.yaml"); }
};

TEST_F(Devices310P3Test, DiscoveryOnSparseCardsAndRegistration) {
  ASSERT_TRUE(Sim().ok());
  DeviceManager devices(ManagerOptions(), Sim().dcmi());
  ASSERT_TRUE(devices.Initialize().ok());
  auto nd = devices.Current();
  EXPECT_EQ(nd->common_word, "Ascend310P");
  EXPECT_EQ(nd->resource_name, "huawei.com/Ascend310P");
  EXPECT_EQ(nd->vdevice_count, 7);  // 21527 / 3072
  ASSERT_EQ(nd->chips.size(), 2u);
  EXPECT_EQ(nd->chips[0].card_id, 0);
  EXPECT_EQ(nd->chips[1].card_id, 32);
  EXPECT_EQ(nd->chips[1].phys_id, 1);
  EXPECT_EQ(nd->chips[1].index, 1u);
  EXPECT_TRUE(nd->chips[0].healthy);
  EXPECT_FALSE(nd->chips[1].healthy);  // a warning is not health 0

  NodeRegistrar registrar(RegistrarOptions(), devices, cluster_.client());
  ASSERT_TRUE(registrar.RegisterOnce().ok());
  auto annos = NodeAnnotations();
  auto devs = hami::DecodeNodeRegister(annos["hami.io/node-register-Ascend310P"].get<std::string>(),
                                       "Ascend310P");
  ASSERT_TRUE(devs.ok()) << devs.status().ToString();
  ASSERT_EQ(devs->size(), 2u);
  EXPECT_EQ((*devs)[0].count, 7);
  EXPECT_EQ((*devs)[0].devmem, 21527);
  EXPECT_EQ((*devs)[0].devcore, 8);
  EXPECT_FALSE((*devs)[0].has_custom_info);  // no NetworkID outside Ascend910*
  EXPECT_FALSE((*devs)[1].health);
  EXPECT_TRUE(annos.contains("hami.io/node-handshake-Ascend310P"));

  // filterDevices.index names the card id 32, not position 1.
  testing::WriteFile(node_config_,
                     testing::NodeConfigYaml(kNode, "    filterDevices:\n      index: [32]\n"));
  EXPECT_TRUE(devices.PollOnce());
  ASSERT_EQ(devices.Current()->chips.size(), 1u);
  EXPECT_EQ(devices.Current()->chips[0].card_id, 0);

  // The warning clears: published.
  auto r = SimNode::Tool({BinPath("npu-sim"), "fault", "--chip", "1", "--health", "ok"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  testing::WriteFile(node_config_, testing::NodeConfigYaml(kNode, "    vDeviceCount: 3\n"));
  EXPECT_TRUE(devices.PollOnce());
  ASSERT_EQ(devices.Current()->chips.size(), 2u);
  EXPECT_TRUE(devices.Current()->chips[1].healthy);
  EXPECT_EQ(devices.Current()->vdevice_count, 3);
}

}  // namespace
}  // namespace npushare::deviceplugin::devices
