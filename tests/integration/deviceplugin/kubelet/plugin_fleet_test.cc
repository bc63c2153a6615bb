// PluginFleet against the kubelet stand-in: one server per resource, registration retried while
// kubelet is away, and a clean re-serve + re-register after kubelet restarts (inotify and the
// periodic fallback), with devices and kubelet's allocations kept.
#include "deviceplugin/kubelet/plugin_fleet.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "deviceplugin/kubelet/socket_file.h"
#include "integration/deviceplugin/kubelet/fake_backend.h"
#include "sim/kubelet/kubelet_sim.h"
#include "support/temp_dir.h"

namespace npushare::deviceplugin {
namespace {

using kubelet_sim::KubeletSim;
using kubelet_sim::KubeletState;
using testing::Devices;
using testing::FakeAllocateBackend;

constexpr auto kWait = std::chrono::seconds(30);
const PluginResource kB3{"huawei.com/Ascend910B3", "Ascend910B3.sock"};
const PluginResource k310{"huawei.com/Ascend310P", "Ascend310P.sock"};

// Registrations that succeeded for `resource`.
size_t OkRegistrations(const KubeletState& s, const std::string& resource) {
  return static_cast<size_t>(
      std::count_if(s.registrations.begin(), s.registrations.end(),
                    [&](const auto& r) { return r.resource_name == resource && r.result.ok(); }));
}

// Eventually: polls `condition` until it holds or a generous deadline passes (for state the
// fleet changes asynchronously and offers no wait for).
template <typename F>
bool Eventually(F condition) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    usleep(5000);
  }
  return true;
}

class PluginFleetTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  void StartKubelet() {
    auto k = KubeletSim::Start({.plugin_dir = dir_.path()});
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    kubelet_ = std::move(*k);
  }

  PluginFleetOptions Options() const {
    PluginFleetOptions o;
    o.plugin_dir = dir_.path();
    o.initial_backoff = std::chrono::milliseconds(50);
    o.max_backoff = std::chrono::milliseconds(200);
    return o;
  }

  npushare::testing::ScopedTempDir dir_{"plugin-fleet"};
  FakeAllocateBackend backend_;
  std::unique_ptr<KubeletSim> kubelet_;
};

TEST_F(PluginFleetTest, ServesAndRegistersEveryResource) {
  StartKubelet();
  PluginFleet fleet(Options(), &backend_);
  ASSERT_TRUE(fleet.Start().ok());
  EXPECT_TRUE(fleet.inotify_active());
  ASSERT_TRUE(fleet.SetDevices(kB3, Devices("b3", 8)).ok());
  ASSERT_TRUE(fleet.SetDevices(k310, Devices("p", 7)).ok());
  ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 8, kWait));
  ASSERT_TRUE(kubelet_->WaitForHealthy(k310.resource_name, 7, kWait));
  KubeletState st = kubelet_->State();
  EXPECT_EQ(st.resources[kB3.resource_name].endpoint, kB3.endpoint);
  EXPECT_EQ(st.resources[k310.resource_name].endpoint, k310.endpoint);
  auto plugins = fleet.Plugins();
  ASSERT_EQ(plugins.size(), 2u);
  EXPECT_EQ(plugins[0].resource.resource_name, k310.resource_name);  // ordered by name
  for (const auto& p : plugins) {
    EXPECT_TRUE(p.serving);
    EXPECT_EQ(p.restarts, 0u);
  }
  // Allocate reaches the backend with the right resource for each server.
  ASSERT_TRUE(
      kubelet_->Allocate({.owner = "p/c", .resource_name = k310.resource_name, .count = 2}).ok());
  ASSERT_EQ(backend_.allocate_calls().size(), 1u);
  EXPECT_EQ(backend_.allocate_calls()[0].resource, k310.resource_name);
}

