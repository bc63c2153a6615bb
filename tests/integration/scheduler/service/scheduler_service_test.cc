// SchedulerService against kube-local: Filter + Bind on hard and soft nodes (310P and 910B),
// reasons and events for pods that fit nowhere, usage rebuilt after a restart, a node lock
// left by a deleted pod taken over, a live lock respected, a follower that does not bind, the
// handshake unregistering a silent plugin, garbled node annotations, config reload.
#include "scheduler/service/scheduler_service.h"

#include <gtest/gtest.h>

#include "integration/scheduler/service/service_env.h"
#include "kube/objects.h"
#include "mocks/kube/fake_clock.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;
using testing::NodeSpec;
using testing::PodRequest;
using testing::ServiceEnv;
using testing::WaitUntil;

const std::vector<std::string> kAllNodes = {"b3-hard", "b3-soft", "p-hard", "p-soft"};

class SchedulerServiceTest : public ::testing::Test {
 protected:
  void CreateMixedNodes() {
    env_.CreateNode({.name = "b3-hard", .cw = "Ascend910B3", .chips = 2});
    env_.CreateNode({.name = "b3-soft", .cw = "Ascend910B3", .chips = 2, .hami_core = true});
    env_.CreateNode({.name = "p-hard", .cw = "Ascend310P", .chips = 2});
    env_.CreateNode({.name = "p-soft", .cw = "Ascend310P", .chips = 2, .hami_core = true});
  }

  // FilterOk: Filter, expecting a body without Error; returns it.
  json Filter(SchedulerService& svc, const json& pod,
              const std::vector<std::string>& nodes = kAllNodes) {
    auto r = svc.Filter(ServiceEnv::FilterArgsFor(pod, nodes));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : json();
  }

  std::string ChosenNode(const json& result) {
    if (!result["NodeNames"].is_array() || result["NodeNames"].size() != 1) {
      ADD_FAILURE() << "expected one node: " << result.dump();
      return "";
    }
    return result["NodeNames"][0];
  }

  // Schedule: create, filter, bind, plugin epilogue; returns the node.
  std::string Schedule(SchedulerService& svc, const std::string& name, const PodRequest& req) {
    json pod = env_.CreatePod(name, req);
    json f = Filter(svc, pod);
    EXPECT_EQ(f["Error"], "") << f.dump();
    const std::string node = ChosenNode(f);
    if (node.empty()) {
      return "";
    }
    auto b = svc.Bind(ServiceEnv::BindArgsFor(pod, node));
    EXPECT_TRUE(b.ok());
    EXPECT_EQ((*b)["Error"], "") << name;
    EXPECT_TRUE(env_.PluginAllocated(name, node).ok());
    return node;
  }

  ServiceEnv env_;
};

