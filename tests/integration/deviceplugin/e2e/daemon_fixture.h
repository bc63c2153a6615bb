// File: integration/deviceplugin/e2e/daemon_fixture.h
//
// Test fixture: npushare-device-plugin as a process over the real wires: npu-sim (libdcmi.so,
// npu-smi) for the chips, kube-local (in process, real HTTP) for the API server, and the
// kubelet stand-in (device-plugin gRPC over unix sockets). Everything lives in one
// ScopedTempDir per test. Shared by kubelet/device_plugin_daemon_test.cc and the e2e tests.
//
// Usage:
//   class MyTest : public e2e::DaemonFixture {
//    protected:
//     e2e::DaemonNode Node() const override { return {.golden = "node_310p3.yaml"}; }
//   };
//   TEST_F(MyTest, X) { StartDaemon(); kubelet_->WaitForHealthy(...); ... }
//
// Thread safety: test-thread only.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "integration/kube/test_server.h"
#include "sim/kubelet/kubelet_sim.h"
#include "support/temp_dir.h"
#include "unit/deviceplugin/devices/test_configs.h"
#include "unit/sim/run_process.h"

extern char** environ;

namespace npushare::deviceplugin::e2e {

inline constexpr auto kWait = std::chrono::seconds(30);
inline constexpr const char* kNode = "node-a";

// Eventually: polls `condition` every 10 ms until it holds (true) or kWait passes (false).
template <typename F>
bool Eventually(F condition) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    usleep(10000);
  }
  return true;
}

// FaultSwitch: the kube-local fault hook (LocalApiServerOptions::fault_hook) a test can arm
// and disarm while the server runs. Thread-safe: the server's threads call Check.
class FaultSwitch {
 public:
  using Hook = std::function<std::optional<kube_local::InjectedResponse>(
      const std::string& method, const std::string& target)>;
  void Set(Hook hook) {
    std::lock_guard<std::mutex> lock(mu_);
    hook_ = std::move(hook);
  }
  std::optional<kube_local::InjectedResponse> Check(const std::string& method,
                                                    const std::string& target) {
    std::lock_guard<std::mutex> lock(mu_);
    return hook_ ? hook_(method, target) : std::nullopt;
  }

 private:
  std::mutex mu_;
  Hook hook_;
};

// DaemonNode: what the node under test is.
struct DaemonNode {
  std::string golden = "node_910b3.yaml";  // tests/unit/sim/golden/ npu-sim node file
  bool soft = false;                       // device config hamiVnpuCore: true
};

class DaemonFixture : public ::testing::Test {
 protected:
  virtual DaemonNode Node() const { return {}; }

