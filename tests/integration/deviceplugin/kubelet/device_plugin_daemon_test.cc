// npushare-device-plugin as a process, over the real wires: npu-sim (libdcmi.so), kube-local
// (node registration) and the kubelet stand-in (device-plugin gRPC). Checks the wiring of
// devices/ + kubelet/ + allocate/: chips advertised as HAMi virtual IDs, health changes flowing
// to kubelet, node annotations, kubelet restart, /metrics and /healthz, clean SIGTERM.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "hami/pod_devices.h"
#include "hami/runtime_info.h"
#include "hami/types.h"
#include "integration/deviceplugin/e2e/daemon_fixture.h"

namespace npushare::deviceplugin {
namespace {

using kubelet_sim::KubeletSim;
using kubelet_sim::KubeletState;
using sim::testing::BinPath;

using e2e::Eventually;
using e2e::kNode;
using e2e::kWait;

constexpr const char* kResource = "huawei.com/Ascend910B3";
constexpr size_t kChips = 8;
constexpr size_t kPerChip = 4;  // memoryAllocatable 65536 / smallest template 16384

// The fixture (npu-sim node_910b3.yaml, kube-local, kubelet stand-in, daemon process) is
// shared with the e2e tests.
class DevicePluginDaemonTest : public e2e::DaemonFixture {};

TEST_F(DevicePluginDaemonTest, AdvertisesEveryChipAsVirtualIdsAndRegistersTheNode) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, kChips * kPerChip, kWait));
  KubeletState st = kubelet_->State();
  EXPECT_EQ(st.resources[kResource].endpoint, "Ascend910B3.sock");
  std::map<std::string, std::set<std::string>> per_chip;
  for (const auto& d : st.resources[kResource].devices) {
    const size_t dash = d.id.rfind('-');
    ASSERT_NE(dash, std::string::npos) << d.id;
    per_chip[d.id.substr(0, dash)].insert(d.id.substr(dash + 1));
  }
  EXPECT_EQ(per_chip.size(), kChips);
  for (const auto& [uuid, ks] : per_chip) {
    EXPECT_EQ(ks, (std::set<std::string>{"0", "1", "2", "3"})) << uuid;
  }
  // The node registration and handshake HAMi's scheduler reads.
  ASSERT_TRUE(Eventually([&] {
    auto a = NodeAnnotations();
    return a.count("hami.io/node-register-Ascend910B3") == 1 &&
           a["hami.io/node-handshake-Ascend910B3"].rfind("Reported_", 0) == 0;
  }));
  auto a = NodeAnnotations();
  auto devices = nlohmann::json::parse(a["hami.io/node-register-Ascend910B3"]);
  ASSERT_TRUE(devices.is_array());
  EXPECT_EQ(devices.size(), kChips);
  for (const auto& d : devices) {
    EXPECT_EQ(per_chip.count(d.value("id", "")), 1u) << d.dump();  // same UUIDs both ways
  }
  EXPECT_EQ(a["hami-vnpu-core"], "false");
}

TEST_F(DevicePluginDaemonTest, ChipHealthChangesReachKubelet) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, kChips * kPerChip, kWait));
  auto fault = Run({BinPath("npu-sim"), "fault", "--chip", "3", "--health", "critical"});
  ASSERT_EQ(fault.exit_code, 0) << fault.out;
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, (kChips - 1) * kPerChip, kWait));
  EXPECT_EQ(kubelet_->State().resources[kResource].capacity(), kChips * kPerChip);
  auto ok = Run({BinPath("npu-sim"), "fault", "--chip", "3", "--health", "ok"});
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_TRUE(kubelet_->WaitForHealthy(kResource, kChips * kPerChip, kWait));
}

TEST_F(DevicePluginDaemonTest, KubeletRestartThenSigtermRemovesTheSocket) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, kChips * kPerChip, kWait));
  ASSERT_TRUE(kubelet_->Restart().ok());
  ASSERT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) {
        size_t ok = 0;
        for (const auto& r : s.registrations) {
          ok += r.resource_name == kResource && r.result.ok() ? 1 : 0;
        }
        return ok == 2;
      },
      kWait));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, kChips * kPerChip, kWait));
  const std::string socket = plugin_dir_ + "/Ascend910B3.sock";
  ASSERT_TRUE(std::filesystem::exists(socket));
  EXPECT_EQ(StopDaemon(), 0);
  EXPECT_FALSE(std::filesystem::exists(socket));
  EXPECT_TRUE(std::filesystem::exists(plugin_dir_ + "/kubelet.sock"));
  EXPECT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) { return !s.resources.at(kResource).connected; }, kWait));
}