TEST_F(SchedulerServiceTest, FiltersAndBindsOnHardAndSoftNodesOf310PAnd910B) {
  CreateMixedNodes();
  auto svc = env_.StartService(env_.Options());
  ASSERT_TRUE(svc);
  ASSERT_TRUE(svc->Ready());

  // 910B3 hard slice 16 GB -> hard node (a legacy pod may use a soft node too, but binpack
  // ties aside, hami-core pods can only go soft).
  json pod = env_.CreatePod("b3-slice", {.cw = "Ascend910B3", .memory_mb = 16384});
  json f = Filter(*svc, pod);
  const std::string node = ChosenNode(f);
  ASSERT_TRUE(node == "b3-hard" || node == "b3-soft") << f.dump();
  // Nodes of the other chip type fail with a reason.
  EXPECT_TRUE(f["FailedNodes"].contains("p-hard")) << f.dump();

  // The leader writes the annotations in the background (Bind waits for them).
  ASSERT_TRUE(WaitUntil([&] {
    return env_.GetPod("b3-slice")["metadata"]
        .value("annotations", json::object())
        .contains("hami.io/Ascend910B3-devices-allocated");
  }));
  json stored = env_.GetPod("b3-slice");
  const json& ann = stored["metadata"]["annotations"];
  EXPECT_EQ(ann["hami.io/vgpu-node"], node);
  EXPECT_EQ(stored["metadata"]["labels"]["hami.io/vgpu-node"], node);
  EXPECT_TRUE(ann.contains("hami.io/vgpu-time"));
  EXPECT_TRUE(ann.contains("predicate-time"));
  EXPECT_EQ(ann["hami.io/Ascend910B3-devices-to-allocate"],
            ann["hami.io/Ascend910B3-devices-allocated"]);
  const std::string alloc = ann["hami.io/Ascend910B3-devices-allocated"];
  EXPECT_NE(alloc.find(",Ascend910B3,16384,"), std::string::npos) << alloc;
  auto runtime = json::parse(ann["huawei.com/Ascend910B3"].get<std::string>());
  EXPECT_EQ(runtime[0]["temp"], "vir05_1c_16g");
  EXPECT_EQ(runtime[0]["memory"], 16384);

  auto b = svc->Bind(ServiceEnv::BindArgsFor(pod, node));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)["Error"], "");
  stored = env_.GetPod("b3-slice");
  EXPECT_EQ(stored["spec"]["nodeName"], node);
  EXPECT_EQ(stored["metadata"]["annotations"]["hami.io/bind-phase"], "allocating");
  EXPECT_TRUE(stored["metadata"]["annotations"].contains("hami.io/bind-time"));
  auto n = env_.client().Get(kube::kNodes, "", node);
  ASSERT_TRUE(n.ok());
  const std::string lock = (*n)["metadata"]["annotations"].value("hami.io/mutex.lock", "");
  EXPECT_NE(lock.find(",default,b3-slice"), std::string::npos) << lock;
  ASSERT_TRUE(env_.PluginAllocated("b3-slice", node).ok());

  // hami-core pods need a hami-vnpu-core node.
  EXPECT_EQ(Schedule(*svc, "b3-core",
                     {.cw = "Ascend910B3", .memory_mb = 8192, .cores = 20, .hami_core = true}),
            "b3-soft");
  EXPECT_EQ(Schedule(*svc, "p-core",
                     {.cw = "Ascend310P", .memory_mb = 4096, .cores = 25, .hami_core = true}),
            "p-soft");
  const std::string p_slice = Schedule(*svc, "p-slice", {.cw = "Ascend310P", .memory_mb = 3072});
  EXPECT_TRUE(p_slice == "p-hard" || p_slice == "p-soft") << p_slice;
  auto core_runtime =
      json::parse(env_.GetPod("b3-core")["metadata"]["annotations"]["huawei.com/Ascend910B3"]
                      .get<std::string>());
  EXPECT_FALSE(core_runtime[0].contains("temp"));
  EXPECT_EQ(core_runtime[0]["core"], 20);

  // A pod asking for no NPU passes every node through, unannotated.
  json plain = env_.client().Create(kube::kPods, "default", testing::PlainPodJson("plain")).value();
  json pf = Filter(*svc, plain);
  EXPECT_EQ(pf["NodeNames"], json(kAllNodes));
  EXPECT_FALSE(env_.GetPod("plain")["metadata"].contains("annotations"));

  const std::string metrics = svc->MetricsText();
  EXPECT_NE(metrics.find("hami_gpu_memory_allocated_bytes{node=\"b3-soft\""), std::string::npos);
  EXPECT_NE(metrics.find("hami_node_gpu_overview{node=\"b3-soft\""), std::string::npos);
  EXPECT_NE(metrics.find("device_memory_limit=\"68719476736\""), std::string::npos);
  EXPECT_NE(metrics.find("hami_build_info{version=\""), std::string::npos);
  EXPECT_NE(metrics.find("npushare_scheduler_filter_duration_seconds_count 5"), std::string::npos);
  EXPECT_NE(metrics.find("npushare_scheduler_bind_total{result=\"success\"} 4"), std::string::npos);
  EXPECT_NE(metrics.find("npushare_scheduler_node_npu_memory_allocated_bytes{node=\"b3-soft\","
                         "device_type=\"Ascend910B3\"} 8589934592"),
            std::string::npos);
}

