// PluginServer against the kubelet stand-in over real unix sockets: registration (serve first,
// options), ListAndWatch (initial list, health changes), Allocate (round trip, errors),
// GetPreferredAllocation, Stop and plugin restarts.
#include "deviceplugin/kubelet/plugin_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "deviceplugin/kubelet/kubelet_registration.h"
#include "deviceplugin/kubelet/socket_file.h"
#include "integration/deviceplugin/kubelet/fake_backend.h"
#include "sim/kubelet/kubelet_sim.h"
#include "support/temp_dir.h"

namespace npushare::deviceplugin {
namespace {

using kubelet_sim::DeviceRequest;
using kubelet_sim::KubeletSim;
using kubelet_sim::KubeletState;
using testing::Devices;
using testing::FakeAllocateBackend;

constexpr auto kWait = std::chrono::seconds(20);
constexpr const char* kResource = "huawei.com/Ascend910B3";
constexpr const char* kEndpoint = "Ascend910B3.sock";

class PluginServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto k = KubeletSim::Start({.plugin_dir = dir_.path()});
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    kubelet_ = std::move(*k);
  }

  PluginServerOptions Options() const {
    PluginServerOptions o;
    o.plugin_dir = dir_.path();
    o.endpoint = kEndpoint;
    o.resource_name = kResource;
    return o;
  }

  // StartRegistered: a server advertising `devices`, serving and registered.
  std::unique_ptr<PluginServer> StartRegistered(std::vector<PluginDevice> devices) {
    auto server = std::make_unique<PluginServer>(Options(), &backend_);
    server->UpdateDevices(std::move(devices));
    Status s = server->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    s = server->Register();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return server;
  }

  npushare::testing::ScopedTempDir dir_{"plugin-server"};
  FakeAllocateBackend backend_;
  std::unique_ptr<KubeletSim> kubelet_;
};

TEST_F(PluginServerTest, RegistersAfterServingWithOptionsKubeletReads) {
  auto server = StartRegistered(Devices("uuid", 4));
  KubeletState st = kubelet_->State();
  ASSERT_EQ(st.registrations.size(), 1u);
  EXPECT_TRUE(st.registrations[0].result.ok()) << st.registrations[0].result.ToString();
  EXPECT_EQ(st.registrations[0].version, "v1beta1");
  EXPECT_EQ(st.registrations[0].endpoint, kEndpoint);
  EXPECT_EQ(st.registrations[0].resource_name, kResource);
  EXPECT_TRUE(st.registrations[0].request_preferred_allocation);
  ASSERT_EQ(st.resources.count(kResource), 1u);
  // What current kubelets use: the GetDevicePluginOptions answer made during the dial-back.
  EXPECT_TRUE(st.resources[kResource].get_preferred_allocation_available);
  EXPECT_FALSE(st.resources[kResource].pre_start_required);
  EXPECT_EQ(server->Stats().registrations, 1u);
}

TEST_F(PluginServerTest, ListAndWatchSendsInitialListThenHealthChanges) {
  auto server = StartRegistered(Devices("uuid", 4));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 4, kWait));
  EXPECT_EQ(kubelet_->State().resources[kResource].devices, Devices("uuid", 4));

  auto devices = Devices("uuid", 4);
  devices[1].healthy = false;
  server->UpdateDevices(devices);
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 3, kWait));
  KubeletState st = kubelet_->State();
  EXPECT_EQ(st.resources[kResource].capacity(), 4u);
  EXPECT_FALSE(st.resources[kResource].devices[1].healthy);

  devices[1].healthy = true;
  server->UpdateDevices(devices);
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 4, kWait));
  EXPECT_EQ(server->Stats().open_streams, 1u);
}

TEST_F(PluginServerTest, UnhealthyAtStartThenRecovers) {
  auto devices = Devices("uuid", 2);
  devices[0].healthy = false;
  devices[1].healthy = false;
  auto server = StartRegistered(devices);
  ASSERT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) {
        auto it = s.resources.find(kResource);
        return it != s.resources.end() && it->second.capacity() == 2;
      },
      kWait));
  EXPECT_EQ(kubelet_->State().resources[kResource].allocatable(), 0u);
  server->UpdateDevices(Devices("uuid", 2));
  EXPECT_TRUE(kubelet_->WaitForHealthy(kResource, 2, kWait));
}

TEST_F(PluginServerTest, ManyQuickUpdatesEndOnTheLastList) {
  auto server = StartRegistered(Devices("uuid", 1));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 1, kWait));
  for (int n = 2; n <= 40; ++n) {
    server->UpdateDevices(Devices("uuid", n));
  }
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 40, kWait));
  EXPECT_EQ(kubelet_->State().resources[kResource].devices, Devices("uuid", 40));
}

