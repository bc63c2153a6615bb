// The kube-scheduler stand-in against kube-local and a fake extender: the extender is called
// as kube-scheduler calls it (node names only, managed resources only, bind through it),
// unschedulable pods get the condition and are retried with backoff when the cluster changes.
#include "sim/scheduler/kube_scheduler.h"

#include <gtest/gtest.h>

#include <thread>

#include "integration/kube/test_server.h"
#include "integration/scheduler/standin/fake_extender.h"
#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"

namespace npushare::kube_scheduler_sim {
namespace {

using kube::kNodes;
using kube::kPods;
using nlohmann::json;
using testing::FakeExtender;

constexpr auto kWait = std::chrono::seconds(30);

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = kWait) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition
  }
  return pred();
}

json MakeNode(const std::string& name, const std::string& cpu, json extra_status = json::object(),
              json spec = json::object(), json labels = json::object()) {
  json status = {{"allocatable", {{"cpu", cpu}, {"memory", "64Gi"}, {"pods", "110"}}}};
  status.update(extra_status);
  json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", name}, {"labels", labels}}},
               {"spec", spec},
               {"status", status}};
  return node;
}

json MakePod(const std::string& name, json limits, const std::string& scheduler = "hami-scheduler",
             json requests = json::object()) {
  json resources = json::object();
  if (!limits.empty()) {
    resources["limits"] = limits;
  }
  if (!requests.empty()) {
    resources["requests"] = requests;
  }
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"schedulerName", scheduler},
            {"containers", {{{"name", "main"}, {"image", "busybox"}, {"resources", resources}}}}}}};
}

std::string ConfigYaml(int extender_port, const std::string& extra = "") {
  return "apiVersion: kubescheduler.config.k8s.io/v1\n"
         "kind: KubeSchedulerConfiguration\n"
         "profiles:\n"
         "- schedulerName: hami-scheduler\n"
         "extenders:\n"
         "- urlPrefix: http://127.0.0.1:" +
         std::to_string(extender_port) +
         "\n"
         "  filterVerb: filter\n"
         "  bindVerb: bind\n"
         "  nodeCacheCapable: true\n"
         "  weight: 1\n"
         "  httpTimeout: 5s\n" +
         extra +
         "  managedResources:\n"
         "  - name: huawei.com/Ascend910B3\n"
         "    ignoredByScheduler: true\n"
         "  - name: huawei.com/Ascend910B3-memory\n"
         "    ignoredByScheduler: true\n";
}

class KubeSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = std::make_unique<kube::testing::ServerAndClient>();
    extender_ = std::make_unique<FakeExtender>(client());
  }
  void TearDown() override {
    if (scheduler_) {
      scheduler_->Stop();
    }
    scheduler_.reset();
    extender_.reset();
    env_.reset();
  }
  void StartScheduler(const std::string& yaml) {
    auto cfg = ParseSchedulerConfig(yaml, "");
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    SchedulerOptions options;
    options.config = std::move(*cfg);
    scheduler_ = std::make_unique<KubeScheduler>(client(), std::move(options));
    ASSERT_TRUE(scheduler_->Start(std::chrono::seconds(20)).ok());
  }
  kube::KubeClient& client() { return env_->client(); }
  void CreateNode(const json& node) { ASSERT_TRUE(client().Create(kNodes, "", node).ok()); }
  void CreatePod(const json& pod) {
    auto created = client().Create(kPods, "default", pod);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  json GetPod(const std::string& name) {
    auto pod = client().Get(kPods, "default", name);
    return pod.ok() ? *pod : json();
  }
  std::string NodeOf(const std::string& name) {
    const json pod = GetPod(name);
    return kube::StringField(kube::Field(pod, "spec"), "nodeName");
  }
  json ScheduledCondition(const std::string& name) {
    const json pod = GetPod(name);
    const json& conds = kube::Field(kube::Field(pod, "status"), "conditions");
    if (conds.is_array()) {
      for (const auto& c : conds) {
        if (kube::StringField(c, "type") == "PodScheduled") {
          return c;
        }
      }
    }
    return json();
  }

  std::unique_ptr<kube::testing::ServerAndClient> env_;
  std::unique_ptr<FakeExtender> extender_;
  std::unique_ptr<KubeScheduler> scheduler_;
};

