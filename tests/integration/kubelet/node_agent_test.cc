// NodeAgent against kube-local (in process), the real KubeletSim with a device plugin served by
// PluginServer over unix sockets (FakeAllocateBackend answers Allocate), and a scripted
// ContainerRuntime (fake_runtime.h): Node registration and capacity updates, pod phases and
// container statuses, init container order, restart policies with backoff, deletion, admission
// failure, adoption after a restart, and the logs endpoint.
#include "sim/kubelet/node_agent.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "deviceplugin/kubelet/plugin_server.h"
#include "integration/deviceplugin/kubelet/fake_backend.h"
#include "integration/kube/test_server.h"
#include "integration/kubelet/fake_runtime.h"
#include "kube/api_error.h"
#include "kube/objects.h"
#include "mocks/kube/fake_clock.h"
#include "support/temp_dir.h"

namespace npushare::kubelet_sim {
namespace {

using deviceplugin::PluginServer;
using deviceplugin::testing::Devices;
using deviceplugin::testing::FakeAllocateBackend;
using nlohmann::json;
using testing::FakeRuntime;

constexpr const char* kNode = "node-a";
constexpr const char* kResource = "huawei.com/Ascend910B3";
constexpr auto kWait = std::chrono::seconds(20);

class NodeAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto k = KubeletSim::Start({.plugin_dir = dir_.path() + "/plugins"});
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    kubelet_ = std::move(*k);
    plugin_ = std::make_unique<PluginServer>(
        deviceplugin::PluginServerOptions{.plugin_dir = dir_.path() + "/plugins",
                                          .endpoint = "Ascend910B3.sock",
                                          .resource_name = kResource},
        &backend_);
    plugin_->UpdateDevices(Devices("uuid", 4));
    ASSERT_TRUE(plugin_->Start().ok());
    ASSERT_TRUE(plugin_->Register().ok());
    ASSERT_TRUE(kubelet_->WaitForHealthy(kResource, 4, kWait));
  }
  void TearDown() override {
    if (agent_ != nullptr) {
      agent_->Stop();
    }
  }

  NodeAgentOptions Options() {
    NodeAgentOptions o;
    o.node_name = kNode;
    o.root_dir = dir_.path() + "/root";
    o.poll_interval = std::chrono::milliseconds(20);
    o.initial_backoff = std::chrono::milliseconds(100);
    o.max_backoff = std::chrono::milliseconds(400);
    o.max_grace = std::chrono::milliseconds(2000);
    o.heartbeat_interval = std::chrono::milliseconds(60000);
    o.on_phase = [this](const std::string& key, const std::string& phase) {
      phases_.Add(key + " " + phase);
    };
    return o;
  }