TEST_F(PluginFleetTest, RefusesUnusableOrConflictingEndpoints) {
  PluginFleet fleet(Options(), &backend_);
  EXPECT_EQ(fleet.SetDevices({"huawei.com/x", "kubelet.sock"}, {}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(fleet.SetDevices({"huawei.com/x", "a/b.sock"}, {}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(fleet.SetDevices({"huawei.com/x", ""}, {}).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(fleet.SetDevices({"huawei.com/x", "x.sock"}, {}).ok());
  EXPECT_EQ(fleet.SetDevices({"huawei.com/y", "x.sock"}, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fleet.SetDevices({"huawei.com/x", "other.sock"}, {}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(PluginFleetTest, MissingDirectoryFailsStart) {
  PluginFleetOptions o = Options();
  o.plugin_dir = dir_.path() + "/missing";
  PluginFleet fleet(o, &backend_);
  EXPECT_EQ(fleet.Start().code(), StatusCode::kFailedPrecondition);
}

TEST_F(PluginFleetTest, KubeletRestartIsAnsweredWithReServeAndReRegister) {
  StartKubelet();
  PluginFleet fleet(Options(), &backend_);
  ASSERT_TRUE(fleet.Start().ok());
  ASSERT_TRUE(fleet.SetDevices(kB3, Devices("b3", 4)).ok());
  ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 4, kWait));
  auto grant =
      kubelet_->Allocate({.owner = "pod-a/main", .resource_name = kB3.resource_name, .count = 1});
  ASSERT_TRUE(grant.ok()) << grant.status().ToString();

  ASSERT_TRUE(kubelet_->Restart().ok());
  // Kubelet removed our socket; the fleet serves again and registers with the new kubelet.
  ASSERT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) { return OkRegistrations(s, kB3.resource_name) == 2; }, kWait));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 4, kWait));
  KubeletState st = kubelet_->State();
  EXPECT_EQ(st.restarts, 1u);
  EXPECT_EQ(st.resources[kB3.resource_name].allocated.size(), 1u);  // checkpointed
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/kubelet_internal_checkpoint"));
  EXPECT_TRUE(StatSocketFile(dir_.path() + "/" + kB3.endpoint).has_value());
  auto plugins = fleet.Plugins();
  ASSERT_EQ(plugins.size(), 1u);
  EXPECT_EQ(plugins[0].restarts, 1u);
  EXPECT_EQ(plugins[0].server.starts, 2u);
  // The re-served plugin answers Allocate; kubelet keeps the running pod's device out of it.
  auto second =
      kubelet_->Allocate({.owner = "pod-b/main", .resource_name = kB3.resource_name, .count = 3});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  for (const auto& id : second->device_ids) {
    EXPECT_NE(id, grant->device_ids[0]);
  }
}

TEST_F(PluginFleetTest, PeriodicCheckAloneRecoversFromKubeletRestart) {
  StartKubelet();
  PluginFleetOptions o = Options();
  o.use_inotify = false;
  o.resync_interval = std::chrono::milliseconds(100);
  PluginFleet fleet(o, &backend_);
  ASSERT_TRUE(fleet.Start().ok());
  EXPECT_FALSE(fleet.inotify_active());
  ASSERT_TRUE(fleet.SetDevices(kB3, Devices("b3", 2)).ok());
  ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 2, kWait));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(kubelet_->Restart().ok());
    ASSERT_TRUE(kubelet_->WaitFor(
        [&](const KubeletState& s) {
          return OkRegistrations(s, kB3.resource_name) == static_cast<size_t>(i) + 1;
        },
        kWait))
        << "restart " << i;
    ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 2, kWait));
  }
}

TEST_F(PluginFleetTest, KubeletArrivingLaterResetsTheBackoff) {
  PluginFleetOptions o = Options();
  // A retry delay far beyond the test's patience: only kubelet.sock's creation event can make
  // the registration happen in time.
  o.initial_backoff = std::chrono::minutes(10);
  o.max_backoff = std::chrono::minutes(10);
  o.resync_interval = std::chrono::minutes(10);
  PluginFleet fleet(o, &backend_);
  ASSERT_TRUE(fleet.Start().ok());
  ASSERT_TRUE(fleet.SetDevices(kB3, Devices("b3", 3)).ok());
  // Wait for the first (failed) attempt: no kubelet yet.
  ASSERT_TRUE(Eventually([&] {
    auto p = fleet.Plugins();
    return !p.empty() && p[0].register_failures > 0;
  }));
  auto p = fleet.Plugins();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(p[0].serving);
  EXPECT_FALSE(p[0].registered);
  EXPECT_FALSE(p[0].last_error.empty());

  StartKubelet();
  ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 3, kWait));
}

