// The shipped example cluster, scheduled end to end through the same readers the CLI uses.
#include "cli/dry_run.h"

#include <gtest/gtest.h>

#include "cli/manifest_reader.h"
#include "common/file_reader.h"
#include "config/config_loader.h"

namespace npushare::cli {
namespace {

std::string Path(const std::string& rel) {
  return std::string(NPUSHARE_SOURCE_DIR) + "/" + rel;
}

class ExampleClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = config::LoadDeviceConfigFile(Path("deploy/config/device-config.yaml"), nullptr);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    config_ = *cfg;
    auto nodes_text = ReadFileLimited(Path("examples/nodes.yaml"), 1 << 20);
    ASSERT_TRUE(nodes_text.ok());
    auto nodes = ReadNodes(*nodes_text, config_);
    ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
    nodes_ = *nodes;
    auto pods_text = ReadFileLimited(Path("examples/pods.yaml"), 1 << 20);
    ASSERT_TRUE(pods_text.ok());
    auto pods = ReadPods(*pods_text);
    ASSERT_TRUE(pods.ok()) << pods.status().ToString();
    DryRunOptions opts;
    opts.filter.hami_vnpu_core_global = config_.hami_vnpu_core;
    opts.now_unix_seconds = 1700000000;
    DryRunScheduler s(config_, nodes_, opts);
    for (auto& p : *pods)
      decisions_[p.name] = s.Schedule(p);
  }

  const PodDecision& D(const std::string& name) { return decisions_.at(name); }

  config::DeviceConfig config_;
  std::vector<scheduling::NodeState> nodes_;
  std::map<std::string, PodDecision> decisions_;
};

TEST_F(ExampleClusterTest, WholeCardsGoToHardNode) {
  EXPECT_EQ(D("whole-card").node, "node-hard");
  ASSERT_EQ(D("two-cards").devices.size(), 2u);
  EXPECT_NE(D("two-cards").devices[0].uuid, D("whole-card").devices[0].uuid);
  EXPECT_EQ(D("two-cards").devices[0].memory, 65536);
}

TEST_F(ExampleClusterTest, HardSlicesUseTemplates) {
  ASSERT_EQ(D("hard-slice-4g").devices.size(), 1u);
  EXPECT_EQ(D("hard-slice-4g").devices[0].template_name, "vir05_1c_16g");
  EXPECT_EQ(D("hard-slice-20g").devices[0].template_name, "vir10_3c_32g");
  EXPECT_EQ(D("p310-slice-1g").node, "node-310p");
  EXPECT_EQ(D("p310-slice-1g").devices[0].template_name, "vir01");
  EXPECT_EQ(D("p310-slice-5g").devices[0].template_name, "vir02");
  const auto& a = D("hard-slice-4g").annotations;
  EXPECT_NE(a.at("huawei.com/Ascend910B3").find("\"temp\":\"vir05_1c_16g\""), std::string::npos);
}

TEST_F(ExampleClusterTest, SoftSlicesNeedTheSoftNode) {
  const PodDecision& soft = D("soft-slice");
  EXPECT_EQ(soft.node, "node-soft");
  ASSERT_EQ(soft.devices.size(), 1u);
  EXPECT_EQ(soft.devices[0].memory, 28672);
  EXPECT_EQ(soft.devices[0].cores, 40);
  EXPECT_FALSE(soft.devices[0].template_name.has_value());
  const PodDecision& tp = D("vllm-tp2");
  EXPECT_EQ(tp.node, "node-soft");
  ASSERT_EQ(tp.devices.size(), 2u);
  EXPECT_NE(tp.devices[0].uuid, tp.devices[1].uuid);
}

TEST_F(ExampleClusterTest, UnschedulablePodsExplainWhy) {
  EXPECT_EQ(D("too-many-cards").outcome, PodDecision::Outcome::kUnschedulable);
  EXPECT_EQ(D("too-many-cards").reasons, "0/3 nodes are available: 3 NodeInsufficientDevice.");
  EXPECT_EQ(D("soft-on-310p").outcome, PodDecision::Outcome::kUnschedulable);
  EXPECT_NE(D("soft-on-310p").reasons->find("1 ModeNotFit"), std::string::npos);
}

TEST_F(ExampleClusterTest, AdmissionRejections) {
  for (const char* name : {"memory-in-bytes", "core-without-soft-mode", "multi-device-slice"}) {
    EXPECT_EQ(D(name).outcome, PodDecision::Outcome::kAdmissionRejected) << name;
    EXPECT_FALSE(D(name).admitted);
    EXPECT_TRUE(D(name).admission_error.has_value());
  }
  EXPECT_EQ(D("unknown-resource").outcome, PodDecision::Outcome::kNoNpuRequest);
}

TEST(DryRunTest, UsageAccumulatesUntilTheNodeIsFull) {
  auto cfg = config::LoadDeviceConfigFile(Path("deploy/config/device-config.yaml"), nullptr);
  ASSERT_TRUE(cfg.ok());
  auto nodes = ReadNodes("nodes:\n- {name: n, chip: Ascend310P, count: 1}\n", *cfg);
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  DryRunScheduler s(*cfg, *nodes, {});
  auto pod = ReadPods(
      "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    resources:\n"
      "      limits: {huawei.com/Ascend310P: '1', huawei.com/Ascend310P-memory: '12288'}\n");
  ASSERT_TRUE(pod.ok()) << pod.status().ToString();
  // 21527 MB per 310P: one 12288 MB (vir04) slice fits, a second does not.
  EXPECT_EQ(s.Schedule((*pod)[0]).outcome, PodDecision::Outcome::kScheduled);
  PodDecision second = s.Schedule((*pod)[0]);
  EXPECT_EQ(second.outcome, PodDecision::Outcome::kUnschedulable);
  EXPECT_EQ(second.reasons, "0/1 nodes are available: 1 CardInsufficientMemory.");
}

TEST(DryRunTest, PrivilegedNpuPodIsRejected) {
  auto cfg = config::LoadDeviceConfigFile(Path("deploy/config/device-config.yaml"), nullptr);
  ASSERT_TRUE(cfg.ok());
  DryRunScheduler s(*cfg, {}, {});
  auto pod = ReadPods(
      "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n"
      "    securityContext: {privileged: true}\n"
      "    resources: {limits: {huawei.com/Ascend910B3: '1'}}\n");
  ASSERT_TRUE(pod.ok());
  PodDecision d = s.Schedule((*pod)[0]);
  EXPECT_EQ(d.outcome, PodDecision::Outcome::kAdmissionRejected);
}

}  // namespace
}  // namespace npushare::cli
