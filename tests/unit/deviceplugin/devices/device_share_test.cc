#include "deviceplugin/devices/device_share.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>

#include "deviceplugin/devices/command_runner_impl.h"
#include "mocks/kube/fake_clock.h"
#include "mocks/kube/scripted_transport.h"
#include "support/temp_dir.h"

namespace npushare::deviceplugin::devices {
namespace {

using nlohmann::json;

class FixedSource final : public DeviceSnapshotSource {
 public:
  std::shared_ptr<const NodeDevices> Current() const override { return nd; }
  std::shared_ptr<const NodeDevices> nd;
};

std::shared_ptr<NodeDevices> Node(bool soft, int chips) {
  auto nd = std::make_shared<NodeDevices>();
  nd->common_word = "Ascend910B3";
  nd->hami_vnpu_core = soft;
  for (int i = 0; i < chips; ++i) {
    Chip c;
    c.index = static_cast<uint32_t>(i);
    c.card_id = i * 2;
    c.device_id = 0;
    c.uuid = "U" + std::to_string(i);
    nd->chips.push_back(c);
  }
  return nd;
}

// ScriptedRunner: records every call and answers with scripted exit codes (0 when empty).
class ScriptedRunner final : public CommandRunner {
 public:
  Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string& stdin_text,
                            std::chrono::milliseconds) override {
    calls.push_back(argv);
    stdins.push_back(stdin_text);
    int code = 0;
    if (!exit_codes.empty()) {
      code = exit_codes.front();
      exit_codes.pop_front();
    }
    return CommandResult{code, code == 0 ? "\tStatus : OK\n" : "\tStatus : Fail\n"};
  }
  std::vector<std::vector<std::string>> calls;
  std::vector<std::string> stdins;
  std::deque<int> exit_codes;
};

class DeviceShareTest : public ::testing::Test {
 protected:
  DeviceShareTest() : client_(transport_, ClientOpts(), clock_) {}
  static kube::ClientOptions ClientOpts() {
    kube::ClientOptions o;
    o.max_retries = 0;
    o.qps = 0;
    return o;
  }
  DeviceShareOptions Options() {
    DeviceShareOptions o;
    o.node_name = "node-a";
    o.npu_smi_path = "/opt/npu-smi";
    o.initial_backoff = std::chrono::seconds(2);
    o.max_backoff = std::chrono::seconds(10);
    o.log = [](const std::string&) {};
    return o;
  }
  kube::testing::ScriptedTransport transport_;
  kube::testing::FakeClock clock_;
  kube::KubeClient client_;
  FixedSource source_;
  ScriptedRunner runner_;
};

TEST_F(DeviceShareTest, EveryChipOnceWithTheUpstreamCommandAndY) {
  source_.nd = Node(true, 2);
  DeviceShareEnabler share(Options(), source_, runner_, &client_);
  EXPECT_TRUE(share.EnableOnce().ok());
  ASSERT_EQ(runner_.calls.size(), 2u);
  EXPECT_EQ(runner_.calls[1], (std::vector<std::string>{"/opt/npu-smi", "set", "-t", "device-share",
                                                        "-i", "2", "-c", "0", "-d", "1"}));
  EXPECT_EQ(runner_.stdins[0], "Y\n");
  EXPECT_EQ(share.EnabledChips(), (std::set<std::string>{"U0", "U1"}));
  EXPECT_TRUE(share.EnableOnce().ok());
  EXPECT_EQ(runner_.calls.size(), 2u);  // not run again
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(DeviceShareTest, HardNodeRunsNothing) {
  source_.nd = Node(false, 2);
  DeviceShareEnabler share(Options(), source_, runner_, &client_);
  EXPECT_EQ(share.Tick(), std::chrono::seconds(60));
  EXPECT_TRUE(runner_.calls.empty());
}

TEST_F(DeviceShareTest, FailureIsAnEventAndBacksOffExponentiallyThenRecovers) {
  source_.nd = Node(true, 2);
  DeviceShareEnabler share(Options(), source_, runner_, &client_);
  // Chip 0 fails three times, chip 1 succeeds at once.
  runner_.exit_codes = {200, 0, 200, 200};
  for (int i = 0; i < 3; ++i) {
    transport_.PushResponse(201, "{}");
  }
  EXPECT_EQ(share.Tick(), std::chrono::seconds(2));
  EXPECT_EQ(share.Tick(), std::chrono::seconds(4));
  EXPECT_EQ(share.Tick(), std::chrono::seconds(8));
  EXPECT_EQ(runner_.calls.size(), 4u);  // chip 1 was not run again
  EXPECT_EQ(share.Failures(), 3u);
  auto reqs = transport_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/default/events");
  json ev = json::parse(reqs[0].body);
  EXPECT_EQ(ev["type"], "Warning");
  EXPECT_EQ(ev["reason"], "DeviceShareFailed");
  EXPECT_EQ(ev["involvedObject"]["kind"], "Node");
  EXPECT_EQ(ev["involvedObject"]["name"], "node-a");
  // Next attempt succeeds: back to the recheck interval, backoff reset.
  EXPECT_EQ(share.Tick(), std::chrono::seconds(60));
  EXPECT_EQ(share.EnabledChips().size(), 2u);
}

TEST_F(DeviceShareTest, BackoffIsCapped) {
  source_.nd = Node(true, 1);
  DeviceShareEnabler share(Options(), source_, runner_, nullptr);  // no events
  runner_.exit_codes = {1, 1, 1, 1, 1};
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 5; ++i) {
    delays.push_back(share.Tick());
  }
  EXPECT_EQ(delays, (std::vector<std::chrono::milliseconds>{
                        std::chrono::seconds(2), std::chrono::seconds(4), std::chrono::seconds(8),
                        std::chrono::seconds(10), std::chrono::seconds(10)}));
}

TEST_F(DeviceShareTest, ChipsAddedLaterAreEnabledLater) {
  source_.nd = Node(true, 1);
  DeviceShareEnabler share(Options(), source_, runner_, nullptr);
  EXPECT_TRUE(share.EnableOnce().ok());
  source_.nd = Node(true, 2);
  EXPECT_TRUE(share.EnableOnce().ok());
  ASSERT_EQ(runner_.calls.size(), 2u);
  EXPECT_EQ(runner_.calls[1][5], "2");
}

TEST(ForkExecRunnerTest, FeedsStdinCollectsOutputAndExitCode) {
  npushare::testing::ScopedTempDir dir("runner");
  const std::string script = dir.path() + "/tool";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\nread answer\necho \"got $answer $1\"\necho err >&2\n"
           "[ \"$answer\" = Y ] && exit 0\nexit 200\n";
  }
  ASSERT_EQ(chmod(script.c_str(), 0700), 0);
  ForkExecRunner runner;
  auto ok = runner.Run({script, "arg"}, "Y\n", std::chrono::seconds(20));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->exit_code, 0);
  EXPECT_EQ(ok->output, "got Y arg\nerr\n");
  auto refused = runner.Run({script}, "n\n", std::chrono::seconds(20));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->exit_code, 200);
  auto eof = runner.Run({script}, "", std::chrono::seconds(20));
  ASSERT_TRUE(eof.ok());
  EXPECT_EQ(eof->exit_code, 200);
  EXPECT_EQ(runner.Run({dir.path() + "/absent"}, "", std::chrono::seconds(1)).status().code(),
            StatusCode::kNotFound);
}

TEST(ForkExecRunnerTest, ATimeoutKillsTheCommand) {
  ForkExecRunner runner;
  auto r = runner.Run({"/bin/sleep", "30"}, "", std::chrono::milliseconds(100));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace npushare::deviceplugin::devices