TEST_F(KubeSchedulerTest, ManagedPodIsFilteredByNodeNamesAndBoundThroughTheExtender) {
  CreateNode(MakeNode("node-a", "8"));
  CreateNode(MakeNode("node-b", "8"));
  extender_->SetFilter([](const json&, int*) {
    return json{{"Nodes", nullptr},
                {"NodeNames", {"node-b"}},
                {"FailedNodes", {{"node-a", "CardInsufficientMemory"}}},
                {"FailedAndUnresolvableNodes", nullptr},
                {"Error", ""}};
  });
  StartScheduler(ConfigYaml(extender_->port()));
  // The -memory resource is not on any node: ignoredByScheduler keeps the in-tree fit quiet.
  CreatePod(
      MakePod("npu", {{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "4096"}}));
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("npu") == "node-b"; })) << GetPod("npu").dump();

  auto filters = extender_->calls("filter");
  ASSERT_EQ(filters.size(), 1u);
  EXPECT_TRUE(filters[0].body["Nodes"].is_null());
  EXPECT_EQ(filters[0].body["NodeNames"], json({"node-a", "node-b"}));
  EXPECT_EQ(filters[0].body["Pod"]["metadata"]["name"], "npu");
  auto binds = extender_->calls("bind");
  ASSERT_EQ(binds.size(), 1u);
  EXPECT_EQ(binds[0].body["PodName"], "npu");
  EXPECT_EQ(binds[0].body["PodNamespace"], "default");
  EXPECT_EQ(binds[0].body["Node"], "node-b");
  EXPECT_EQ(binds[0].body["PodUID"], GetPod("npu")["metadata"]["uid"]);
  EXPECT_EQ(GetPod("npu")["metadata"]["annotations"]["npushare.test/bound-by"], "extender");
  EXPECT_EQ(scheduler_->Stats().extender_bind_calls, 1u);
}

TEST_F(KubeSchedulerTest, PodWithoutManagedResourcesSkipsTheExtender) {
  CreateNode(MakeNode("node-a", "8"));
  StartScheduler(ConfigYaml(extender_->port()));
  CreatePod(MakePod("plain", {{"cpu", "1"}}));
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("plain") == "node-a"; }));
  EXPECT_TRUE(extender_->calls("filter").empty());
  EXPECT_TRUE(extender_->calls("bind").empty());
  // Bound by the stand-in itself (POST binding): no annotation from the extender.
  EXPECT_FALSE(GetPod("plain")["metadata"].contains("annotations"));
  EXPECT_EQ(kube::StringField(ScheduledCondition("plain"), "status"), "True");
}

TEST_F(KubeSchedulerTest, OtherSchedulersPodsAreLeftAlone) {
  CreateNode(MakeNode("node-a", "8"));
  StartScheduler(ConfigYaml(extender_->port()));
  CreatePod(MakePod("theirs", {{"cpu", "1"}}, "default-scheduler"));
  CreatePod(MakePod("ours", {{"cpu", "1"}}));
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("ours") == "node-a"; }));
  EXPECT_EQ(NodeOf("theirs"), "");
  EXPECT_TRUE(ScheduledCondition("theirs").is_null());
}

TEST_F(KubeSchedulerTest, UnschedulablePodGetsConditionAndIsRetriedWhenANodeChanges) {
  CreateNode(MakeNode("node-a", "2"));
  StartScheduler(ConfigYaml(extender_->port()));
  CreatePod(MakePod("big", {}, "hami-scheduler", {{"cpu", "4"}}));
  ASSERT_TRUE(WaitUntil([&] {
    return kube::StringField(ScheduledCondition("big"), "reason") == "Unschedulable";
  })) << GetPod("big").dump();
  json cond = ScheduledCondition("big");
  EXPECT_EQ(cond["status"], "False");
  EXPECT_EQ(cond["message"], "0/1 nodes are available: 1 Insufficient cpu.");
  // A FailedScheduling event with the same words (written right after the condition).
  EXPECT_TRUE(WaitUntil([&] {
    auto events = client().List(kube::kEvents, "default", {});
    bool found = false;
    for (const auto& e : events.ok() ? (*events)["items"] : json::array()) {
      found = found || (e["reason"] == "FailedScheduling" && e["message"] == cond["message"] &&
                        e["involvedObject"]["name"] == "big");
    }
    return found;
  }));
  EXPECT_EQ(scheduler_->Stats().attempts, 1u);

  // The node grows: the pod is retried (after its 1 s backoff) and placed.
  auto node = client().Get(kNodes, "", "node-a");
  ASSERT_TRUE(node.ok());
  (*node)["status"]["allocatable"]["cpu"] = "8";
  ASSERT_TRUE(client().Update(kNodes, "", *node, "status").ok());
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("big") == "node-a"; }));
  EXPECT_EQ(scheduler_->Stats().attempts, 2u);
  EXPECT_EQ(ScheduledCondition("big")["status"], "True");
}

TEST_F(KubeSchedulerTest, ExtenderRejectionIsTheUnschedulableReason) {
  CreateNode(MakeNode("node-a", "8"));
  extender_->SetFilter([](const json&, int*) {
    return json{{"Nodes", nullptr},
                {"NodeNames", nullptr},
                {"FailedNodes", {{"node-a", "1/8 CardInsufficientMemory"}}},
                {"FailedAndUnresolvableNodes", nullptr},
                {"Error", ""}};
  });
  StartScheduler(ConfigYaml(extender_->port()));
  CreatePod(MakePod("npu", {{"huawei.com/Ascend910B3", "1"}}));
  ASSERT_TRUE(WaitUntil(
      [&] { return kube::StringField(ScheduledCondition("npu"), "reason") == "Unschedulable"; }));
  EXPECT_EQ(ScheduledCondition("npu")["message"],
            "0/1 nodes are available: 1 1/8 CardInsufficientMemory.");
  EXPECT_TRUE(extender_->calls("bind").empty());
}