TEST_F(DevicePluginDaemonTest, MetricsHealthzAndHelp) {
  const int port = StartDaemon();
  ASSERT_GT(port, 0);
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, kChips * kPerChip, kWait));
  httplib::Client http("127.0.0.1", port);
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  ASSERT_TRUE(Eventually([&] {
    auto m = http.Get("/metrics");
    return m && m->body.find(
                    "npushare_device_plugin_registered{resource=\"huawei.com/"
                    "Ascend910B3\"} 1") != std::string::npos;
  }));
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  size_t chips = 0;
  for (size_t pos = 0;
       (pos = metrics->body.find("npushare_device_plugin_chip_healthy{node=\"node-a\"", pos)) !=
       std::string::npos;
       ++pos) {
    ++chips;
  }
  EXPECT_EQ(chips, kChips);
  EXPECT_NE(metrics->body.find("npushare_device_plugin_kubelet_watch_active 1"), std::string::npos);
  auto help = http.Get("/help");
  ASSERT_TRUE(help);
  EXPECT_NE(help->body.find("/metrics"), std::string::npos);
  EXPECT_NE(help->body.find("/healthz"), std::string::npos);
  EXPECT_EQ(http.Get("/nothing")->status, 404);
}

TEST_F(DevicePluginDaemonTest, AllocateWithoutABoundPodFailsAtKubelet) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, kChips * kPerChip, kWait));
  auto grant = kubelet_->Allocate({.owner = "ghost/main", .resource_name = kResource, .count = 1});
  ASSERT_FALSE(grant.ok());
  EXPECT_EQ(grant.status().code(), StatusCode::kNotFound) << grant.status().ToString();
  EXPECT_TRUE(kubelet_->State().resources[kResource].allocated.empty());
}

TEST_F(DevicePluginDaemonTest, HardSlicedPodIsAllocatedThroughTheWholeChain) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, kChips * kPerChip, kWait));
  ASSERT_TRUE(Eventually(
      [&] { return NodeAnnotations().count("hami.io/node-register-Ascend910B3") == 1; }));
  auto registered = nlohmann::json::parse(NodeAnnotations()["hami.io/node-register-Ascend910B3"]);
  ASSERT_GE(registered.size(), 3u);
  const std::string uuid = registered[2].value("id", "");
  ASSERT_FALSE(uuid.empty());

  // The pod as HAMi's scheduler leaves it after Bind: one vir05_1c_16g slice of chip 2.
  hami::PodDevices alloc = {{hami::ContainerDevice{uuid, "Ascend910B3", 16384, 25}}};
  hami::RuntimeInfoEntry rt;
  rt.uuid = uuid;
  rt.temp = "vir05_1c_16g";
  rt.memory = 16384;
  rt.core = 25;
  nlohmann::json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", "p1"},
        {"namespace", "default"},
        {"annotations",
         {{hami::DevicesToAllocateKey("Ascend910B3"), hami::EncodePodDevices(alloc)},
          {hami::DevicesAllocatedKey("Ascend910B3"), hami::EncodePodDevices(alloc)},
          {hami::RuntimeInfoKey("Ascend910B3"), hami::EncodeRuntimeInfo({rt})},
          {hami::kAssignedNodeAnnotation, kNode},
          {hami::kBindTimeAnnotation, "1714557600"},
          {hami::kBindPhaseAnnotation, "allocating"}}}}},
      {"spec", {{"nodeName", kNode}, {"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}};
  ASSERT_TRUE(cluster_.client().Create(kube::kPods, "default", pod).ok());

  auto grant = kubelet_->Allocate({.owner = "p1/main", .resource_name = kResource, .count = 1});
  ASSERT_TRUE(grant.ok()) << grant.status().ToString();
  EXPECT_EQ(grant->response.envs["ASCEND_VNPU_SPECS"], "vir05_1c_16g");
  EXPECT_FALSE(grant->response.envs["ASCEND_VISIBLE_DEVICES"].empty());
  auto after = cluster_.client().Get(kube::kPods, "default", "p1");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["metadata"]["annotations"].value(hami::kBindPhaseAnnotation, ""), "success");
}

TEST_F(DevicePluginDaemonTest, BadCommandLinesExitWithUsage) {
  auto no_node =
      Run({BinPath("npushare-device-plugin"), "--node_name", "", "--config_file", device_config_});
  EXPECT_EQ(no_node.exit_code, 2);
  auto unknown = Run({BinPath("npushare-device-plugin"), "--no-such-flag"});
  EXPECT_EQ(unknown.exit_code, 2);
  auto help = Run({BinPath("npushare-device-plugin"), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--check_idle_vnpu_interval"), std::string::npos);
  EXPECT_NE(help.out.find("--device-plugin-path"), std::string::npos);
}

}  // namespace
}  // namespace npushare::deviceplugin
