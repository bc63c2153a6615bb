#include "cli/manifest_reader.h"

#include <gtest/gtest.h>

#include "common/file_reader.h"
#include "config/config_loader.h"
#include "hami/node_register.h"

namespace npushare::cli {
namespace {

config::DeviceConfig Config() {
  config::DeviceConfig cfg;
  config::ChipConfig c;
  c.chip_name = "910B3";
  c.common_word = "Ascend910B3";
  c.resource_name = "huawei.com/Ascend910B3";
  c.resource_memory_name = "huawei.com/Ascend910B3-memory";
  c.memory_allocatable = 65536;
  c.memory_capacity = 65536;
  c.ai_core = 20;
  c.templates = {{"vir05_1c_16g", 16384, 5, 1}};
  cfg.chips = {c};
  return cfg;
}

TEST(ManifestReaderTest, CompactNodeMatchesWhatThePluginWrites) {
  auto nodes = ReadNodes(
      "nodes:\n- name: a\n  chip: 910B3\n  count: 6\n  unhealthy: [1]\n  hamiVnpuCore: true\n",
      Config());
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  const auto& devs = (*nodes)[0].registered.at("Ascend910B3");
  ASSERT_EQ(devs.size(), 6u);
  EXPECT_FALSE(devs[1].health);
  EXPECT_TRUE(devs[0].health);
  EXPECT_EQ(devs[0].count, 4);      // 65536 / 16384
  EXPECT_EQ(devs[0].devcore, 100);  // soft slicing registers 100 %
  EXPECT_EQ(devs[5].network_id, 1.0);
  EXPECT_EQ((*nodes)[0].annotations.at("hami-vnpu-core"), "true");
}

TEST(ManifestReaderTest, NodeObjectsAreDecodedFromAnnotations) {
  std::string reg =
      R"([{"id":"x","count":2,"devmem":65536,"devcore":20,"type":"Ascend910B3","health":true}])";
  std::string yaml =
      "apiVersion: v1\nkind: List\nitems:\n- kind: Node\n  metadata:\n    name: n1\n"
      "    annotations:\n      hami.io/node-register-Ascend910B3: '" +
      reg + "'\n";
  auto nodes = ReadNodes(yaml, Config());
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].registered.at("Ascend910B3")[0].id, "x");
}

TEST(ManifestReaderTest, BadNodesAreClearErrors) {
  for (const char* yaml : {
           "nodes:\n- {name: a, chip: NoSuchChip}\n",
           "nodes:\n- {chip: 910B3}\n",
           "nodes:\n- {name: a, chip: 910B3, count: 0}\n",
           "nodes:\n- {name: a, chip: 910B3, count: 2, unhealthy: [5]}\n",
           "nodes:\n- {name: a, chip: 910B3}\n- {name: a, chip: 910B3}\n",
           "kind: Pod\nmetadata: {name: x}\n",
           "kind: Node\nmetadata:\n  name: n\n  annotations:\n    "
           "hami.io/node-register-Ascend910B3: 'not json'\n",
           "nodes: [\n",
       }) {
    auto r = ReadNodes(yaml, Config());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << yaml;
  }
}

// Issue 14: a networkIds entry outside int32 is refused instead of wrapping.
TEST(ManifestReaderTest, Issue14NetworkIdsOutOfInt32RangeAreRefused) {
  for (const char* ids :
       {"[0, 2147483648]", "[0, -2147483649]", "[0, 18446744073709551615]", "[0, 1.5]"}) {
    auto r = ReadNodes(
        std::string("nodes:\n- {name: a, chip: 910B3, count: 2, networkIds: ") + ids + "}\n",
        Config());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << ids;
  }
  auto ok = ReadNodes(
      "nodes:\n- {name: a, chip: 910B3, count: 2, networkIds: [-2147483648, "
      "2147483647]}\n",
      Config());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->at(0).registered.at("Ascend910B3")[1].network_id, 2147483647.0);
  EXPECT_EQ(ok->at(0).registered.at("Ascend910B3")[0].network_id, -2147483648.0);
}

