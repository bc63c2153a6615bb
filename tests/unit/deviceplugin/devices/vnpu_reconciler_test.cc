#include "deviceplugin/devices/vnpu_reconciler.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mocks/kube/fake_clock.h"
#include "mocks/kube/scripted_transport.h"
#include "unit/deviceplugin/devices/fake_dcmi.h"

namespace npushare::deviceplugin::devices {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::FakeDcmi;

class FixedSource final : public DeviceSnapshotSource {
 public:
  std::shared_ptr<const NodeDevices> Current() const override { return nd; }
  std::shared_ptr<const NodeDevices> nd;
};

class FakePods final : public LiveSliceSource {
 public:
  Result<std::vector<OwnedSlice>> LiveSlices() override {
    if (!status.ok()) {
      return status;
    }
    return slices;
  }
  std::vector<OwnedSlice> slices;
  Status status;
};

class VnpuReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dcmi_.AddChips(2);
    auto nd = std::make_shared<NodeDevices>();
    nd->common_word = "Ascend910B3";
    for (int i = 0; i < 2; ++i) {
      Chip c;
      c.index = static_cast<uint32_t>(i);
      c.card_id = i;
      c.device_id = 0;
      c.uuid = "U" + std::to_string(i);
      nd->chips.push_back(c);
    }
    source_.nd = nd;
  }
  VnpuReconcilerOptions Options() {
    VnpuReconcilerOptions o;
    o.grace = seconds(120);
    o.log = [](const std::string&) {};
    return o;
  }
  FakeDcmi dcmi_;
  FixedSource source_;
  FakePods pods_;
  kube::testing::FakeClock clock_;
};

TEST_F(VnpuReconcilerTest, IdleUnownedVnpuIsDestroyedOnlyAfterTheGrace) {
  dcmi_.AddVnpu(0, 100, "vir05_1c_16g", 0);
  dcmi_.AddVnpu(0, 101, "vir05_1c_16g", 1);
  VnpuReconciler r(Options(), dcmi_, source_, pods_, clock_);
  auto first = r.ReconcileOnce();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->vnpus, 2);
  EXPECT_EQ(first->idle, 1);
  EXPECT_TRUE(first->destroyed.empty());
  clock_.Advance(seconds(119));
  EXPECT_TRUE(r.ReconcileOnce()->destroyed.empty());
  clock_.Advance(seconds(1));
  auto later = r.ReconcileOnce();
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->destroyed, (std::vector<uint32_t>{100}));
  EXPECT_FALSE(dcmi_.HasVnpu(100));
  EXPECT_TRUE(dcmi_.HasVnpu(101));  // in use: never
  EXPECT_EQ(r.DestroyedTotal(), 1u);
}

TEST_F(VnpuReconcilerTest, BeingSeenUsedRestartsTheGrace) {
  dcmi_.AddVnpu(0, 100, "vir05_1c_16g", 0);
  VnpuReconciler r(Options(), dcmi_, source_, pods_, clock_);
  ASSERT_TRUE(r.ReconcileOnce().ok());
  clock_.Advance(seconds(100));
  dcmi_.SetVnpuUsed(100, 1);
  ASSERT_TRUE(r.ReconcileOnce().ok());
  dcmi_.SetVnpuUsed(100, 0);
  clock_.Advance(seconds(1));
  ASSERT_TRUE(r.ReconcileOnce().ok());
  clock_.Advance(seconds(119));
  EXPECT_TRUE(r.ReconcileOnce()->destroyed.empty());
  clock_.Advance(seconds(1));
  EXPECT_EQ(r.ReconcileOnce()->destroyed, (std::vector<uint32_t>{100}));
}

TEST_F(VnpuReconcilerTest, NaIsContainerUsedCountsAsUsed) {
  dcmi_.AddVnpu(0, 100, "vir05_1c_16g", kDcmiIsContainerUsedNa);
  VnpuReconciler r(Options(), dcmi_, source_, pods_, clock_);
  ASSERT_TRUE(r.ReconcileOnce().ok());
  clock_.Advance(seconds(1000));
  EXPECT_TRUE(r.ReconcileOnce()->destroyed.empty());
}

