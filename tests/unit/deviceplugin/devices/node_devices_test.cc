#include "deviceplugin/devices/node_devices.h"

#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "deviceplugin/devices/registration.h"
#include "unit/deviceplugin/devices/test_configs.h"

namespace npushare::deviceplugin::devices {
namespace {

using testing::ShippedDeviceConfig;

config::DeviceConfig Shipped(bool soft = false) {
  auto dc = config::ParseDeviceConfig(ShippedDeviceConfig(soft), "device-config.yaml", nullptr);
  EXPECT_TRUE(dc.ok()) << dc.status().ToString();
  return dc.ok() ? *dc : config::DeviceConfig{};
}

config::NodeConfig ParseNode(const std::string& yaml) {
  auto nc = config::ParseNodeConfig(yaml, "node-config.yaml", nullptr);
  EXPECT_TRUE(nc.ok()) << nc.status().ToString();
  return nc.ok() ? *nc : config::NodeConfig{};
}

std::vector<DiscoveredChip> Chips(int n, const std::string& name = "910B3", int card_step = 1) {
  std::vector<DiscoveredChip> v;
  for (int i = 0; i < n; ++i) {
    DiscoveredChip c;
    c.logic_id = c.phys_id = i;
    c.card_id = i * card_step;
    c.device_id = 0;
    c.uuid = "UUID-" + std::to_string(i);
    c.chip_type = "Ascend";
    c.chip_name = name;
    c.health_code = 0;
    v.push_back(c);
  }
  return v;
}

TEST(NodeDevicesTest, HardNode910B3UsesTheConfigEntryAndTemplateCount) {
  auto chips = Chips(2);
  chips[1].health_code = 3;
  auto nd = BuildNodeDevices(chips, Shipped(), nullptr, "n1");
  ASSERT_TRUE(nd.ok()) << nd.status().ToString();
  EXPECT_EQ(nd->common_word, "Ascend910B3");
  EXPECT_EQ(nd->resource_name, "huawei.com/Ascend910B3");
  EXPECT_EQ(nd->memory_mb, 65536u);
  EXPECT_EQ(nd->aicore, 20);
  EXPECT_EQ(nd->vdevice_count, 4);  // 65536 / 16384 (vir05_1c_16g)
  EXPECT_FALSE(nd->hami_vnpu_core);
  ASSERT_EQ(nd->chips.size(), 2u);
  EXPECT_TRUE(nd->chips[0].healthy);
  EXPECT_FALSE(nd->chips[1].healthy);
  EXPECT_EQ(nd->chips[1].index, 1u);
}

TEST(NodeDevicesTest, Node310PCountIsAllocatableOverSmallestTemplate) {
  auto nd = BuildNodeDevices(Chips(2, "310P3", 32), Shipped(), nullptr, "n1");
  ASSERT_TRUE(nd.ok()) << nd.status().ToString();
  EXPECT_EQ(nd->common_word, "Ascend310P");
  EXPECT_EQ(nd->vdevice_count, 7);  // 21527 / 3072
  EXPECT_EQ(nd->chips[1].card_id, 32);
}

TEST(NodeDevicesTest, SoftNodeDefaultIsTheRuntimeTenantLimitAndCore100) {
  auto nd = BuildNodeDevices(Chips(1), Shipped(/*soft=*/true), nullptr, "n1");
  ASSERT_TRUE(nd.ok());
  EXPECT_TRUE(nd->hami_vnpu_core);
  EXPECT_EQ(nd->aicore, 100);
  EXPECT_EQ(nd->vdevice_count, kSoftSlicingVDeviceCount);
  EXPECT_EQ(kSoftSlicingVDeviceCount, 64);
  // Upstream would register 4 here: the issue's complaint (ascend-device-plugin#128).
  EXPECT_GT(nd->vdevice_count, 4);
}

TEST(NodeDevicesTest, NodeEntryOverridesSoftSwitchAndCount) {
  auto nc =
      ParseNode(testing::NodeConfigYaml("n1", "    hami-vnpu-core: true\n    vDeviceCount: 8\n"));
  auto nd = BuildNodeDevices(Chips(1), Shipped(), &nc, "n1");
  ASSERT_TRUE(nd.ok());
  EXPECT_TRUE(nd->hami_vnpu_core);
  EXPECT_EQ(nd->vdevice_count, 8);
  // Another node's entry does not apply.
  auto other = BuildNodeDevices(Chips(1), Shipped(), &nc, "n2");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->hami_vnpu_core);
  EXPECT_EQ(other->vdevice_count, 4);
  // false on the node overrides a global true.
  auto off = ParseNode(testing::NodeConfigYaml("n1", "    hami-vnpu-core: false\n"));
  auto nd_off = BuildNodeDevices(Chips(1), Shipped(true), &off, "n1");
  ASSERT_TRUE(nd_off.ok());
  EXPECT_FALSE(nd_off->hami_vnpu_core);
  EXPECT_EQ(nd_off->aicore, 20);
}

TEST(NodeDevicesTest, FilterByUuidAndByCardIdRenumbersIndex) {
  auto nc = ParseNode(testing::NodeConfigYaml(
      "n1", "    filterDevices:\n      uuid: [\"UUID-1\"]\n      index: [6]\n"));
  // Cards 0, 2, 4, 6: the index filter names card id 6, not position 3... and position 1
  // (card 2) is filtered by UUID.
  auto nd = BuildNodeDevices(Chips(4, "910B3", 2), Shipped(), &nc, "n1");
  ASSERT_TRUE(nd.ok());
  ASSERT_EQ(nd->chips.size(), 2u);
  EXPECT_EQ(nd->chips[0].uuid, "UUID-0");
  EXPECT_EQ(nd->chips[1].uuid, "UUID-2");
  EXPECT_EQ(nd->chips[1].index, 1u);
  EXPECT_EQ(nd->chips[1].card_id, 4);
}

TEST(NodeDevicesTest, UnknownChipNameIsFailedPrecondition) {
  auto nd = BuildNodeDevices(Chips(1, "999Z"), Shipped(), nullptr, "n1");
  EXPECT_EQ(nd.status().code(), StatusCode::kFailedPrecondition);
}

TEST(NodeDevicesTest, NonAscendChipsAndOtherModelsAreLeftOut) {
  auto chips = Chips(3);
  chips[0].chip_type = "Mcu";
  chips[2].chip_name = "310P3";
  auto nd = BuildNodeDevices(chips, Shipped(), nullptr, "n1");
  ASSERT_TRUE(nd.ok());
  ASSERT_EQ(nd->chips.size(), 1u);
  EXPECT_EQ(nd->chips[0].uuid, "UUID-1");
  EXPECT_EQ(nd->chips[0].index, 0u);
  auto none = BuildNodeDevices({chips[0]}, Shipped(), nullptr, "n1");
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
}

TEST(NodeDevicesTest, VDeviceCountRules) {
  config::ChipConfig chip;
  chip.memory_allocatable = 32768;
  EXPECT_EQ(VDeviceCount(chip, nullptr, false), 1);  // no templates
  chip.templates = {{"a", 16384, 0, 0}, {"b", 8192, 0, 0}};
  EXPECT_EQ(VDeviceCount(chip, nullptr, false), 4);  // smallest even when unsorted
  config::NodeConfigEntry e;
  EXPECT_EQ(VDeviceCount(chip, &e, false), 4);  // 0 = derive
  e.vdevice_count = 5;
  EXPECT_EQ(VDeviceCount(chip, &e, true), 5);  // the override wins on soft nodes too
  chip.templates = {{"z", 0, 0, 0}};
  EXPECT_EQ(VDeviceCount(chip, nullptr, false), 1);
}

TEST(RegistrationTest, PatchCarriesRegisterHandshakeAndSoftFlag) {
  auto nd = BuildNodeDevices(Chips(5), Shipped(), nullptr, "n1");
  ASSERT_TRUE(nd.ok());
  // 2026-08-21 06:20:40 in civil seconds.
  const auto patch = RegistrationPatch(*nd, 1787293240);
  const auto& annos = patch["metadata"]["annotations"];
  ASSERT_EQ(annos.size(), 3u);
  EXPECT_EQ(annos["hami.io/node-handshake-Ascend910B3"], "Reported_2026.08.21 06:20:40");
  EXPECT_EQ(annos["hami-vnpu-core"], "false");
  const std::string reg = annos["hami.io/node-register-Ascend910B3"];
  EXPECT_EQ(reg.rfind(R"([{"id":"UUID-0","count":4,"devmem":65536,"devcore":20,)", 0), 0u) << reg;
  // The fifth chip (index 4) is on NetworkID 1.
  EXPECT_NE(
      reg.find(
          R"("index":4,"count":4,"devmem":65536,"devcore":20,"type":"Ascend910B3","health":true,"custominfo":{"NetworkID":1})"),
      std::string::npos)
      << reg;
}

TEST(RegistrationTest, KubeletDevicesPerChipAndHealth) {
  auto chips = Chips(2);
  chips[1].health_code = 1;
  auto nd = BuildNodeDevices(chips, Shipped(), nullptr, "n1");
  ASSERT_TRUE(nd.ok());
  auto list = KubeletDevices(*nd);
  ASSERT_EQ(list.size(), 8u);
  EXPECT_EQ(list[0], (PluginDevice{"UUID-0-0", true}));
  EXPECT_EQ(list[7], (PluginDevice{"UUID-1-3", false}));
}

}  // namespace
}  // namespace npushare::deviceplugin::devices