TEST_F(PluginServerTest, AllocateRoundTripsEnvMountsDevicesAnnotations) {
  ContainerAllocation a;
  a.envs = {{"ASCEND_VISIBLE_DEVICES", "0,1"}, {"ASCEND_VNPU_SPECS", "vir05_1c_16g"}};
  a.mounts = {MountSpec{"/etc/ld.so.preload", "/opt/npushare/ld.so.preload", true},
              MountSpec{"/run/npushare/state", "/var/run/npushare/c1", false}};
  a.devices = {DeviceNodeSpec{"/dev/davinci0", "/dev/davinci0", "rw"}};
  a.annotations = {{"huawei.com/AscendReal", "Ascend910B3-0"}};
  backend_.SetAllocation(a);
  auto server = StartRegistered(Devices("uuid", 4));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 4, kWait));

  auto grant = kubelet_->Allocate({.owner = "pod-a/main", .resource_name = kResource, .count = 2});
  ASSERT_TRUE(grant.ok()) << grant.status().ToString();
  EXPECT_EQ(grant->device_ids.size(), 2u);
  EXPECT_EQ(grant->response.envs, a.envs);
  EXPECT_EQ(grant->response.mounts, a.mounts);
  EXPECT_EQ(grant->response.devices, a.devices);
  EXPECT_EQ(grant->response.annotations, a.annotations);

  auto calls = backend_.allocate_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].resource, kResource);
  EXPECT_EQ(calls[0].ids, grant->device_ids);
  EXPECT_EQ(kubelet_->State().resources[kResource].allocated.size(), 2u);
  EXPECT_EQ(server->Stats().allocate_calls, 1u);
}

TEST_F(PluginServerTest, AllocateErrorReachesKubeletWithCodeAndMessage) {
  backend_.SetError(FailedPreconditionError("device number not matched"));
  auto server = StartRegistered(Devices("uuid", 2));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 2, kWait));
  auto grant = kubelet_->Allocate({.owner = "pod-a/main", .resource_name = kResource, .count = 1});
  ASSERT_FALSE(grant.ok());
  EXPECT_EQ(grant.status().code(), StatusCode::kFailedPrecondition);
  // The backend's message is what the user reads in the pod's events: passed through unchanged.
  EXPECT_EQ(grant.status().message(), "device number not matched");
  EXPECT_TRUE(kubelet_->State().resources[kResource].allocated.empty());
  EXPECT_EQ(server->Stats().allocate_errors, 1u);
}

TEST_F(PluginServerTest, PreferredAllocationDecidesKubeletsChoice) {
  backend_.SetPreference({"uuid-3", "uuid-2"});
  auto server = StartRegistered(Devices("uuid", 4));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 4, kWait));
  auto grant = kubelet_->Allocate({.owner = "pod-a/main", .resource_name = kResource, .count = 2});
  ASSERT_TRUE(grant.ok()) << grant.status().ToString();
  EXPECT_TRUE(grant->preferred_called);
  EXPECT_EQ(grant->device_ids, (std::vector<std::string>{"uuid-3", "uuid-2"}));
  auto calls = backend_.preferred_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].resource, kResource);
  EXPECT_EQ(calls[0].size, 2);
  EXPECT_EQ(calls[0].available.size(), 4u);
  EXPECT_TRUE(calls[0].must_include.empty());
}

TEST_F(PluginServerTest, PreferenceOutsideAvailableIsIgnoredAndFilled) {
  auto server = StartRegistered(Devices("uuid", 3));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 3, kWait));
  ASSERT_TRUE(
      kubelet_->Allocate({.owner = "pod-a/main", .resource_name = kResource, .count = 1}).ok());
  const std::string taken = kubelet_->State().resources[kResource].allocated.begin()->first;
  // Prefer the taken device and an unknown one: kubelet keeps preferred ∩ available (nothing)
  // and fills from the free devices.
  backend_.SetPreference({taken, "not-a-device"});
  auto grant = kubelet_->Allocate({.owner = "pod-b/main", .resource_name = kResource, .count = 2});
  ASSERT_TRUE(grant.ok()) << grant.status().ToString();
  ASSERT_EQ(grant->device_ids.size(), 2u);
  for (const auto& id : grant->device_ids) {
    EXPECT_NE(id, taken);
    EXPECT_NE(id, "not-a-device");
  }
}

TEST_F(PluginServerTest, ReusableDevicesGoAsMustInclude) {
  backend_.SetPreference({"uuid-0", "uuid-1"});
  auto server = StartRegistered(Devices("uuid", 4));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 4, kWait));
  auto grant = kubelet_->Allocate(
      {.owner = "pod-a/main", .resource_name = kResource, .count = 2, .reusable = {"uuid-0"}});
  ASSERT_TRUE(grant.ok()) << grant.status().ToString();
  EXPECT_EQ(grant->device_ids, (std::vector<std::string>{"uuid-0", "uuid-1"}));
  auto calls = backend_.preferred_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].must_include, std::vector<std::string>{"uuid-0"});
  EXPECT_EQ(calls[0].size, 2);
}

TEST_F(PluginServerTest, RegisterBeforeServingIsRefused) {
  PluginServer server(Options(), &backend_);
  Status s = server.Register();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(kubelet_->State().registrations.empty());
}