  void StartAgent() {
    agent_ = std::make_unique<NodeAgent>(env_.client(), *kubelet_, runtime_, Options(), clock_);
    Status s = agent_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Pod: a pod bound to kNode with one container per (name, command).
  static json Pod(const std::string& name, std::vector<std::string> command,
                  const std::string& restart_policy = "Never") {
    json pod = kube::testing::MakePod(name, kNode);
    pod["spec"]["containers"][0]["command"] = command;
    pod["spec"]["restartPolicy"] = restart_policy;
    return pod;
  }

  json Create(const json& pod) {
    auto created = env_.client().Create(kube::kPods, "default", pod);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : json();
  }

  // WaitForPod: polls the pod until `pred` holds (generous deadline); returns the last object.
  json WaitForPod(const std::string& name, const std::function<bool(const json&)>& pred) {
    auto deadline = std::chrono::steady_clock::now() + kWait;
    json last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = env_.client().Get(kube::kPods, "default", name);
      if (got.ok()) {
        last = *got;
        if (pred(last)) {
          return last;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "pod " << name << " never reached the condition; last: " << last.dump();
    return last;
  }
  json WaitForPhase(const std::string& name, const std::string& phase) {
    return WaitForPod(name, [&](const json& p) {
      return p.contains("status") && p["status"].value("phase", "") == phase;
    });
  }

  static std::string Condition(const json& pod, const std::string& type) {
    const json::json_pointer conditions("/status/conditions");
    if (!pod.contains(conditions)) {
      return "";
    }
    for (const auto& c : pod[conditions]) {
      if (c["type"] == type) {
        return c["status"];
      }
    }
    return "";
  }

  size_t AllocatedDevices() {
    auto st = kubelet_->State();
    return st.resources[kResource].allocated.size();
  }

  npushare::testing::ScopedTempDir dir_{"node-agent"};
  kube::testing::ServerAndClient env_;
  kube::testing::FakeClock clock_;
  kube::testing::Waitable phases_;
  FakeAllocateBackend backend_;
  FakeRuntime runtime_;
  std::unique_ptr<KubeletSim> kubelet_;
  std::unique_ptr<PluginServer> plugin_;
  std::unique_ptr<NodeAgent> agent_;
};

TEST_F(NodeAgentTest, RegistersNodeWithPluginCapacityAndFollowsHealth) {
  StartAgent();
  auto node = env_.client().Get(kube::kNodes, "", kNode);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  json st = (*node)["status"];
  EXPECT_EQ(st["capacity"][kResource], "4");
  EXPECT_EQ(st["allocatable"][kResource], "4");
  EXPECT_EQ(st["capacity"]["pods"], "110");
  EXPECT_TRUE(st["capacity"].contains("cpu"));
  EXPECT_TRUE(st["capacity"].contains("memory"));
  EXPECT_EQ((*node)["metadata"]["labels"]["ascend"], "on");
  EXPECT_EQ((*node)["metadata"]["labels"]["kubernetes.io/hostname"], kNode);
  ASSERT_EQ(st["conditions"].size(), 1u);
  EXPECT_EQ(st["conditions"][0]["type"], "Ready");
  EXPECT_EQ(st["conditions"][0]["status"], "True");
  EXPECT_EQ(st["addresses"][0]["type"], "InternalIP");
  EXPECT_EQ(st["addresses"][0]["address"], "127.0.0.1");
  EXPECT_EQ(st["daemonEndpoints"]["kubeletEndpoint"]["Port"], agent_->port());
  EXPECT_GT(agent_->port(), 0);

  // A ListAndWatch update (one chip unhealthy) reaches allocatable without waiting a heartbeat.
  auto devices = Devices("uuid", 4);
  devices[2].healthy = false;
  plugin_->UpdateDevices(devices);
  auto deadline = std::chrono::steady_clock::now() + kWait;
  std::string allocatable;
  while (std::chrono::steady_clock::now() < deadline && allocatable != "3") {
    auto n = env_.client().Get(kube::kNodes, "", kNode);
    if (n.ok()) {
      allocatable = (*n)["status"]["allocatable"].value(kResource, "");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(allocatable, "3");
  auto n = env_.client().Get(kube::kNodes, "", kNode);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ((*n)["status"]["capacity"][kResource], "4");
}

TEST_F(NodeAgentTest, HeartbeatRewritesStatusWhenThePeriodPasses) {
  StartAgent();
  const uint64_t writes = agent_->Stats().node_status_writes;
  EXPECT_EQ(writes, 1u);                     // registration
  clock_.Advance(std::chrono::seconds(61));  // past heartbeat_interval (60 s) on the agent's clock
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (agent_->Stats().node_status_writes == writes &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(agent_->Stats().node_status_writes, writes + 1);
  auto node = env_.client().Get(kube::kNodes, "", kNode);
  ASSERT_TRUE(node.ok());
  EXPECT_EQ((*node)["status"]["conditions"][0]["lastHeartbeatTime"], "2024-05-01T10:01:01Z");
}

TEST_F(NodeAgentTest, ExistingNodeIsTakenOver) {
  json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", kNode}, {"labels", {{"old", "label"}}}}}};
  ASSERT_TRUE(env_.client().Create(kube::kNodes, "", node).ok());
  StartAgent();
  auto got = env_.client().Get(kube::kNodes, "", kNode);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["metadata"]["labels"]["ascend"], "on");
  EXPECT_EQ((*got)["metadata"]["labels"]["old"], "label");
  EXPECT_EQ((*got)["status"]["capacity"][kResource], "4");
}

TEST_F(NodeAgentTest, PodRunsThenSucceedsWithExitCode) {
  StartAgent();
  Create(Pod("p", {"block"}));
  json running = WaitForPhase("p", "Running");
  EXPECT_EQ(Condition(running, "Ready"), "True");
  EXPECT_EQ(Condition(running, "Initialized"), "True");
  EXPECT_EQ(Condition(running, "PodScheduled"), "True");
  EXPECT_EQ(running["status"]["podIP"], "127.0.0.1");
  EXPECT_TRUE(running["status"]["startTime"].is_string());
  json cs = running["status"]["containerStatuses"][0];
  EXPECT_EQ(cs["name"], "main");
  EXPECT_TRUE(cs["state"]["running"]["startedAt"].is_string());
  EXPECT_EQ(cs["restartCount"], 0);

  ASSERT_EQ(runtime_.started().size(), 1u);
  const auto spec = runtime_.started()[0];
  EXPECT_EQ(spec.args, std::vector<std::string>{"block"});
  EXPECT_NE(
      spec.log_path.find("/pods/" + running["metadata"]["uid"].get<std::string>() + "/main.log"),
      std::string::npos);
  ASSERT_TRUE(runtime_.Finish(spec.id, 0));

  json done = WaitForPhase("p", "Succeeded");
  json term = done["status"]["containerStatuses"][0]["state"]["terminated"];
  EXPECT_EQ(term["exitCode"], 0);
  EXPECT_EQ(term["reason"], "Completed");
  EXPECT_TRUE(term["startedAt"].is_string());
  EXPECT_TRUE(term["finishedAt"].is_string());
  EXPECT_EQ(Condition(done, "Ready"), "False");
  EXPECT_TRUE(phases_.WaitFor([](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), "default/p Succeeded") != v.end();
  }));
}

TEST_F(NodeAgentTest, InitContainersRunInOrderBeforeAppContainers) {
  StartAgent();
  json pod = Pod("init", {"exit", "0"});
  pod["spec"]["initContainers"] = {
      {{"name", "first"}, {"image", "x"}, {"command", {"block"}}},
      {{"name", "second"}, {"image", "x"}, {"command", {"exit", "0"}}}};
  Create(pod);
  json initializing = WaitForPod("init", [](const json& p) {
    return p.contains(json::json_pointer("/status/initContainerStatuses/0/state/running"));
  });
  EXPECT_EQ(initializing["status"]["phase"], "Pending");
  EXPECT_EQ(Condition(initializing, "Initialized"), "False");
  // While the first init container runs, nothing else has started.
  ASSERT_EQ(runtime_.started().size(), 1u);
  ASSERT_TRUE(runtime_.Finish(runtime_.started()[0].id, 0));

  json done = WaitForPhase("init", "Succeeded");
  auto started = runtime_.started();
  ASSERT_EQ(started.size(), 3u);
  EXPECT_EQ(started[0].id.rfind("first-", 0), 0u);
  EXPECT_EQ(started[1].id.rfind("second-", 0), 0u);
  EXPECT_EQ(started[2].id.rfind("main-", 0), 0u);
  json inits = done["status"]["initContainerStatuses"];
  ASSERT_EQ(inits.size(), 2u);
  EXPECT_EQ(inits[0]["state"]["terminated"]["reason"], "Completed");
  EXPECT_EQ(inits[1]["state"]["terminated"]["exitCode"], 0);
  EXPECT_EQ(Condition(done, "Initialized"), "True");
}

TEST_F(NodeAgentTest, FailingInitContainerWithNeverFailsThePod) {
  StartAgent();
  json pod = Pod("badinit", {"exit", "0"});
  pod["spec"]["initContainers"] = {{{"name", "setup"}, {"image", "x"}, {"command", {"exit", "4"}}}};
  Create(pod);
  json failed = WaitForPhase("badinit", "Failed");
  EXPECT_EQ(failed["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"], 4);
  EXPECT_EQ(runtime_.started().size(), 1u);  // the app container never ran
}

TEST_F(NodeAgentTest, OnFailureRestartsWithBackoffAndCountsRestarts) {
  StartAgent();
  Create(Pod("flaky", {"sequence", "1,1,0"}, "OnFailure"));
  json done = WaitForPhase("flaky", "Succeeded");
  json cs = done["status"]["containerStatuses"][0];
  EXPECT_EQ(cs["restartCount"], 2);
  EXPECT_EQ(cs["state"]["terminated"]["exitCode"], 0);
  EXPECT_EQ(cs["lastState"]["terminated"]["exitCode"], 1);
  EXPECT_EQ(cs["lastState"]["terminated"]["reason"], "Error");
  EXPECT_EQ(runtime_.started().size(), 3u);
  // Backoff went through the clock: 100 ms before the first restart, 200 ms before the second.
  std::chrono::nanoseconds slept{0};
  for (auto d : clock_.sleeps()) {
    slept += d;
  }
  EXPECT_GE(slept, std::chrono::milliseconds(300));
  EXPECT_LT(slept, std::chrono::milliseconds(400));
}

TEST_F(NodeAgentTest, AlwaysRestartsEvenAfterSuccess) {
  StartAgent();
  Create(Pod("always", {"exit", "0"}, "Always"));
  json p = WaitForPod("always", [](const json& pod) {
    const json::json_pointer restarts("/status/containerStatuses/0/restartCount");
    return pod.contains(restarts) && pod[restarts].is_number() && pod[restarts] >= 2;
  });
  EXPECT_EQ(p["status"]["phase"], "Running");
}

TEST_F(NodeAgentTest, NeverDoesNotRestartAndFails) {
  StartAgent();
  Create(Pod("once", {"exit", "2"}));
  json failed = WaitForPhase("once", "Failed");
  json cs = failed["status"]["containerStatuses"][0];
  EXPECT_EQ(cs["restartCount"], 0);
  EXPECT_EQ(cs["state"]["terminated"]["exitCode"], 2);
  EXPECT_EQ(cs["state"]["terminated"]["reason"], "Error");
  EXPECT_EQ(runtime_.started().size(), 1u);
}

TEST_F(NodeAgentTest, StartErrorIsATerminatedContainer) {
  StartAgent();
  Create(Pod("nostart", {"fail-start"}));
  json failed = WaitForPhase("nostart", "Failed");
  json term = failed["status"]["containerStatuses"][0]["state"]["terminated"];
  EXPECT_EQ(term["reason"], "StartError");
  EXPECT_EQ(term["exitCode"], 128);
}

TEST_F(NodeAgentTest, BuildsSpecFromAllocateAndPod) {
  deviceplugin::ContainerAllocation a;
  a.envs = {{"ASCEND_VISIBLE_DEVICES", "0,1"}};
  a.mounts = {deviceplugin::MountSpec{"/etc/ld.so.preload", "/opt/preload", true}};
  a.devices = {deviceplugin::DeviceNodeSpec{"/dev/davinci0", "/dev/davinci0", "rw"}};
  backend_.SetAllocation(a);
  StartAgent();
  json pod = Pod("spec", {"block"});
  pod["spec"]["runtimeClassName"] = "ascend";
  pod["spec"]["securityContext"] = {{"runAsUser", 1000}, {"runAsGroup", 1000}};
  json& c = pod["spec"]["containers"][0];
  c["args"] = {"--name=$(MY_NAME)"};
  c["env"] = {
      {{"name", "MY_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
      {{"name", "PLAIN"}, {"value", "v"}}};
  c["resources"] = {{"limits", {{kResource, "2"}}}};
  pod["spec"]["volumes"] = {{{"name", "scratch"}, {"emptyDir", json::object()}}};
  c["volumeMounts"] = {{{"name", "scratch"}, {"mountPath", "/scratch"}}};
  Create(pod);
  WaitForPhase("spec", "Running");
  ASSERT_EQ(runtime_.started().size(), 1u);
  auto spec = runtime_.started()[0];
  EXPECT_EQ(spec.args, (std::vector<std::string>{"block", "--name=spec"}));
  EXPECT_NE(std::find(spec.env.begin(), spec.env.end(), "MY_NAME=spec"), spec.env.end());
  EXPECT_NE(std::find(spec.env.begin(), spec.env.end(), "PLAIN=v"), spec.env.end());
  EXPECT_NE(std::find(spec.env.begin(), spec.env.end(), "ASCEND_VISIBLE_DEVICES=0,1"),
            spec.env.end());
  ASSERT_EQ(spec.mounts.size(), 2u);
  EXPECT_EQ(spec.mounts[0].source, "/opt/preload");
  EXPECT_EQ(spec.mounts[0].destination, "/etc/ld.so.preload");
  EXPECT_TRUE(spec.mounts[0].read_only);
  EXPECT_EQ(spec.mounts[1].destination, "/scratch");
  EXPECT_FALSE(spec.mounts[1].read_only);
  EXPECT_TRUE(std::filesystem::is_directory(spec.mounts[1].source));
  ASSERT_EQ(spec.devices.size(), 1u);
  EXPECT_EQ(spec.devices[0].host_path, "/dev/davinci0");
  EXPECT_TRUE(spec.ascend_runtime);
  EXPECT_EQ(spec.uid, 1000u);
  EXPECT_EQ(spec.gid, 1000u);
  EXPECT_EQ(AllocatedDevices(), 2u);
}

TEST_F(NodeAgentTest, InitContainerDevicesAreReusedByTheAppContainer) {
  StartAgent();
  json pod = Pod("reuse", {"exit", "0"});
  pod["spec"]["containers"][0]["resources"] = {{"limits", {{kResource, "1"}}}};
  pod["spec"]["initContainers"] = {{{"name", "setup"},
                                    {"image", "x"},
                                    {"command", {"exit", "0"}},
                                    {"resources", {{"limits", {{kResource, "1"}}}}}}};
  json created = Create(pod);
  WaitForPhase("reuse", "Succeeded");
  auto calls = backend_.allocate_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].ids, calls[1].ids);  // kubelet reuses the init container's device
  EXPECT_EQ(AllocatedDevices(), 0u);      // a terminal pod holds no devices
}

TEST_F(NodeAgentTest, DeletionKillsWithCappedGraceReleasesAndRemoves) {
  StartAgent();
  json pod = Pod("victim", {"block"}, "Always");
  pod["spec"]["terminationGracePeriodSeconds"] = 30;  // kube-local alone would wait 30 s
  pod["spec"]["containers"][0]["resources"] = {{"limits", {{kResource, "2"}}}};
  json created = Create(pod);
  WaitForPhase("victim", "Running");
  EXPECT_EQ(AllocatedDevices(), 2u);
  auto owners = kubelet_->State().resources[kResource].allocated;
  for (const auto& [id, owner] : owners) {
    EXPECT_EQ(owner, created["metadata"]["uid"].get<std::string>() + "/main");
  }

  ASSERT_TRUE(env_.client().Delete(kube::kPods, "default", "victim").ok());
  auto deadline = std::chrono::steady_clock::now() + kWait;
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    gone = kube::IsNotFound(env_.client().Get(kube::kPods, "default", "victim").status());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone);
  EXPECT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) { return s.resources.at(kResource).allocated.empty(); }, kWait));
  auto kills = runtime_.kills();
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].grace, std::chrono::milliseconds(2000));  // 30 s capped at max_grace
}