TEST_F(SchedulerServiceTest, PodThatFitsNowhereGetsReasonsAndAWarningEvent) {
  CreateMixedNodes();
  auto svc = env_.StartService(env_.Options());
  ASSERT_TRUE(svc);
  // Three whole 910B3 cards: every node has two chips.
  json pod = env_.CreatePod("too-big", {.cw = "Ascend910B3", .count = 3});
  json f = Filter(*svc, pod, {"b3-hard", "p-hard", "ghost"});
  EXPECT_EQ(f["Error"], "");
  EXPECT_EQ(f["NodeNames"], json::array());
  EXPECT_EQ(f["FailedNodes"]["b3-hard"], "NodeInsufficientDevice") << f.dump();
  EXPECT_EQ(f["FailedNodes"]["ghost"], "node unregistered");
  EXPECT_TRUE(f["FailedNodes"].contains("p-hard"));
  EXPECT_FALSE(env_.GetPod("too-big")["metadata"].contains("annotations"));

  auto events = env_.client().List(kube::kEvents, "default", {});
  ASSERT_TRUE(events.ok());
  bool found = false;
  for (const auto& e : (*events)["items"]) {
    if (e["involvedObject"]["name"] == "too-big" && e["reason"] == "FilteringFailed") {
      found = true;
      EXPECT_EQ(e["type"], "Warning");
      const std::string msg = e["message"];
      EXPECT_EQ(msg.rfind("0/3 nodes are available: ", 0), 0u) << msg;
      EXPECT_NE(msg.find("NodeInsufficientDevice"), std::string::npos) << msg;
      EXPECT_NE(msg.find("node unregistered"), std::string::npos) << msg;
    }
  }
  EXPECT_TRUE(found);
  // kube-scheduler retries: the same summary again within a minute records no new Event.
  Filter(*svc, pod, {"b3-hard", "p-hard", "ghost"});
  auto again = env_.client().List(kube::kEvents, "default", {});
  ASSERT_TRUE(again.ok());
  int count = 0;
  for (const auto& e : (*again)["items"]) {
    count += e["involvedObject"]["name"] == "too-big" ? 1 : 0;
  }
  EXPECT_EQ(count, 1);

  // Malformed bodies: InvalidArgument (HTTP 400), no crash; a bad pod inside is an Error.
  EXPECT_EQ(svc->Filter(json::array()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(svc->Bind(json{{"PodName", 3}}).status().code(), StatusCode::kInvalidArgument);
  auto bad_pod =
      svc->Filter({{"Pod", {{"metadata", {{"name", "x"}}}, {"spec", {{"containers", 5}}}}},
                   {"NodeNames", kAllNodes}});
  ASSERT_TRUE(bad_pod.ok());
  EXPECT_NE((*bad_pod)["Error"], "");
}

TEST_F(SchedulerServiceTest, AFailedAnnotationWriteFailsTheBindAndFreesTheCapacity) {
  env_.CreateNode({.name = "n1", .chips = 1});
  auto svc = env_.StartService(env_.Options());
  ASSERT_TRUE(svc);
  // A pod the API server does not have: Filter answers (it only reads the body), the
  // background write of its annotations fails with NotFound.
  json ghost = testing::PodJson(env_.config(), "ghost", {.count = 1});
  ghost["metadata"]["namespace"] = "default";
  ASSERT_EQ(ChosenNode(Filter(*svc, ghost, {"n1"})), "n1");
  auto b = svc->Bind(ServiceEnv::BindArgsFor(ghost, "n1"));
  ASSERT_TRUE(b.ok());
  EXPECT_NE((*b)["Error"].get<std::string>().find("filter annotations"), std::string::npos)
      << (*b)["Error"];
  EXPECT_FALSE(env_.client()
                   .Get(kube::kNodes, "", "n1")
                   ->at("metadata")["annotations"]
                   .contains("hami.io/mutex.lock"));
  // The whole card it was given is free again for a real pod.
  json real = env_.CreatePod("real", {.count = 1});
  EXPECT_EQ(ChosenNode(Filter(*svc, real, {"n1"})), "n1");
  EXPECT_NE(svc->MetricsText().find("npushare_scheduler_annotation_write_failures_total 1"),
            std::string::npos);
}

TEST_F(SchedulerServiceTest, APodAskingForNpusIsNotBoundWithoutItsDeviceAllocation) {
  env_.CreateNode({.name = "n1", .chips = 1});
  auto svc = env_.StartService(env_.Options());
  ASSERT_TRUE(svc);
  // Never filtered here (e.g. filtered by another replica whose write has not landed).
  json pod = env_.CreatePod("unfiltered", {.memory_mb = 16384});
  auto b = svc->Bind(ServiceEnv::BindArgsFor(pod, "n1"));
  ASSERT_TRUE(b.ok());
  EXPECT_NE((*b)["Error"].get<std::string>().find("no device allocation"), std::string::npos)
      << (*b)["Error"];
  EXPECT_FALSE(env_.GetPod("unfiltered")["spec"].contains("nodeName"));
  // A pod without NPU requests binds without the lock, as before.
  json plain = env_.client().Create(kube::kPods, "default", testing::PlainPodJson("plain")).value();
  auto pb = svc->Bind(ServiceEnv::BindArgsFor(plain, "n1"));
  ASSERT_TRUE(pb.ok());
  EXPECT_EQ((*pb)["Error"], "");
  EXPECT_EQ(env_.GetPod("plain")["spec"]["nodeName"], "n1");
}

TEST_F(SchedulerServiceTest, RestartRebuildsExactUsageFromPodAnnotations) {
  env_.CreateNode({.name = "b3-hard", .cw = "Ascend910B3", .chips = 1});
  {
    auto svc = env_.StartService(env_.Options());
    ASSERT_TRUE(svc);
    // Fill the chip: four 16 GB slices (one template per 910B chip; 4 slots).
    for (const char* name : {"a", "b", "c", "d"}) {
      EXPECT_EQ(Schedule(*svc, name, {.memory_mb = 16384}), "b3-hard") << name;
    }
    svc->Stop();
  }
  auto svc = env_.StartService(env_.Options());
  ASSERT_TRUE(svc);
  json e = env_.CreatePod("e", {.memory_mb = 16384});
  json f = Filter(*svc, e, {"b3-hard"});
  EXPECT_EQ(f["NodeNames"], json::array()) << f.dump();
  EXPECT_TRUE(f["FailedNodes"].contains("b3-hard")) << f.dump();
  // Freeing one 16 GB slice makes room for exactly one more.
  ASSERT_TRUE(env_.client().Delete(kube::kPods, "default", "a", {0, ""}).ok());
  ASSERT_TRUE(WaitUntil([&] { return Filter(*svc, e, {"b3-hard"})["NodeNames"].size() == 1; }));
  json g = env_.CreatePod("g", {.memory_mb = 16384});
  EXPECT_EQ(Filter(*svc, g, {"b3-hard"})["NodeNames"], json::array());
}

TEST_F(SchedulerServiceTest, LockOfADeletedPodIsTakenOverAndALiveLockIsRespected) {
  env_.CreateNode({.name = "n1", .chips = 2});
  env_.CreateNode({.name = "n2", .chips = 2});
  auto svc = env_.StartService(env_.Options());
  ASSERT_TRUE(svc);
  const std::string now = kube::FormatRfc3339(std::chrono::system_clock::now(), /*micros=*/false);
  ASSERT_TRUE(env_.client()
                  .Patch(kube::kNodes, "", "n1", kube::PatchType::kMerge,
                         {{"metadata",
                           {{"annotations", {{"hami.io/mutex.lock", now + ",default,ghost"}}}}}})
                  .ok());
  json pod = env_.CreatePod("p", {.memory_mb = 16384});
  json f = Filter(*svc, pod, {"n1"});
  ASSERT_EQ(ChosenNode(f), "n1");
  auto b = svc->Bind(ServiceEnv::BindArgsFor(pod, "n1"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)["Error"], "");
  auto n1 = env_.client().Get(kube::kNodes, "", "n1");
  EXPECT_NE(
      (*n1)["metadata"]["annotations"]["hami.io/mutex.lock"].get<std::string>().find(",default,p"),
      std::string::npos);

  // n2 is locked by a live pod (the one just bound): the bind fails, the pod stays unbound and
  // the holder keeps its lock.
  ASSERT_TRUE(
      env_.client()
          .Patch(kube::kNodes, "", "n2", kube::PatchType::kMerge,
                 {{"metadata", {{"annotations", {{"hami.io/mutex.lock", now + ",default,p"}}}}}})
          .ok());
  json q = env_.CreatePod("q", {.memory_mb = 16384});
  ASSERT_EQ(ChosenNode(Filter(*svc, q, {"n2"})), "n2");
  auto bq = svc->Bind(ServiceEnv::BindArgsFor(q, "n2"));
  ASSERT_TRUE(bq.ok());
  EXPECT_NE((*bq)["Error"], "");
  EXPECT_FALSE(env_.GetPod("q")["spec"].contains("nodeName"));
  auto n2 = env_.client().Get(kube::kNodes, "", "n2");
  EXPECT_EQ((*n2)["metadata"]["annotations"]["hami.io/mutex.lock"], now + ",default,p");
  // Binding to a node other than the filtered one is refused.
  auto wrong = svc->Bind(ServiceEnv::BindArgsFor(q, "n1"));
  ASSERT_TRUE(wrong.ok());
  EXPECT_NE((*wrong)["Error"].get<std::string>().find("filtered for node n2"), std::string::npos);
}

TEST_F(SchedulerServiceTest, InitContainerOnlyPodIsBoundUnderTheNodeLock) {
  env_.CreateNode({.name = "n1", .chips = 1});
  auto svc = env_.StartService(env_.Options());
  ASSERT_TRUE(svc);
  json pod = env_.CreatePod("init-only", {.init_container = true});
  ASSERT_EQ(ChosenNode(Filter(*svc, pod, {"n1"})), "n1");
  auto b = svc->Bind(ServiceEnv::BindArgsFor(pod, "n1"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)["Error"], "");
  auto n1 = env_.client().Get(kube::kNodes, "", "n1");
  EXPECT_NE(
      (*n1)["metadata"]["annotations"].value("hami.io/mutex.lock", "").find(",default,init-only"),
      std::string::npos);
}

TEST_F(SchedulerServiceTest, FollowerAnswersFilterButDoesNotBind) {
  env_.CreateNode({.name = "n1", .chips = 2});
  auto svc = env_.StartService(env_.Options(), /*leader=*/false);
  ASSERT_TRUE(svc);
  EXPECT_FALSE(svc->IsLeader());
  json pod = env_.CreatePod("p", {.memory_mb = 16384});
  ASSERT_EQ(ChosenNode(Filter(*svc, pod, {"n1"})), "n1");
  auto b = svc->Bind(ServiceEnv::BindArgsFor(pod, "n1"));
  ASSERT_TRUE(b.ok());
  EXPECT_NE((*b)["Error"].get<std::string>().find("not the leader"), std::string::npos);
  EXPECT_FALSE(env_.GetPod("p")["spec"].contains("nodeName"));
  EXPECT_FALSE(env_.client()
                   .Get(kube::kNodes, "", "n1")
                   ->at("metadata")["annotations"]
                   .contains("hami.io/mutex.lock"));
  svc->SetLeader(true);
  b = svc->Bind(ServiceEnv::BindArgsFor(pod, "n1"));
  EXPECT_EQ((*b)["Error"], "");
  EXPECT_EQ(env_.GetPod("p")["spec"]["nodeName"], "n1");
}

TEST_F(SchedulerServiceTest, HandshakeUnregistersANodeWhosePluginStopsReporting) {
  // n1's plugin goes silent; n2's is silent too but the kubelet still advertises its chips
  // (allocatable > 0), which keeps it registered (upstream's rule).
  env_.CreateNode({.name = "n1", .chips = 1});
  env_.CreateNode({.name = "n2", .chips = 1, .allocatable = std::string("4")});
  kube::testing::FakeClock clock;
  auto svc = env_.StartService(env_.Options(), /*leader=*/true, clock);
  ASSERT_TRUE(svc);
  auto handshake = [&](const std::string& node) {
    auto n = env_.client().Get(kube::kNodes, "", node);
    return n.ok() ? (*n)["metadata"]["annotations"].value("hami.io/node-handshake-Ascend910B3",
                                                          std::string("<absent>"))
                  : std::string("<error>");
  };
  // The leader answers the plugin's Reported_ with Requesting_.
  ASSERT_TRUE(WaitUntil([&] { return handshake("n1").rfind("Requesting_", 0) == 0; }));
  ASSERT_TRUE(WaitUntil([&] { return handshake("n2").rfind("Requesting_", 0) == 0; }));
  json pod = env_.CreatePod("p", {});
  EXPECT_TRUE(Filter(*svc, pod, {"n1"})["FailedNodes"].empty());
  // Time passes with no new report: once the stamp is 60 s old, n1 is unregistered and its
  // handshake removed.
  ASSERT_TRUE(WaitUntil([&] {
    clock.Advance(std::chrono::seconds(5));
    return handshake("n1") == "<absent>";
  }));
  json f = Filter(*svc, pod, {"n1", "n2"});
  EXPECT_EQ(f["FailedNodes"]["n1"], "node unregistered") << f.dump();
  EXPECT_EQ(ChosenNode(f), "n2");
  EXPECT_NE(svc->MetricsText().find("npushare_scheduler_handshake_unregistered_total 1"),
            std::string::npos);
}

TEST_F(SchedulerServiceTest, GarbledNodeAnnotationsAreSkippedNotFatal) {
  env_.CreateNode({.name = "good", .chips = 1});
  json bad = testing::NodeJson(env_.config(), {.name = "bad", .chips = 1});
  bad["metadata"]["annotations"]["hami.io/node-register-Ascend910B3"] = "{{{not json";
  ASSERT_TRUE(env_.client().Create(kube::kNodes, "", bad).ok());
  json weird = testing::NodeJson(env_.config(), {.name = "weird", .chips = 1});
  weird["metadata"]["annotations"]["hami.io/node-register-Ascend910B3"] =
      "[{\"id\":\"x\",\"count\":-5,\"devmem\":\"lots\"}]";
  ASSERT_TRUE(env_.client().Create(kube::kNodes, "", weird).ok());
  auto svc = env_.StartService(env_.Options());
  ASSERT_TRUE(svc);
  json pod = env_.CreatePod("p", {});
  json f = Filter(*svc, pod, {"good", "bad", "weird"});
  EXPECT_EQ(ChosenNode(f), "good");
  EXPECT_EQ(f["FailedNodes"]["bad"], "node unregistered");
  EXPECT_NE(svc->MetricsText().find("npushare_scheduler_garbled_annotations_total 2"),
            std::string::npos);
}

TEST_F(SchedulerServiceTest, BadConfigKeepsTheLastGoodOneAndRecordsAnEvent) {
  CreateMixedNodes();
  auto o = env_.Options();
  o.pod_name = "npushare-scheduler-0";
  o.event_namespace = "default";
  auto svc = env_.StartService(o);
  ASSERT_TRUE(svc);
  const std::shared_ptr<const config::DeviceConfig> first = svc->CurrentDeviceConfig();
  ASSERT_TRUE(first);
  EXPECT_NE(first->FindByCommonWord("Ascend310P"), nullptr);
  { std::ofstream(env_.config_path(), std::ios::trunc) << "vnpus: [this is: not valid\n"; }
  Status s = svc->ReloadConfig();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(svc->CurrentDeviceConfig(), first);  // the webhook keeps reading the good one
  json pod = env_.CreatePod("p310", {.cw = "Ascend310P", .memory_mb = 3072});
  json f = Filter(*svc, pod);
  EXPECT_EQ(f["NodeNames"].size(), 1u) << f.dump();
  auto events = env_.client().List(kube::kEvents, "default", {});
  ASSERT_TRUE(events.ok());
  int found = 0;
  for (const auto& e : (*events)["items"]) {
    if (e["reason"] == "DeviceConfigInvalid") {
      ++found;
      EXPECT_EQ(e["involvedObject"]["name"], "npushare-scheduler-0");
      EXPECT_EQ(e["involvedObject"]["kind"], "Pod");
    }
  }
  EXPECT_EQ(found, 1);

  // A good config without 310P, picked up by the file watcher: 310P pods no longer ask for a
  // configured chip, so they pass through (as upstream treats unknown resources).
  std::ifstream in(testing::DeployDeviceConfigPath());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t from = text.find("      - chipName: 310P3");
  const size_t to = text.find("      - chipName: Ascend910");
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  text.erase(from, to - from);
  { std::ofstream(env_.config_path(), std::ios::trunc) << text; }
  json pod2 = env_.CreatePod("p310-b", {.cw = "Ascend310P", .memory_mb = 3072});
  ASSERT_TRUE(WaitUntil([&] { return Filter(*svc, pod2)["NodeNames"].size() == 4; }));
  EXPECT_EQ(svc->CurrentDeviceConfig()->FindByCommonWord("Ascend310P"), nullptr);
  EXPECT_NE(
      svc->MetricsText().find("npushare_scheduler_config_reloads_total{result=\"success\"} 1"),
      std::string::npos);
}

}  // namespace
}  // namespace npushare::scheduler
