#include "deviceplugin/devices/device_manager.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "support/temp_dir.h"
#include "unit/deviceplugin/devices/fake_dcmi.h"
#include "unit/deviceplugin/devices/test_configs.h"

namespace npushare::deviceplugin::devices {
namespace {

using testing::FakeDcmi;
using testing::WriteFile;

// BumpMtime: makes a rewritten file look changed even within one mtime tick.
void BumpMtime(const std::string& path, int seconds) {
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = 1700000000 + seconds;
  times[0].tv_nsec = times[1].tv_nsec = 0;
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

class DeviceManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    device_path_ = dir_.path() + "/device-config.yaml";
    node_path_ = dir_.path() + "/node-config.yaml";
    WriteFile(device_path_, testing::ShippedDeviceConfig());
    dcmi_.AddChips(2);
  }
  DeviceManagerOptions Options() {
    DeviceManagerOptions o;
    o.node_name = "n1";
    o.device_config_path = device_path_;
    o.node_config_path = node_path_;
    o.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> l(mu_);
      logs_.push_back(line);
    };
    return o;
  }
  std::vector<std::string> logs() {
    std::lock_guard<std::mutex> l(mu_);
    return logs_;
  }

  npushare::testing::ScopedTempDir dir_{"devmgr"};
  std::string device_path_, node_path_;
  FakeDcmi dcmi_;
  std::mutex mu_;
  std::vector<std::string> logs_;
};

TEST_F(DeviceManagerTest, InitializePublishesTheFirstSnapshot) {
  DeviceManager m(Options(), dcmi_);
  EXPECT_EQ(m.Current(), nullptr);
  ASSERT_TRUE(m.Initialize().ok());
  auto nd = m.Current();
  ASSERT_NE(nd, nullptr);
  EXPECT_EQ(nd->common_word, "Ascend910B3");
  ASSERT_EQ(nd->chips.size(), 2u);
  EXPECT_EQ(nd->chips[0].uuid, "0000ABCD-12345678-9ABCDEF0-00000000-FFFFFFFF");
  EXPECT_FALSE(m.PollOnce());  // nothing changed
}

TEST_F(DeviceManagerTest, DcmiInitErrorFailsStart) {
  dcmi_.FailInit(UnavailableError("not ready"));
  DeviceManager m(Options(), dcmi_);
  EXPECT_EQ(m.Start().code(), StatusCode::kUnavailable);
  EXPECT_EQ(m.Current(), nullptr);
}

TEST_F(DeviceManagerTest, MissingDeviceConfigFailsStart) {
  DeviceManagerOptions o = Options();
  o.device_config_path = dir_.path() + "/absent.yaml";
  DeviceManager m(o, dcmi_);
  EXPECT_EQ(m.Initialize().code(), StatusCode::kNotFound);
}

TEST_F(DeviceManagerTest, ChipUnhealthyAtStartThatRecoversIsPublished) {
  dcmi_.SetHealth(1, 3);
  DeviceManager m(Options(), dcmi_);
  std::vector<std::shared_ptr<const NodeDevices>> published;
  m.AddListener([&](std::shared_ptr<const NodeDevices> nd) { published.push_back(nd); });
  ASSERT_TRUE(m.Initialize().ok());
  EXPECT_FALSE(m.Current()->chips[1].healthy);
  EXPECT_FALSE(m.PollOnce());
  dcmi_.SetHealth(1, 0);
  EXPECT_TRUE(m.PollOnce());
  ASSERT_EQ(published.size(), 1u);
  EXPECT_TRUE(published[0]->chips[1].healthy);
  EXPECT_EQ(m.Current(), published[0]);
  // And back to unhealthy: a health query that fails counts as unhealthy.
  dcmi_.FailHealth(true);
  EXPECT_TRUE(m.PollOnce());
  EXPECT_FALSE(m.Current()->chips[0].healthy);
  EXPECT_FALSE(m.Current()->chips[1].healthy);
}

TEST_F(DeviceManagerTest, ChangedConfigIsReReadAndInvalidKeepsTheLastGood) {
  DeviceManager m(Options(), dcmi_);
  ASSERT_TRUE(m.Initialize().ok());
  EXPECT_EQ(m.Current()->vdevice_count, 4);
  // A node-config file appears with an override for this node.
  WriteFile(node_path_, testing::NodeConfigYaml("n1", "    vDeviceCount: 6\n"));
  BumpMtime(node_path_, 1);
  EXPECT_TRUE(m.PollOnce());
  EXPECT_EQ(m.Current()->vdevice_count, 6);
  // The device config turns soft slicing on globally (the node entry keeps its count).
  WriteFile(device_path_, testing::ShippedDeviceConfig(/*soft=*/true));
  BumpMtime(device_path_, 2);
  EXPECT_TRUE(m.PollOnce());
  EXPECT_TRUE(m.Current()->hami_vnpu_core);
  EXPECT_EQ(m.Current()->aicore, 100);
  // An invalid device config: kept, counted, logged once.
  WriteFile(device_path_, "vnpus: [this is not a config");
  BumpMtime(device_path_, 3);
  EXPECT_FALSE(m.PollOnce());
  EXPECT_FALSE(m.PollOnce());
  EXPECT_TRUE(m.Current()->hami_vnpu_core);
  EXPECT_EQ(m.ConfigReloadFailures(), 1u);
  int mentions = 0;
  for (const auto& l : logs()) {
    mentions += l.find("keeping the last good device config") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(mentions, 1);
  // Fixing the file is picked up.
  WriteFile(device_path_, testing::ShippedDeviceConfig(/*soft=*/false));
  BumpMtime(device_path_, 4);
  EXPECT_TRUE(m.PollOnce());
  EXPECT_FALSE(m.Current()->hami_vnpu_core);
}

TEST_F(DeviceManagerTest, ConfigWithoutThisChipKeepsServing) {
  DeviceManager m(Options(), dcmi_);
  ASSERT_TRUE(m.Initialize().ok());
  std::string text = testing::ShippedDeviceConfig();
  const std::string from = "chipName: 910B3";
  text.replace(text.find(from), from.size(), "chipName: 910B9");
  WriteFile(device_path_, text);
  BumpMtime(device_path_, 5);
  EXPECT_FALSE(m.PollOnce());
  EXPECT_EQ(m.Current()->common_word, "Ascend910B3");
}

TEST_F(DeviceManagerTest, PollThreadPublishesAHealthChange) {
  DeviceManagerOptions o = Options();
  o.poll_interval = std::chrono::milliseconds(10);
  DeviceManager m(o, dcmi_);
  std::mutex mu;
  std::condition_variable cv;
  bool healthy_again = false;
  m.AddListener([&](std::shared_ptr<const NodeDevices> nd) {
    std::lock_guard<std::mutex> l(mu);
    healthy_again = !nd->chips[0].healthy ? false : true;
    cv.notify_all();
  });
  dcmi_.SetHealth(0, 2);
  ASSERT_TRUE(m.Start().ok());
  dcmi_.SetHealth(0, 0);
  std::unique_lock<std::mutex> l(mu);
  EXPECT_TRUE(cv.wait_for(l, std::chrono::seconds(20), [&] { return healthy_again; }));
  l.unlock();
  m.Stop();
}

}  // namespace
}  // namespace npushare::deviceplugin::devices