TEST(PluginServerRegistration, KubeletDialsBackSoRegisteringWithoutServingFails) {
  npushare::testing::ScopedTempDir dir("plugin-noserve");
  auto k =
      KubeletSim::Start({.plugin_dir = dir.path(), .dial_timeout = std::chrono::milliseconds(300)});
  ASSERT_TRUE(k.ok());
  RegistrationRequest req;
  req.kubelet_socket = dir.path() + "/kubelet.sock";
  req.endpoint = "nobody.sock";
  req.resource_name = kResource;
  Status s = RegisterWithKubelet(req, std::chrono::seconds(10));
  EXPECT_FALSE(s.ok());
  KubeletState st = (*k)->State();
  ASSERT_EQ(st.registrations.size(), 1u);
  EXPECT_FALSE(st.registrations[0].result.ok());
  EXPECT_EQ(st.resources.count(kResource), 0u);
}

TEST_F(PluginServerTest, InvalidResourceNameIsRefusedByKubelet) {
  PluginServerOptions o = Options();
  o.resource_name = "kubernetes.io/npu";
  PluginServer server(o, &backend_);
  ASSERT_TRUE(server.Start().ok());
  Status s = server.Register();
  EXPECT_EQ(s.code(), StatusCode::kUnknown);
  EXPECT_EQ(kubelet_->State().resources.count("kubernetes.io/npu"), 0u);
}

TEST_F(PluginServerTest, StopEndsStreamAndRemovesSocket) {
  auto server = StartRegistered(Devices("uuid", 2));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 2, kWait));
  const std::string path = server->socket_path();
  ASSERT_TRUE(StatSocketFile(path).has_value());
  server->Stop();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(server->Serving());
  // Kubelet sees the stream end: every device unhealthy, capacity kept.
  ASSERT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) { return s.resources.at(kResource).stream_ends == 1; }, kWait));
  KubeletState st = kubelet_->State();
  EXPECT_EQ(st.resources[kResource].capacity(), 2u);
  EXPECT_EQ(st.resources[kResource].allocatable(), 0u);
  EXPECT_EQ(server->Stats().open_streams, 0u);
}

TEST_F(PluginServerTest, RestartedServerObjectKeepsDevicesAndServesAgain) {
  auto server = StartRegistered(Devices("uuid", 3));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 3, kWait));
  server->Stop();
  ASSERT_TRUE(server->Start().ok());
  ASSERT_TRUE(server->Register().ok());
  EXPECT_TRUE(server->SocketIntact());
  EXPECT_EQ(server->Devices(), Devices("uuid", 3));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 3, kWait));
  EXPECT_EQ(server->Stats().starts, 2u);
}

TEST_F(PluginServerTest, NewPluginProcessKeepsKubeletAllocations) {
  auto first = StartRegistered(Devices("uuid", 4));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 4, kWait));
  auto a = kubelet_->Allocate({.owner = "pod-a/main", .resource_name = kResource, .count = 2});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  first.reset();  // the plugin process exits

  auto second = StartRegistered(Devices("uuid", 4));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 4, kWait));
  KubeletState st = kubelet_->State();
  EXPECT_EQ(st.resources[kResource].allocated.size(), 2u);
  // The new plugin answers Allocate, and kubelet never hands out the running pod's devices.
  auto b = kubelet_->Allocate({.owner = "pod-b/main", .resource_name = kResource, .count = 2});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  for (const auto& id : b->device_ids) {
    EXPECT_EQ(std::count(a->device_ids.begin(), a->device_ids.end(), id), 0) << id;
  }
  // And the exhausted resource is refused by kubelet before reaching the plugin.
  const size_t calls = backend_.allocate_calls().size();
  auto c = kubelet_->Allocate({.owner = "pod-c/main", .resource_name = kResource, .count = 1});
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(backend_.allocate_calls().size(), calls);
}

TEST_F(PluginServerTest, StaleSocketIsReplacedButAForeignFileIsNot) {
  // A crashed plugin leaves its socket file behind: Start replaces it.
  const std::string path = dir_.path() + "/" + kEndpoint;
  {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  auto stale = StatSocketFile(path);
  ASSERT_TRUE(stale.has_value());
  {
    PluginServer server(Options(), &backend_);
    ASSERT_TRUE(server.Start().ok());
    EXPECT_TRUE(server.SocketIntact());
    EXPECT_NE(StatSocketFile(path), stale);
    ASSERT_TRUE(server.Register().ok());
  }
  // A regular file where the socket should be is the operator's: Start refuses to remove it.
  ASSERT_FALSE(std::filesystem::exists(path));
  {
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
  }
  PluginServer server(Options(), &backend_);
  EXPECT_EQ(server.Start().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}

TEST_F(PluginServerTest, EndpointMustBeAPlainFileName) {
  PluginServerOptions o = Options();
  o.endpoint = "../escape.sock";
  PluginServer server(o, &backend_);
  EXPECT_EQ(server.Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare::deviceplugin