TEST_F(VnpuReconcilerTest, LivePodsProtectUnattachedVnpusOfTheirChipAndTemplate) {
  // Chip 0: one vNPU in use, two idle, all vir05. Live pods hold two vir05 slices on U0 (one
  // is the attached one, the other protects the newest idle vNPU) and one vir10 on U1 (no
  // vir10 vNPU exists on U1: nothing to protect; U1's idle vir05 goes).
  dcmi_.AddVnpu(0, 100, "vir05_1c_16g", 1);
  dcmi_.AddVnpu(0, 101, "vir05_1c_16g", 0);
  dcmi_.AddVnpu(1, 116, "vir05_1c_16g", 0);
  pods_.slices = {{"U0", "vir05_1c_16g"}, {"U0", "vir05_1c_16g"}, {"U1", "vir10_3c_32g"}};
  VnpuReconciler r(Options(), dcmi_, source_, pods_, clock_);
  ASSERT_TRUE(r.ReconcileOnce().ok());
  clock_.Advance(seconds(10));
  dcmi_.AddVnpu(0, 102, "vir05_1c_16g", 0);  // the newest idle one
  ASSERT_TRUE(r.ReconcileOnce().ok());
  clock_.Advance(seconds(200));
  auto rep = r.ReconcileOnce();
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->protected_by_pods, 1);
  EXPECT_EQ(rep->destroyed, (std::vector<uint32_t>{101, 116}));
  EXPECT_TRUE(dcmi_.HasVnpu(100));
  EXPECT_TRUE(dcmi_.HasVnpu(102));
}

TEST_F(VnpuReconcilerTest, UnknownPodsDestroyNothing) {
  dcmi_.AddVnpu(0, 100, "vir05_1c_16g", 0);
  pods_.status = UnavailableError("api down");
  VnpuReconciler r(Options(), dcmi_, source_, pods_, clock_);
  EXPECT_EQ(r.ReconcileOnce().status().code(), StatusCode::kUnavailable);
  clock_.Advance(seconds(1000));
  EXPECT_EQ(r.ReconcileOnce().status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(dcmi_.HasVnpu(100));
  // The idle time kept running while the API was down: destroyed as soon as pods are known.
  pods_.status = OkStatus();
  EXPECT_EQ(r.ReconcileOnce()->destroyed, (std::vector<uint32_t>{100}));
}

TEST_F(VnpuReconcilerTest, DcmiListingErrorsAreReportedNotFatal) {
  dcmi_.FailVnpuIds(true);
  VnpuReconciler r(Options(), dcmi_, source_, pods_, clock_);
  auto rep = r.ReconcileOnce();
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->errors.size(), 2u);
  EXPECT_EQ(rep->vnpus, 0);
}

json Pod(const std::string& allocated, const std::string& runtime, const std::string& phase,
         bool soft = false) {
  json annos = {{"hami.io/Ascend910B3-devices-allocated", allocated},
                {"huawei.com/Ascend910B3", runtime}};
  if (soft) {
    annos["huawei.com/vnpu-mode"] = "hami-core";
  }
  return {{"metadata", {{"name", "p"}, {"namespace", "default"}, {"annotations", annos}}},
          {"status", {{"phase", phase}}}};
}

TEST(SlicesOfPodTest, TemplatesFromRuntimeInfoPerAllocatedDevice) {
  const std::string alloc = "U0,Ascend910B3,16384,25:;U1,Ascend910B3,65536,100:;";
  const std::string rt = R"([{"UUID":"U0","temp":"vir05_1c_16g"},{"UUID":"U1"}])";
  EXPECT_EQ(SlicesOfPod(Pod(alloc, rt, "Running"), "Ascend910B3"),
            (std::vector<OwnedSlice>{{"U0", "vir05_1c_16g"}}));
  EXPECT_TRUE(SlicesOfPod(Pod(alloc, rt, "Running", /*soft=*/true), "Ascend910B3").empty());
  EXPECT_TRUE(SlicesOfPod(Pod("garbage", rt, "Running"), "Ascend910B3").empty());
  EXPECT_TRUE(SlicesOfPod(Pod(alloc, rt, "Running"), "Ascend310P").empty());
}

TEST(KubeLiveSlicesTest, ListsThisNodesNonTerminalPods) {
  kube::testing::ScriptedTransport transport;
  kube::ClientOptions co;
  co.qps = 0;
  co.max_retries = 0;
  kube::KubeClient client(transport, co);
  FixedSource source;
  auto nd = std::make_shared<NodeDevices>();
  nd->common_word = "Ascend910B3";
  source.nd = nd;
  const std::string alloc = "U0,Ascend910B3,16384,25:;";
  const std::string rt = R"([{"UUID":"U0","temp":"vir05_1c_16g"}])";
  json list = {
      {"kind", "PodList"},
      {"metadata", {{"resourceVersion", "5"}}},
      {"items",
       {Pod(alloc, rt, "Running"), Pod(alloc, rt, "Succeeded"), Pod(alloc, rt, "Pending")}}};
  transport.PushResponse(200, list.dump());
  KubeLiveSlices live("node-a", client, source);
  auto slices = live.LiveSlices();
  ASSERT_TRUE(slices.ok()) << slices.status().ToString();
  EXPECT_EQ(slices->size(), 2u);
  auto reqs = transport.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_NE(reqs[0].target.find("fieldSelector=spec.nodeName%3Dnode-a"), std::string::npos)
      << reqs[0].target;
}

}  // namespace
}  // namespace npushare::deviceplugin::devices
