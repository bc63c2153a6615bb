#include "deviceplugin/devices/node_registrar.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "mocks/kube/fake_clock.h"
#include "mocks/kube/scripted_transport.h"

namespace npushare::deviceplugin::devices {
namespace {

using nlohmann::json;

class FixedSource final : public DeviceSnapshotSource {
 public:
  std::shared_ptr<const NodeDevices> Current() const override { return nd; }
  std::shared_ptr<const NodeDevices> nd;
};

std::shared_ptr<NodeDevices> TwoChips() {
  auto nd = std::make_shared<NodeDevices>();
  nd->common_word = "Ascend910B3";
  nd->resource_name = "huawei.com/Ascend910B3";
  nd->memory_mb = 65536;
  nd->aicore = 20;
  nd->vdevice_count = 4;
  for (uint32_t i = 0; i < 2; ++i) {
    Chip c;
    c.index = i;
    c.uuid = "NPU-" + std::to_string(i);
    c.healthy = i == 0;
    nd->chips.push_back(c);
  }
  return nd;
}

class NodeRegistrarTest : public ::testing::Test {
 protected:
  NodeRegistrarTest() : client_(transport_, Options(), clock_) {}
  static kube::ClientOptions Options() {
    kube::ClientOptions o;
    o.max_retries = 0;
    o.qps = 0;
    return o;
  }
  NodeRegistrarOptions RegistrarOptions() {
    NodeRegistrarOptions o;
    o.node_name = "node-a";
    // Civil time = UTC + 8 h (a node in Asia/Shanghai), independent of the test host's zone.
    o.civil_seconds = [](std::chrono::system_clock::time_point t) {
      return static_cast<int64_t>(std::chrono::system_clock::to_time_t(t)) + 8 * 3600;
    };
    o.log = [](const std::string&) {};
    return o;
  }

  kube::testing::ScriptedTransport transport_;
  kube::testing::FakeClock clock_;
  kube::KubeClient client_;
  FixedSource source_;
};

TEST_F(NodeRegistrarTest, OneMergePatchWithRegisterHandshakeAndSoftFlag) {
  source_.nd = TwoChips();
  NodeRegistrar r(RegistrarOptions(), source_, client_, clock_);
  transport_.PushResponse(200, R"({"metadata":{"name":"node-a"}})");
  ASSERT_TRUE(r.RegisterOnce().ok());
  auto reqs = transport_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "PATCH");
  EXPECT_EQ(reqs[0].target, "/api/v1/nodes/node-a");
  bool merge = false;
  for (const auto& [k, v] : reqs[0].headers) {
    merge = merge || v == "application/merge-patch+json";
  }
  EXPECT_TRUE(merge);
  json body = json::parse(reqs[0].body);
  const json& annos = body["metadata"]["annotations"];
  // FakeClock's wall time is 2024-05-01T10:00:00Z; +1 s offset, +8 h zone.
  EXPECT_EQ(annos["hami.io/node-handshake-Ascend910B3"], "Reported_2024.05.01 18:00:01");
  EXPECT_EQ(annos["hami-vnpu-core"], "false");
  EXPECT_EQ(
      annos["hami.io/node-register-Ascend910B3"],
      R"([{"id":"NPU-0","count":4,"devmem":65536,"devcore":20,"type":"Ascend910B3","health":true,"custominfo":{"NetworkID":0},"devicepairscore":{}},{"id":"NPU-1","index":1,"count":4,"devmem":65536,"devcore":20,"type":"Ascend910B3","custominfo":{"NetworkID":0},"devicepairscore":{}}])");
  EXPECT_EQ(r.Successes(), 1u);
}

TEST_F(NodeRegistrarTest, TickIs30sAfterSuccessAnd5sAfterAnError) {
  source_.nd = TwoChips();
  NodeRegistrar r(RegistrarOptions(), source_, client_, clock_);
  transport_.PushResponse(200, "{}");
  EXPECT_EQ(r.Tick(), std::chrono::seconds(30));
  transport_.PushResponse(500, R"({"kind":"Status","code":500})");
  EXPECT_EQ(r.Tick(), std::chrono::seconds(5));
  transport_.Push(UnavailableError("connection refused"));
  EXPECT_EQ(r.Tick(), std::chrono::seconds(5));
  transport_.PushResponse(200, "{}");
  EXPECT_EQ(r.Tick(), std::chrono::seconds(30));
  EXPECT_EQ(r.Successes(), 2u);
  EXPECT_EQ(r.Failures(), 2u);
}

TEST_F(NodeRegistrarTest, TheHandshakeFollowsTheClockAndOffset) {
  source_.nd = TwoChips();
  NodeRegistrarOptions o = RegistrarOptions();
  o.report_time_offset = std::chrono::seconds(3);
  NodeRegistrar r(o, source_, client_, clock_);
  clock_.Advance(std::chrono::seconds(30));
  transport_.PushResponse(200, "{}");
  ASSERT_TRUE(r.RegisterOnce().ok());
  json body = json::parse(transport_.requests().back().body);
  EXPECT_EQ(body["metadata"]["annotations"]["hami.io/node-handshake-Ascend910B3"],
            "Reported_2024.05.01 18:00:33");
}

TEST(LocalCivilSecondsTest, AddsTheLocalZoneOffset) {
  // POSIX TZ strings need no zone database: "XXX-8" is 8 h east of UTC.
  const char* old = getenv("TZ");
  const std::string saved = old != nullptr ? old : "";
  setenv("TZ", "XXX-8", 1);
  tzset();
  const auto t = std::chrono::system_clock::from_time_t(1714557600);  // 2024-05-01T10:00:00Z
  EXPECT_EQ(LocalCivilSeconds(t), 1714557600 + 8 * 3600);
  setenv("TZ", "UTC0", 1);
  tzset();
  EXPECT_EQ(LocalCivilSeconds(t), 1714557600);
  if (old != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

TEST_F(NodeRegistrarTest, NoSnapshotIsFailedPreconditionAndSendsNothing) {
  NodeRegistrar r(RegistrarOptions(), source_, client_, clock_);
  EXPECT_EQ(r.RegisterOnce().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(NodeRegistrarTest, SoftNodeSaysTrue) {
  auto nd = TwoChips();
  nd->hami_vnpu_core = true;
  nd->aicore = 100;
  source_.nd = nd;
  NodeRegistrar r(RegistrarOptions(), source_, client_, clock_);
  transport_.PushResponse(200, "{}");
  ASSERT_TRUE(r.RegisterOnce().ok());
  json body = json::parse(transport_.requests().back().body);
  EXPECT_EQ(body["metadata"]["annotations"]["hami-vnpu-core"], "true");
  EXPECT_NE(
      body["metadata"]["annotations"]["hami.io/node-register-Ascend910B3"].get<std::string>().find(
          R"("devcore":100)"),
      std::string::npos);
}

TEST_F(NodeRegistrarTest, ThreadRegistersFirstAfterTheFirstDelayAndOnNudge) {
  source_.nd = TwoChips();
  NodeRegistrarOptions o = RegistrarOptions();
  o.first_delay = std::chrono::milliseconds(1);
  o.period = std::chrono::hours(1);  // only a nudge can cause the second patch
  for (int i = 0; i < 2; ++i) {
    transport_.PushResponse(200, "{}");
  }
  NodeRegistrar r(o, source_, client_, clock_);
  r.Start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (r.Successes() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(r.Successes(), 1u);
  r.Nudge();
  while (r.Successes() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(r.Successes(), 2u);
  r.Stop();
}

}  // namespace
}  // namespace npushare::deviceplugin::devices