TEST_F(PluginFleetTest, RefusedRegistrationIsRetriedWhileServingGoesOn) {
  StartKubelet();
  PluginFleet fleet(Options(), &backend_);
  ASSERT_TRUE(fleet.Start().ok());
  // Kubelet refuses a non-extended resource name; the fleet keeps serving and keeps trying.
  ASSERT_TRUE(fleet.SetDevices({"npu", "npu.sock"}, Devices("n", 1)).ok());
  ASSERT_TRUE(Eventually([&] {
    auto p = fleet.Plugins();
    return !p.empty() && p[0].register_failures >= 3;
  }));
  KubeletState st = kubelet_->State();
  ASSERT_GE(st.registrations.size(), 3u);
  for (const auto& r : st.registrations) {
    EXPECT_EQ(r.result.code(), StatusCode::kUnknown);
  }
  auto p = fleet.Plugins();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(p[0].serving);
  EXPECT_FALSE(p[0].registered);
  EXPECT_EQ(st.resources.count("npu"), 0u);
}

TEST_F(PluginFleetTest, OurSocketDeletedAloneIsReServed) {
  StartKubelet();
  PluginFleet fleet(Options(), &backend_);
  ASSERT_TRUE(fleet.Start().ok());
  ASSERT_TRUE(fleet.SetDevices(kB3, Devices("b3", 2)).ok());
  ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 2, kWait));
  ASSERT_EQ(unlink((dir_.path() + "/" + kB3.endpoint).c_str()), 0);
  ASSERT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) { return OkRegistrations(s, kB3.resource_name) == 2; }, kWait));
  ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 2, kWait));
  EXPECT_TRUE(StatSocketFile(dir_.path() + "/" + kB3.endpoint).has_value());
}

TEST_F(PluginFleetTest, DevicesChangedWhileKubeletIsDownAreAdvertisedAfterwards) {
  StartKubelet();
  PluginFleet fleet(Options(), &backend_);
  ASSERT_TRUE(fleet.Start().ok());
  ASSERT_TRUE(fleet.SetDevices(kB3, Devices("b3", 4)).ok());
  ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 4, kWait));
  kubelet_->Stop();
  auto devices = Devices("b3", 4);
  devices[2].healthy = false;
  ASSERT_TRUE(fleet.SetDevices(kB3, devices).ok());
  kubelet_.reset();
  StartKubelet();  // a new kubelet process on the same directory
  ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 3, kWait));
  EXPECT_EQ(kubelet_->State().resources[kB3.resource_name].devices, devices);
}

TEST_F(PluginFleetTest, RemoveResourceStopsServingIt) {
  StartKubelet();
  PluginFleet fleet(Options(), &backend_);
  ASSERT_TRUE(fleet.Start().ok());
  ASSERT_TRUE(fleet.SetDevices(kB3, Devices("b3", 2)).ok());
  ASSERT_TRUE(fleet.SetDevices(k310, Devices("p", 2)).ok());
  ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 2, kWait));
  ASSERT_TRUE(kubelet_->WaitForHealthy(k310.resource_name, 2, kWait));
  fleet.RemoveResource(k310.resource_name);
  ASSERT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) { return s.resources.at(k310.resource_name).stream_ends == 1; },
      kWait));
  EXPECT_EQ(kubelet_->State().resources[k310.resource_name].allocatable(), 0u);
  EXPECT_TRUE(
      Eventually([&] { return !std::filesystem::exists(dir_.path() + "/" + k310.endpoint); }));
  EXPECT_EQ(fleet.Plugins().size(), 1u);
}

TEST_F(PluginFleetTest, StopRemovesEverySocketAndKeepsTheCheckpoint) {
  StartKubelet();
  {
    PluginFleet fleet(Options(), &backend_);
    ASSERT_TRUE(fleet.Start().ok());
    ASSERT_TRUE(fleet.SetDevices(kB3, Devices("b3", 2)).ok());
    ASSERT_TRUE(fleet.SetDevices(k310, Devices("p", 2)).ok());
    ASSERT_TRUE(kubelet_->WaitForHealthy(kB3.resource_name, 2, kWait));
    ASSERT_TRUE(kubelet_->WaitForHealthy(k310.resource_name, 2, kWait));
    fleet.Stop();
    EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/" + kB3.endpoint));
    EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/" + k310.endpoint));
  }
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/kubelet.sock"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/kubelet_internal_checkpoint"));
  EXPECT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) {
        return !s.resources.at(kB3.resource_name).connected &&
               !s.resources.at(k310.resource_name).connected;
      },
      kWait));
}

}  // namespace
}  // namespace npushare::deviceplugin
