// The kubelet stand-in's pod side with the real container runtime (container_sim::MakeRuntime,
// kind auto: runc when it can run here, else the mount-namespace runtime), against kube-local:
// in process through NodeAgent, and as the kubelet-sim binary with the contract-C flags.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "integration/kube/subprocess.h"
#include "integration/kube/test_server.h"
#include "kube/api_error.h"
#include "kube/objects.h"
#include "sim/container/container_runtime.h"
#include "sim/kubelet/kubelet_sim.h"
#include "sim/kubelet/node_agent.h"
#include "support/temp_dir.h"

namespace npushare::kubelet_sim {
namespace {

using nlohmann::json;
constexpr auto kWait = std::chrono::seconds(60);

json ShellPod(const std::string& name, const std::string& node, const std::string& script) {
  json pod = kube::testing::MakePod(name, node);
  pod["spec"]["containers"][0]["command"] = {"/bin/sh", "-c", script};
  pod["spec"]["restartPolicy"] = "Never";
  return pod;
}

// WaitForPhase: polls the pod until its phase is `phase` or a terminal other one.
std::string WaitForPhase(kube::KubeClient& client, const std::string& name,
                         const std::string& phase) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = client.Get(kube::kPods, "default", name);
    if (got.ok()) {
      last = (*got)["status"].value("phase", "");
      if (last == phase) {
        return last;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return last;
}

TEST(NodeAgentRuntimeTest, ShellPodSucceedsAndItsLogIsServed) {
  npushare::testing::ScopedTempDir dir("node-agent-rt");
  ASSERT_FALSE(dir.path().empty());
  kube::testing::ServerAndClient env;
  auto kubelet = KubeletSim::Start({.plugin_dir = dir.path() + "/plugins"});
  ASSERT_TRUE(kubelet.ok()) << kubelet.status().ToString();
  std::string why;
  container_sim::RuntimeOptions ro;
  ro.root_dir = dir.path() + "/runtime";
  auto runtime = container_sim::MakeRuntime(ro, &why);
  ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
  if (!why.empty()) {
    std::cerr << "runtime fell back to " << (*runtime)->name() << ": " << why << "\n";
  }
  NodeAgentOptions o;
  o.node_name = "node-rt";
  o.root_dir = dir.path() + "/root";
  NodeAgent agent(env.client(), **kubelet, **runtime, o);
  ASSERT_TRUE(agent.Start().ok());

  ASSERT_TRUE(
      env.client().Create(kube::kPods, "default", ShellPod("hi", "node-rt", "echo hi")).ok());
  EXPECT_EQ(WaitForPhase(env.client(), "hi", "Succeeded"), "Succeeded");
  auto pod = env.client().Get(kube::kPods, "default", "hi");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ((*pod)["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 0);

  httplib::Client http("127.0.0.1", agent.port());
  auto logs = http.Get("/containerLogs/default/hi/main");
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->status, 200);
  EXPECT_NE(logs->body.find("hi"), std::string::npos) << logs->body;

  // A running container is killed on deletion (pid 1 ignores SIGTERM: the grace period ends
  // it with SIGKILL) and the pod object goes away long before kube-local's own 30 s would.
  json sleeper = ShellPod("sleeper", "node-rt", "echo up; exec sleep 300");
  sleeper["spec"]["terminationGracePeriodSeconds"] = 30;
  ASSERT_TRUE(env.client().Create(kube::kPods, "default", sleeper).ok());
  EXPECT_EQ(WaitForPhase(env.client(), "sleeper", "Running"), "Running");
  ASSERT_TRUE(
      env.client().Delete(kube::kPods, "default", "sleeper", kube::DeleteOptions{1, ""}).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    gone = kube::IsNotFound(env.client().Get(kube::kPods, "default", "sleeper").status());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone);
  agent.Stop();
}

TEST(KubeletSimBinaryTest, RegistersNodeRunsPodAndServesLogs) {
  npushare::testing::ScopedTempDir dir("kubelet-sim-bin");
  ASSERT_FALSE(dir.path().empty());
  kube::testing::ServerAndClient env;
  const std::string kubeconfig = dir.path() + "/kubeconfig";
  {
    std::ofstream f(kubeconfig);
    f << "apiVersion: v1\nkind: Config\n"
      << "clusters:\n- name: local\n  cluster:\n    server: " << env.server()->url() << "\n"
      << "users:\n- name: me\n  user: {}\n"
      << "contexts:\n- name: local\n  context:\n    cluster: local\n    user: me\n"
      << "current-context: local\n";
  }
  kube::testing::Subprocess proc;
  ASSERT_TRUE(proc.Spawn({std::string(NPUSHARE_BIN_DIR) + "/kubelet-sim", "--dir",
                          dir.path() + "/plugins", "--node", "node-bin", "--kubeconfig", kubeconfig,
                          "--root-dir", dir.path() + "/root", "--runtime", "auto", "--label",
                          "ascend=on", "--label", "zone=a", "--port", "0"}));
  auto ready = proc.ReadLine(kWait);
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->rfind("READY ", 0), 0u) << *ready;
  // stderr shares the pipe: skip a fallback notice if there is one.
  std::smatch m;
  std::optional<std::string> line;
  const std::regex node_line("NODE node-bin port=([0-9]+) runtime=(runc|namespace)");
  while ((line = proc.ReadLine(kWait)) && !std::regex_match(*line, m, node_line)) {
  }
  ASSERT_TRUE(line.has_value());
  const int port = std::stoi(m[1]);
  auto node = env.client().Get(kube::kNodes, "", "node-bin");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ((*node)["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"], port);
  EXPECT_EQ((*node)["metadata"]["labels"]["zone"], "a");

  ASSERT_TRUE(env.client()
                  .Create(kube::kPods, "default", ShellPod("bye", "node-bin", "echo bye; exit 3"))
                  .ok());
  bool failed_line = false;
  while (!failed_line && (line = proc.ReadLine(kWait))) {
    failed_line = *line == "pod default/bye Failed";
  }
  EXPECT_TRUE(failed_line);
  auto pod = env.client().Get(kube::kPods, "default", "bye");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ((*pod)["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 3);
  httplib::Client http("127.0.0.1", port);
  auto logs = http.Get("/containerLogs/default/bye/main?tailLines=1");
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->body, "bye\n");
  proc.Kill(SIGTERM);
  int status = proc.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace npushare::kubelet_sim