TEST(ManifestReaderTest, PodFieldsAndPlacedPods) {
  auto pods = ReadPods(
      "kind: Pod\nmetadata:\n  name: p\n  namespace: team\n  annotations:\n"
      "    hami.io/vgpu-node: n1\n    hami.io/Ascend910B3-devices-allocated: "
      "'u1,Ascend910B3,100,0:;'\n"
      "spec:\n  initContainers:\n  - name: i\n  containers:\n  - name: c\n"
      "    resources:\n      limits: {huawei.com/Ascend910B3: 1}\n");
  ASSERT_TRUE(pods.ok()) << pods.status().ToString();
  const auto& p = (*pods)[0];
  EXPECT_EQ(p.Key(), "team/p");
  EXPECT_EQ(p.init_containers.size(), 1u);
  EXPECT_EQ(p.containers[0].limits->at("huawei.com/Ascend910B3"), "1");
  auto placed = PlacedPodFromSpec(p, Config());
  ASSERT_TRUE(placed.ok());
  ASSERT_TRUE(placed->has_value());
  EXPECT_EQ((*placed)->node, "n1");
  EXPECT_EQ((*placed)->init_containers, 1u);
}

TEST(ManifestReaderTest, BadPodsAreClearErrors) {
  for (const char* yaml : {"kind: Pod\nmetadata: {}\n", "kind: Node\nmetadata: {name: n}\n",
                           "kind: Pod\nmetadata: {name: p}\nspec: {containers: 3}\n",
                           "kind: Pod\nmetadata: {name: p, annotations: [1]}\n"}) {
    EXPECT_EQ(ReadPods(yaml).status().code(), StatusCode::kInvalidArgument) << yaml;
  }
}

}  // namespace
}  // namespace npushare::cli

namespace npushare::cli {
namespace {

// Every example file is loaded by a test; the two node files must agree device by device.
TEST(ExampleFilesTest, KubectlAndCompactNodeFilesDescribeTheSameCluster) {
  auto cfg_text = std::string(NPUSHARE_SOURCE_DIR) + "/deploy/config/device-config.yaml";
  config::Diagnostics diags;
  auto cfg = config::LoadDeviceConfigFile(cfg_text, &diags);
  ASSERT_TRUE(cfg.ok());
  auto compact =
      ReadFileLimited(std::string(NPUSHARE_SOURCE_DIR) + "/examples/nodes.yaml", 1 << 20);
  auto kubectl =
      ReadFileLimited(std::string(NPUSHARE_SOURCE_DIR) + "/examples/nodes-kubectl.yaml", 1 << 20);
  ASSERT_TRUE(compact.ok() && kubectl.ok());
  auto a = ReadNodes(*compact, *cfg);
  auto b = ReadNodes(*kubectl, *cfg);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const auto& na = (*a)[i];
    const auto& nb = (*b)[i];
    EXPECT_EQ(na.name, nb.name);
    EXPECT_EQ(na.annotations.at("hami-vnpu-core"), nb.annotations.at("hami-vnpu-core"));
    ASSERT_EQ(na.registered.size(), nb.registered.size());
    for (const auto& [cw, devs] : na.registered) {
      const auto& other = nb.registered.at(cw);
      ASSERT_EQ(devs.size(), other.size());
      for (size_t k = 0; k < devs.size(); ++k) {
        EXPECT_EQ(devs[k].id, other[k].id);
        EXPECT_EQ(devs[k].count, other[k].count);
        EXPECT_EQ(devs[k].devmem, other[k].devmem);
        EXPECT_EQ(devs[k].devcore, other[k].devcore);
        EXPECT_EQ(devs[k].network_id, other[k].network_id);
        // The exact bytes our encoder writes are the ones in the kubectl file.
        EXPECT_EQ(na.annotations.at(hami::NodeRegisterKey(cw)),
                  nb.annotations.at(hami::NodeRegisterKey(cw)));
      }
    }
  }
}

}  // namespace
}  // namespace npushare::cli