TEST_F(NodeAgentTest, ObjectGoneKillsAndReleases) {
  StartAgent();
  json pod = Pod("vanish", {"block"});
  pod["spec"]["containers"][0]["resources"] = {{"limits", {{kResource, "1"}}}};
  Create(pod);
  WaitForPhase("vanish", "Running");
  ASSERT_TRUE(
      env_.client().Delete(kube::kPods, "default", "vanish", kube::DeleteOptions{0, ""}).ok());
  EXPECT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) { return s.resources.at(kResource).allocated.empty(); }, kWait));
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (runtime_.kills().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(runtime_.kills().size(), 1u);
}

TEST_F(NodeAgentTest, AllocateFailureFailsPodWithUnexpectedAdmissionError) {
  backend_.SetError(ResourceExhaustedError("no chip has 64 GiB free"));
  StartAgent();
  json pod = Pod("greedy", {"block"});
  pod["spec"]["containers"][0]["resources"] = {{"limits", {{kResource, "1"}}}};
  Create(pod);
  json failed = WaitForPhase("greedy", "Failed");
  EXPECT_EQ(failed["status"]["reason"], "UnexpectedAdmissionError");
  EXPECT_NE(failed["status"]["message"].get<std::string>().find("no chip has 64 GiB free"),
            std::string::npos);
  EXPECT_TRUE(runtime_.started().empty());
  EXPECT_EQ(AllocatedDevices(), 0u);
  auto events = env_.client().List(kube::kEvents, "default", {});
  ASSERT_TRUE(events.ok());
  bool found = false;
  for (const auto& e : (*events)["items"]) {
    found = found || (e["reason"] == "UnexpectedAdmissionError" &&
                      e["involvedObject"]["name"] == "greedy" && e["type"] == "Warning");
  }
  EXPECT_TRUE(found);
}

