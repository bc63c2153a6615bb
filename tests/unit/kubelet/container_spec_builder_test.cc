// The pure pieces of the kubelet stand-in's pod side: $(VAR) expansion, runtime ids, device
// requests from a container, and the phase kubelet derives from container states.
#include "sim/kubelet/container_spec_builder.h"

#include <gtest/gtest.h>

#include <regex>

#include "sim/kubelet/pod_status.h"

namespace npushare::kubelet_sim {
namespace {

using nlohmann::json;

TEST(ExpandVarsTest, ExpandsKnownKeepsUnknownAndEscapes) {
  std::map<std::string, std::string> vars{{"A", "x"}, {"B", "y"}};
  EXPECT_EQ(ExpandVars("$(A)-$(B)", vars), "x-y");
  EXPECT_EQ(ExpandVars("$(C)", vars), "$(C)");
  EXPECT_EQ(ExpandVars("$$(A)", vars), "$(A)");
  EXPECT_EQ(ExpandVars("cost $5 $(A", vars), "cost $5 $(A");
  EXPECT_EQ(ExpandVars("end$", vars), "end$");
}

TEST(ContainerRuntimeIdTest, ValidAndDistinct) {
  const std::regex valid("[a-z0-9][a-z0-9_.-]{0,63}");
  std::string long_name(63, 'n');
  for (const auto& id :
       {ContainerRuntimeId("uid-1", "main", 0), ContainerRuntimeId("uid-1", long_name, 99999),
        ContainerRuntimeId("uid-1", "-odd.Name_", 1)}) {
    EXPECT_TRUE(std::regex_match(id, valid)) << id;
  }
  EXPECT_NE(ContainerRuntimeId("uid-1", "main", 0), ContainerRuntimeId("uid-2", "main", 0));
  EXPECT_NE(ContainerRuntimeId("uid-1", "main", 0), ContainerRuntimeId("uid-1", "main", 1));
  EXPECT_EQ(ContainerRuntimeId("uid-1", "main", 0), ContainerRuntimeId("uid-1", "main", 0));
}

TEST(ExtendedRequestsTest, LimitsOfPluginResourcesOnly) {
  json c = {{"name", "main"},
            {"resources",
             {{"limits", {{"huawei.com/Ascend910B3", "2"}, {"cpu", "1"}}},
              {"requests", {{"huawei.com/Ascend910B3-memory", "4096"}}}}}};
  auto plugin = [](const std::string& n) { return n == "huawei.com/Ascend910B3"; };
  auto r = ExtendedRequests(c, plugin);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].resource, "huawei.com/Ascend910B3");
  EXPECT_EQ((*r)[0].count, 2);
  json numeric = {{"resources", {{"limits", {{"huawei.com/Ascend910B3", 3}}}}}};
  ASSERT_TRUE(ExtendedRequests(numeric, plugin).ok());
  EXPECT_EQ((*ExtendedRequests(numeric, plugin))[0].count, 3);
  json zero = {{"resources", {{"limits", {{"huawei.com/Ascend910B3", "0"}}}}}};
  EXPECT_TRUE(ExtendedRequests(zero, plugin)->empty());
  for (json bad : {json("1.5"), json("-1"), json("2Gi"), json(true), json("99999999")}) {
    json c2 = {{"resources", {{"limits", {{"huawei.com/Ascend910B3", bad}}}}}};
    EXPECT_EQ(ExtendedRequests(c2, plugin).status().code(), StatusCode::kInvalidArgument)
        << bad.dump();
  }
}

TEST(BuildContainerSpecTest, NeedsACommandAndRejectsNonStrings) {
  json pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}, {"uid", "u"}}}, {"spec", {}}};
  json none = {{"name", "main"}};
  ContainerSpecInputs in{.pod = &pod, .container = &none};
  EXPECT_EQ(BuildContainerSpec(in).status().code(), StatusCode::kInvalidArgument);
  json bad = {{"name", "main"}, {"command", {1, 2}}};
  in.container = &bad;
  EXPECT_EQ(BuildContainerSpec(in).status().code(), StatusCode::kInvalidArgument);
  json ok = {
      {"name", "main"},
      {"args", {"run"}},
      {"env",
       {{{"name", "NS"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
        {{"name", "S"}, {"valueFrom", {{"secretKeyRef", {{"name", "s"}}}}}}}}};
  in.container = &ok;
  auto built = BuildContainerSpec(in);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built->spec.args, std::vector<std::string>{"run"});
  EXPECT_EQ(built->spec.env, (std::vector<std::string>{"NS=ns", "S="}));
  EXPECT_EQ(built->warnings.size(), 1u);
  EXPECT_FALSE(built->spec.ascend_runtime);
}

TEST(PodPhaseOfTest, KubeletPhases) {
  ContainerRecord running;
  running.state = ContainerRecord::State::kRunning;
  ContainerRecord ok;
  ok.state = ContainerRecord::State::kTerminated;
  ok.terminated = Terminated{0, "Completed", "", "", "", ""};
  ContainerRecord failed = ok;
  failed.terminated->exit_code = 1;
  ContainerRecord waiting;
  EXPECT_EQ(PodPhaseOf({waiting}, {false}), "Pending");
  EXPECT_EQ(PodPhaseOf({running, ok}, {false, false}), "Running");
  EXPECT_EQ(PodPhaseOf({ok, ok}, {false, false}), "Succeeded");
  EXPECT_EQ(PodPhaseOf({ok, failed}, {false, false}), "Failed");
  EXPECT_EQ(PodPhaseOf({ok, failed}, {false, true}), "Running");  // restart pending
}

TEST(PodStatusRecordTest, ConditionTransitionTimeChangesOnlyWithValue) {
  PodStatusRecord r;
  r.SetCondition("Ready", false, "t1");
  r.SetCondition("Ready", false, "t2");
  EXPECT_EQ(r.conditions["Ready"].last_transition_time, "t1");
  r.SetCondition("Ready", true, "t3");
  EXPECT_EQ(r.conditions["Ready"].last_transition_time, "t3");
  json s = r.ToJson();
  EXPECT_TRUE(s["reason"].is_null());
  EXPECT_EQ(s["podIP"], "127.0.0.1");
}

}  // namespace
}  // namespace npushare::kubelet_sim