TEST_F(KubeSchedulerTest, ExtenderErrorIsRetriedWithBackoffUntilItRecovers) {
  CreateNode(MakeNode("node-a", "8"));
  extender_->SetFilter([](const json&, int* status) {
    *status = 500;
    return json{{"message", "down"}};
  });
  StartScheduler(ConfigYaml(extender_->port()));
  CreatePod(MakePod("npu", {{"huawei.com/Ascend910B3", "1"}}));
  ASSERT_TRUE(WaitUntil(
      [&] { return kube::StringField(ScheduledCondition("npu"), "reason") == "SchedulerError"; }));
  EXPECT_EQ(NodeOf("npu"), "");
  // No cluster change is needed for an error: the backoff alone brings it back.
  extender_->SetFilter([](const json& args, int*) {
    return json{{"NodeNames", args["NodeNames"]}, {"Error", ""}};
  });
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("npu") == "node-a"; }));
  EXPECT_GE(extender_->calls("filter").size(), 2u);
  EXPECT_GE(scheduler_->Stats().errors, 1u);
}

TEST_F(KubeSchedulerTest, IgnorableExtenderThatIsDownIsSkipped) {
  CreateNode(MakeNode("node-a", "8"));
  int dead_port = 0;
  {
    FakeExtender gone(client());
    dead_port = gone.port();
  }
  StartScheduler(ConfigYaml(dead_port, "  ignorable: true\n"));
  CreatePod(MakePod("npu", {{"huawei.com/Ascend910B3", "1"}}));
  // Filter skipped, bind through the extender failed and fell back to the binding subresource.
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("npu") == "node-a"; }));
}

TEST_F(KubeSchedulerTest, InTreeFiltersRunBeforeTheExtender) {
  json taint = {{"taints", {{{"key", "dedicated"}, {"value", "infra"}, {"effect", "NoSchedule"}}}}};
  CreateNode(MakeNode("tainted", "8", json::object(), taint));
  CreateNode(MakeNode("cordoned", "8", json::object(), {{"unschedulable", true}}));
  CreateNode(MakeNode("wrong-label", "8", json::object(), json::object(), {{"ascend", "off"}}));
  CreateNode(MakeNode("good", "8", json::object(), json::object(), {{"ascend", "on"}}));
  StartScheduler(ConfigYaml(extender_->port()));
  json pod = MakePod("npu", {{"huawei.com/Ascend910B3", "1"}});
  pod["spec"]["nodeSelector"] = {{"ascend", "on"}};
  CreatePod(pod);
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("npu") == "good"; }));
  auto filters = extender_->calls("filter");
  ASSERT_EQ(filters.size(), 1u);
  EXPECT_EQ(filters[0].body["NodeNames"], json({"good"}));
}

TEST_F(KubeSchedulerTest, FullNodeListWhenNotNodeCacheCapable) {
  CreateNode(MakeNode("node-a", "8"));
  CreateNode(MakeNode("node-b", "8"));
  extender_->SetFilter([](const json& args, int*) {
    json keep = json::array();
    for (const auto& n : args["Nodes"]["items"]) {
      if (n["metadata"]["name"] == "node-a") {
        keep.push_back(n);
      }
    }
    return json{{"Nodes", {{"items", keep}}}, {"NodeNames", nullptr}, {"Error", ""}};
  });
  std::string yaml = ConfigYaml(extender_->port());
  yaml.replace(yaml.find("nodeCacheCapable: true"), 22, "nodeCacheCapable: false");
  StartScheduler(yaml);
  CreatePod(MakePod("npu", {{"huawei.com/Ascend910B3", "1"}}));
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("npu") == "node-a"; }));
  auto filters = extender_->calls("filter");
  ASSERT_EQ(filters.size(), 1u);
  EXPECT_TRUE(filters[0].body["NodeNames"].is_null());
  EXPECT_EQ(filters[0].body["Nodes"]["items"].size(), 2u);
}

TEST_F(KubeSchedulerTest, BoundPodsCountAgainstNodeCapacity) {
  CreateNode(MakeNode("node-a", "3"));
  StartScheduler(ConfigYaml(extender_->port()));
  for (const char* name : {"p1", "p2", "p3", "p4"}) {
    CreatePod(MakePod(name, {}, "hami-scheduler", {{"cpu", "1"}}));
  }
  // Three fit; the fourth must not, even though binds happen asynchronously.
  ASSERT_TRUE(WaitUntil([&] {
    int bound = 0;
    int refused = 0;
    for (const char* name : {"p1", "p2", "p3", "p4"}) {
      bound += NodeOf(name) == "node-a";
      refused += kube::StringField(ScheduledCondition(name), "reason") == "Unschedulable";
    }
    return bound == 3 && refused == 1;
  }));
}

}  // namespace
}  // namespace npushare::kube_scheduler_sim