TEST_F(NodeAgentTest, TooFewDevicesFailsAdmission) {
  StartAgent();
  json pod = Pod("toomany", {"block"});
  pod["spec"]["containers"][0]["resources"] = {{"limits", {{kResource, "5"}}}};
  Create(pod);
  json failed = WaitForPhase("toomany", "Failed");
  EXPECT_EQ(failed["status"]["reason"], "UnexpectedAdmissionError");
  EXPECT_TRUE(runtime_.started().empty());
}

TEST_F(NodeAgentTest, StopKillsAtOnceReleasesAndLeavesStatusAlone) {
  StartAgent();
  json pod = Pod("left", {"block"}, "Always");
  pod["spec"]["containers"][0]["resources"] = {{"limits", {{kResource, "1"}}}};
  Create(pod);
  WaitForPhase("left", "Running");
  EXPECT_EQ(AllocatedDevices(), 1u);
  agent_->Stop();
  auto kills = runtime_.kills();
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].grace, std::chrono::milliseconds(0));
  EXPECT_EQ(AllocatedDevices(), 0u);
  auto got = env_.client().Get(kube::kPods, "default", "left");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["status"]["phase"], "Running");  // a restarted agent finds and handles it
}

// A pod the API shows Running that this agent never ran (kubelet-sim restarted).
TEST_F(NodeAgentTest, LostRunningPodWithNeverIsFailed) {
  json created = Create(Pod("lost", {"block"}));
  json status = {{"phase", "Running"},
                 {"containerStatuses", {{{"name", "main"}, {"restartCount", 0}}}}};
  ASSERT_TRUE(env_.client()
                  .Patch(kube::kPods, "default", "lost", kube::PatchType::kMerge,
                         {{"status", status}}, {.subresource = "status", .resource_version = ""})
                  .ok());
  StartAgent();
  json failed = WaitForPhase("lost", "Failed");
  json term = failed["status"]["containerStatuses"][0]["state"]["terminated"];
  EXPECT_EQ(term["reason"], "ContainerStatusUnknown");
  EXPECT_EQ(term["exitCode"], 137);
  EXPECT_TRUE(runtime_.started().empty());
}

