// Device side of npushare-device-plugin against the real npu-sim (libdcmi.so, npu-smi,
// npu-sim-workload) and kube-local, on an 8-card 910B3 node.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "deviceplugin/devices/command_runner_impl.h"
#include "deviceplugin/devices/device_manager.h"
#include "deviceplugin/devices/device_share.h"
#include "deviceplugin/devices/node_devices.h"
#include "deviceplugin/devices/node_registrar.h"
#include "deviceplugin/devices/vnpu_reconciler.h"
#include "hami/node_register.h"
#include "integration/deviceplugin/devices/sim_node_fixture.h"
#include "mocks/kube/fake_clock.h"

namespace npushare::deviceplugin::devices {
namespace {

using sim::testing::BinPath;
using testing::SimNode;

class Devices910B3Test : public testing::ClusterFixture {
 protected:
  void SetUp() override {
    testing::ClusterFixture::SetUp();
    ASSERT_TRUE(Sim().ok());
  }
  static SimNode& Sim() { return SimNode::Get("node_910b3.yaml"); }
  static void Fault(int chip, const std::string& health) {
    auto r = SimNode::Tool(
        {BinPath("npu-sim"), "fault", "--chip", std::to_string(chip), "--health", health});
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  std::vector<hami::DeviceInfo> Registered() {
    auto annos = NodeAnnotations();
    auto it = annos.find("hami.io/node-register-Ascend910B3");
    if (it == annos.end()) {
      return {};
    }
    auto devs = hami::DecodeNodeRegister(it->get<std::string>(), "Ascend910B3");
    EXPECT_TRUE(devs.ok()) << devs.status().ToString();
    return devs.ok() ? *devs : std::vector<hami::DeviceInfo>{};
  }
};

TEST_F(Devices910B3Test, DiscoveryAndRegistrationAnnotationsOnKubeLocal) {
  DeviceManager devices(ManagerOptions(), Sim().dcmi());
  ASSERT_TRUE(devices.Initialize().ok());
  auto nd = devices.Current();
  ASSERT_EQ(nd->chips.size(), 8u);
  EXPECT_EQ(nd->common_word, "Ascend910B3");
  EXPECT_EQ(nd->vdevice_count, 4);
  std::set<std::string> uuids;
  for (uint32_t i = 0; i < 8; ++i) {
    const Chip& c = nd->chips[i];
    EXPECT_EQ(c.index, i);
    EXPECT_EQ(c.phys_id, static_cast<int32_t>(i));
    EXPECT_EQ(c.card_id, static_cast<int32_t>(i));
    EXPECT_EQ(c.device_id, 0);
    EXPECT_EQ(c.chip_name, "910B3");
    EXPECT_TRUE(c.healthy);
    EXPECT_TRUE(std::regex_match(c.uuid, std::regex("([0-9A-F]{8}-){4}[0-9A-F]{8}"))) << c.uuid;
    uuids.insert(c.uuid);
  }
  EXPECT_EQ(uuids.size(), 8u);
  EXPECT_EQ(nd->chips[0].uuid[0], '0');  // npu-sim's chip 0 word is below 0x10000000: padded

  NodeRegistrar registrar(RegistrarOptions(), devices, cluster_.client());
  ASSERT_TRUE(registrar.RegisterOnce().ok());
  auto annos = NodeAnnotations();
  EXPECT_EQ(annos["hami-vnpu-core"], "false");
  EXPECT_TRUE(std::regex_match(annos["hami.io/node-handshake-Ascend910B3"].get<std::string>(),
                               std::regex(R"(Reported_\d{4}\.\d{2}\.\d{2} \d{2}:\d{2}:\d{2})")));
  auto reg = Registered();
  ASSERT_EQ(reg.size(), 8u);
  for (uint32_t i = 0; i < 8; ++i) {
    EXPECT_EQ(reg[i].id, nd->chips[i].uuid);
    EXPECT_EQ(reg[i].index, i);
    EXPECT_EQ(reg[i].count, 4);
    EXPECT_EQ(reg[i].devmem, 65536);
    EXPECT_EQ(reg[i].devcore, 20);
    EXPECT_TRUE(reg[i].health);
    EXPECT_EQ(reg[i].network_id.value_or(-1), i <= 3 ? 0 : 1);
  }
}

TEST_F(Devices910B3Test, ChipUnhealthyAtStartRecoversThenFailsAgain) {
  Fault(3, "critical");
  DeviceManager devices(ManagerOptions(), Sim().dcmi());
  NodeRegistrar registrar(RegistrarOptions(), devices, cluster_.client());
  std::vector<bool> published;
  devices.AddListener([&](std::shared_ptr<const NodeDevices> nd) {
    published.push_back(nd->chips[3].healthy);
    EXPECT_TRUE(registrar.RegisterOnce().ok());
  });
  ASSERT_TRUE(devices.Initialize().ok());
  EXPECT_FALSE(devices.Current()->chips[3].healthy);
  ASSERT_TRUE(registrar.RegisterOnce().ok());
  EXPECT_FALSE(Registered().at(3).health);
  EXPECT_TRUE(Registered().at(2).health);

  Fault(3, "ok");
  EXPECT_TRUE(devices.PollOnce());
  EXPECT_TRUE(devices.Current()->chips[3].healthy);
  EXPECT_TRUE(Registered().at(3).health);

  Fault(3, "alarm");
  EXPECT_TRUE(devices.PollOnce());
  EXPECT_FALSE(Registered().at(3).health);
  Fault(3, "ok");
  EXPECT_TRUE(devices.PollOnce());
  EXPECT_EQ(published, (std::vector<bool>{true, false, true}));
}

TEST_F(Devices910B3Test, DeviceShareThroughTheRealNpuSmi) {
  testing::WriteFile(device_config_, testing::ShippedDeviceConfig(/*soft=*/true));
  DeviceManager devices(ManagerOptions(), Sim().dcmi());
  ASSERT_TRUE(devices.Initialize().ok());
  ASSERT_TRUE(devices.Current()->hami_vnpu_core);
  EXPECT_EQ(devices.Current()->vdevice_count, kSoftSlicingVDeviceCount);
  ForkExecRunner runner;
  DeviceShareOptions opts;
  opts.node_name = kNode;
  opts.npu_smi_path = BinPath("npu-smi");
  opts.log = [](const std::string&) {};
  DeviceShareEnabler share(opts, devices, runner, &cluster_.client());
  ASSERT_TRUE(share.EnableOnce().ok());
  EXPECT_EQ(share.EnabledChips().size(), 8u);
  for (int card = 0; card < 8; ++card) {
    auto r = SimNode::Tool(
        {BinPath("npu-smi"), "info", "-t", "device-share", "-i", std::to_string(card), "-c", "0"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Device-share Status            : True"), std::string::npos) << r.out;
  }
  // Registration on this node says soft slicing, with 100 cores per chip.
  NodeRegistrar registrar(RegistrarOptions(), devices, cluster_.client());
  ASSERT_TRUE(registrar.RegisterOnce().ok());
  EXPECT_EQ(NodeAnnotations()["hami-vnpu-core"], "true");
  EXPECT_EQ(Registered().at(0).devcore, 100);
  EXPECT_EQ(Registered().at(0).count, kSoftSlicingVDeviceCount);
}

TEST_F(Devices910B3Test, DeviceShareFailureIsANodeEvent) {
  testing::WriteFile(device_config_, testing::ShippedDeviceConfig(/*soft=*/true));
  DeviceManager devices(ManagerOptions(), Sim().dcmi());
  ASSERT_TRUE(devices.Initialize().ok());
  // An npu-smi that refuses (as when the prompt is not answered): exit 200.
  const std::string fake = cfg_.path() + "/npu-smi";
  testing::WriteFile(fake, "#!/bin/sh\nexit 200\n");
  ASSERT_EQ(chmod(fake.c_str(), 0700), 0);
  ForkExecRunner runner;
  DeviceShareOptions opts;
  opts.node_name = kNode;
  opts.npu_smi_path = fake;
  opts.log = [](const std::string&) {};
  DeviceShareEnabler share(opts, devices, runner, &cluster_.client());
  EXPECT_EQ(share.EnableOnce().code(), StatusCode::kInternal);
  auto events = cluster_.client().List(kube::kEvents, "default", {});
  ASSERT_TRUE(events.ok());
  int found = 0;
  for (const auto& e : (*events)["items"]) {
    if (e["reason"] == "DeviceShareFailed" && e["involvedObject"]["name"] == kNode &&
        e["type"] == "Warning") {
      ++found;
    }
  }
  EXPECT_EQ(found, 1);
}

TEST_F(Devices910B3Test, LeftoverVnpuDestroyedOnlyWhenIdleUnownedAndPastGrace) {
  DeviceManager devices(ManagerOptions(), Sim().dcmi());
  ASSERT_TRUE(devices.Initialize().ok());
  const std::string uuid1 = devices.Current()->chips[1].uuid;
  for (const char* id : {"116", "117"}) {
    auto r = SimNode::Tool({BinPath("npu-smi"), "set", "-t", "create-vnpu", "-i", "1", "-c", "0",
                            "-f", "vir05_1c_16g", "-v", id});
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  // A process attached to vNPU 116 (what a container's workload is).
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    env.emplace_back(*e);
  }
  env.push_back("ASCEND_RUNTIME_OPTIONS=VIRTUAL");
  env.push_back("ASCEND_VISIBLE_DEVICES=116");
  sim::testing::SpawnOptions so;
  so.env = env;
  sim::testing::Child workload =
      sim::testing::Spawn({BinPath("npu-sim-workload"), "--weights-mb", "1024", "--hold"}, so);
  ASSERT_GT(workload.pid, 0);
  ASSERT_EQ(sim::testing::ReadLine(workload.out_fd).rfind("READY", 0), 0u);

  // npu-sim's is_container_used follows the attached process.
  auto attached = Sim().dcmi().VnpuInfo(1, 0, 116);
  ASSERT_TRUE(attached.ok()) << attached.status().ToString();
  EXPECT_EQ(attached->is_container_used, 1u);
  EXPECT_EQ(attached->template_name, "vir05_1c_16g");
  EXPECT_EQ(Sim().dcmi().VnpuInfo(1, 0, 117)->is_container_used, 0u);

  kube::testing::FakeClock clock;
  KubeLiveSlices pods(kNode, cluster_.client(), devices);
  VnpuReconcilerOptions opts;
  opts.grace = std::chrono::seconds(60);
  opts.log = [](const std::string&) {};
  VnpuReconciler reconciler(opts, Sim().dcmi(), devices, pods, clock);
  auto first = reconciler.ReconcileOnce();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->vnpus, 2);
  EXPECT_EQ(first->idle, 1);  // 117
  clock.Advance(std::chrono::seconds(61));
  auto second = reconciler.ReconcileOnce();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->destroyed, (std::vector<uint32_t>{117}));

  // The workload exits: 116 is idle now, but a live pod on the node holds a vir05 slice of
  // that chip, so it stays; once the pod is gone it goes after the grace.
  close(workload.in_fd);
  EXPECT_EQ(sim::testing::Wait(workload.pid), 0);
  close(workload.out_fd);
  EXPECT_EQ(Sim().dcmi().VnpuInfo(1, 0, 116)->is_container_used, 0u);
  nlohmann::json pod = kube::testing::MakePod("starting", kNode);
  pod["metadata"]["annotations"] = {
      {"hami.io/Ascend910B3-devices-allocated", uuid1 + ",Ascend910B3,16384,25:;"},
      {"huawei.com/Ascend910B3", R"([{"UUID":")" + uuid1 + R"(","temp":"vir05_1c_16g"}])"}};
  ASSERT_TRUE(cluster_.client().Create(kube::kPods, "default", pod).ok());
  ASSERT_TRUE(reconciler.ReconcileOnce().ok());
  clock.Advance(std::chrono::seconds(61));
  auto protected_round = reconciler.ReconcileOnce();
  ASSERT_TRUE(protected_round.ok());
  EXPECT_EQ(protected_round->protected_by_pods, 1);
  EXPECT_TRUE(protected_round->destroyed.empty());
  kube::DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(cluster_.client().Delete(kube::kPods, "default", "starting", now).ok());
  auto last = reconciler.ReconcileOnce();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->destroyed, (std::vector<uint32_t>{116}));
  auto info = SimNode::Tool({BinPath("npu-smi"), "info", "-t", "info-vnpu", "-i", "1", "-c", "0"});
  EXPECT_EQ(info.out.find("116"), std::string::npos) << info.out;
}

}  // namespace
}  // namespace npushare::deviceplugin::devices