  void SetUp() override {
    ASSERT_FALSE(root_.path().empty());
    sim_state_ = root_.path() + "/npu-sim";
    plugin_dir_ = root_.path() + "/device-plugins";
    std::filesystem::create_directories(plugin_dir_);
    const DaemonNode node = Node();
    auto init = Run({sim::testing::BinPath("npu-sim"), "init",
                     std::string(NPUSHARE_SOURCE_DIR) + "/tests/unit/sim/golden/" + node.golden});
    ASSERT_EQ(init.exit_code, 0) << init.out;

    auto k = kubelet_sim::KubeletSim::Start({.plugin_dir = plugin_dir_});
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    kubelet_ = std::move(*k);

    nlohmann::json node_obj = {
        {"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", kNode}}}};
    ASSERT_TRUE(cluster_.client().Create(kube::kNodes, "", node_obj).ok());
    kubeconfig_ = root_.path() + "/kubeconfig";
    std::ofstream(kubeconfig_) << "apiVersion: v1\nkind: Config\n"
                               << "clusters:\n- name: local\n  cluster:\n    server: "
                               << cluster_.server()->url() << "\n"
                               << "contexts:\n- name: local\n  context: {cluster: local, "
                                  "user: me, namespace: default}\n"
                               << "users:\n- name: me\n  user: {}\n"
                               << "current-context: local\n";
    device_config_ = root_.path() + "/device-config.yaml";
    devices::testing::WriteFile(device_config_, devices::testing::ShippedDeviceConfig(node.soft));
    for (const char* d : {"shares", "quota", "arbiter", "tenants"}) {
      std::filesystem::create_directories(root_.path() + "/" + d);
    }
  }

  void TearDown() override {
    if (daemon_.pid > 0) {
      kill(daemon_.pid, SIGKILL);
      sim::testing::Wait(daemon_.pid);
      close(daemon_.out_fd);
      daemon_.pid = -1;
    }
  }

  std::vector<std::string> Env() const {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      if (kv.rfind("NPU_SIM_STATE=", 0) != 0 && kv.rfind("LD_LIBRARY_PATH=", 0) != 0 &&
          kv.rfind("NODE_NAME=", 0) != 0 && kv.rfind("KUBECONFIG=", 0) != 0) {
        env.push_back(kv);
      }
    }
    env.push_back("NPU_SIM_STATE=" + sim_state_);
    env.push_back(std::string("LD_LIBRARY_PATH=") + NPUSHARE_BIN_DIR + "/../lib");
    env.push_back(std::string("NODE_NAME=") + kNode);  // the DaemonSet's fieldRef
    return env;
  }

  sim::testing::RunResult Run(const std::vector<std::string>& argv) const {
    sim::testing::Child c = sim::testing::Spawn(argv, {.env = Env(), .pre_exec = {}});
    close(c.in_fd);
    std::string out = sim::testing::ReadAll(c.out_fd);
    close(c.out_fd);
    return {sim::testing::Wait(c.pid), out};
  }

  // StartDaemon: spawns the plugin (with extra_args_ appended) and waits for its READY line;
  // returns the metrics port.
  int StartDaemon() {
    std::vector<std::string> argv = {sim::testing::BinPath("npushare-device-plugin"),
                                     "--config_file",
                                     device_config_,
                                     "--device-plugin-path",
                                     plugin_dir_ + "/",
                                     "--kubeconfig",
                                     kubeconfig_,
                                     "--metrics-bind-address",
                                     "127.0.0.1:0",
                                     "--device-poll-interval-ms",
                                     "100",
                                     "--npu-smi",
                                     sim::testing::BinPath("npu-smi"),
                                     "--shares-dir",
                                     root_.path() + "/shares",
                                     "--quota-root",
                                     root_.path() + "/quota",
                                     "--grant-dir",
                                     root_.path() + "/arbiter",
                                     "--tenants-dir",
                                     root_.path() + "/tenants",
                                     "--check_idle_vnpu_interval",
                                     "60",
                                     "--report_time_offset",
                                     "1",
                                     "--hw_loglevel",
                                     "0",
                                     "--v=4"};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    daemon_ = sim::testing::Spawn(argv, {.env = Env(), .pre_exec = {}});
    EXPECT_GT(daemon_.pid, 0);
    close(daemon_.in_fd);
    const std::string ready = sim::testing::ReadLine(daemon_.out_fd);
    EXPECT_EQ(ready.rfind("READY metrics_port=", 0), 0u) << ready;
    return ready.rfind("READY metrics_port=", 0) == 0 ? std::stoi(ready.substr(19)) : 0;
  }

  // StopDaemon: SIGTERM; returns the exit status.
  int StopDaemon() {
    kill(daemon_.pid, SIGTERM);
    int status = sim::testing::Wait(daemon_.pid);
    close(daemon_.out_fd);
    daemon_.pid = -1;
    return status;
  }

  // DaemonAlive: the daemon has not exited (no crash).
  bool DaemonAlive() const {
    int status = 0;
    return daemon_.pid > 0 && waitpid(daemon_.pid, &status, WNOHANG) == 0;
  }

  std::map<std::string, std::string> NodeAnnotations() {
    auto node = cluster_.client().Get(kube::kNodes, "", kNode);
    std::map<std::string, std::string> out;
    if (node.ok()) {
      const nlohmann::json annotations = node->value("metadata", nlohmann::json::object())
                                             .value("annotations", nlohmann::json::object());
      for (const auto& [k, v] : annotations.items()) {
        out[k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
    }
    return out;
  }

  static kube_local::LocalApiServerOptions ServerOptions(std::shared_ptr<FaultSwitch> faults) {
    kube_local::LocalApiServerOptions o;
    o.fault_hook = [faults](const std::string& method, const std::string& target) {
      return faults->Check(method, target);
    };
    return o;
  }

  npushare::testing::ScopedTempDir root_{"dp-daemon"};
  std::string sim_state_, plugin_dir_, kubeconfig_, device_config_;
  std::vector<std::string> extra_args_;  // appended to the daemon's command line
  std::unique_ptr<kubelet_sim::KubeletSim> kubelet_;
  std::shared_ptr<FaultSwitch> faults_ = std::make_shared<FaultSwitch>();  // before cluster_
  kube::testing::ServerAndClient cluster_{ServerOptions(faults_)};
  sim::testing::Child daemon_;
};

}  // namespace npushare::deviceplugin::e2e