TEST_F(NodeAgentTest, LostRunningPodWithAlwaysIsRestarted) {
  Create(Pod("back", {"block"}, "Always"));
  json status = {{"phase", "Running"},
                 {"containerStatuses", {{{"name", "main"}, {"restartCount", 3}}}}};
  ASSERT_TRUE(env_.client()
                  .Patch(kube::kPods, "default", "back", kube::PatchType::kMerge,
                         {{"status", status}}, {.subresource = "status", .resource_version = ""})
                  .ok());
  StartAgent();
  json running = WaitForPod("back", [](const json& p) {
    return p.contains("status") && p["status"].value("phase", "") == "Running" &&
           p.contains(json::json_pointer("/status/containerStatuses/0/state/running"));
  });
  json cs = running["status"]["containerStatuses"][0];
  EXPECT_EQ(cs["restartCount"], 4);
  EXPECT_EQ(cs["lastState"]["terminated"]["reason"], "ContainerStatusUnknown");
  EXPECT_TRUE(runtime_.WaitForStarts(1));
}

TEST_F(NodeAgentTest, LogsEndpointServesTailAndFollowAnd404) {
  StartAgent();
  Create(Pod("talk", {"echo", "one", "two", "three"}));
  WaitForPhase("talk", "Succeeded");
  httplib::Client http("127.0.0.1", agent_->port());
  http.set_read_timeout(20, 0);
  auto all = http.Get("/containerLogs/default/talk/main");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->status, 200);
  EXPECT_EQ(all->body, "one\ntwo\nthree\n");
  auto tail = http.Get("/containerLogs/default/talk/main?tailLines=2");
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->body, "two\nthree\n");
  auto bad = http.Get("/containerLogs/default/talk/main?tailLines=x");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto nope = http.Get("/containerLogs/default/talk/other");
  ASSERT_TRUE(nope);
  EXPECT_EQ(nope->status, 404);
  auto nopod = http.Get("/containerLogs/default/ghost/main");
  ASSERT_TRUE(nopod);
  EXPECT_EQ(nopod->status, 404);

  // follow: streams while the container runs, ends when it exits.
  Create(Pod("follow", {"block"}));
  WaitForPhase("follow", "Running");
  kube::testing::Waitable chunks;
  std::string streamed;
  std::mutex streamed_mu;
  bool ended = false;
  std::thread reader([&] {
    httplib::Client c("127.0.0.1", agent_->port());
    c.set_read_timeout(30, 0);
    auto r =
        c.Get("/containerLogs/default/follow/main?follow=true", [&](const char* data, size_t len) {
          {
            std::lock_guard g(streamed_mu);
            streamed.append(data, len);
          }
          chunks.Add(std::string(data, len));
          return true;
        });
    std::lock_guard g(streamed_mu);
    ended = static_cast<bool>(r);
  });
  auto contains = [&](const std::string& text) {
    return chunks.WaitFor([&](const std::vector<std::string>&) {
      std::lock_guard g(streamed_mu);
      return streamed.find(text) != std::string::npos;
    });
  };
  auto spec = runtime_.started().back();
  ASSERT_TRUE(contains("start block\n"));
  // Written after the stream opened: only a follower sees it.
  ASSERT_TRUE(runtime_.AppendLog(spec.id, "later\n"));
  EXPECT_TRUE(contains("later\n"));
  ASSERT_TRUE(runtime_.Finish(spec.id, 0));
  reader.join();  // the stream ends once the container has exited
  EXPECT_TRUE(ended);
  EXPECT_EQ(streamed, "start block\nlater\n");
}

TEST_F(NodeAgentTest, PreviousLogAfterRestart) {
  StartAgent();
  Create(Pod("prev", {"sequence", "1,0"}, "OnFailure"));
  WaitForPhase("prev", "Succeeded");
  httplib::Client http("127.0.0.1", agent_->port());
  auto previous = http.Get("/containerLogs/default/prev/main?previous=true");
  ASSERT_TRUE(previous);
  EXPECT_EQ(previous->status, 200);
  EXPECT_EQ(previous->body, "start sequence 1,0\n");
}

}  // namespace
}  // namespace npushare::kubelet_sim
