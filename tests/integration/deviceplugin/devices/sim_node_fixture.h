// Test fixture pieces for the devices integration tests: one npu-sim node per test process
// (libdcmi.so maps the state once per process), kube-local in-process with a Node object,
// and config files in a temp dir.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "deviceplugin/devices/dcmi_library.h"
#include "deviceplugin/devices/node_registrar.h"
#include "integration/kube/test_server.h"
#include "support/temp_dir.h"
#include "unit/deviceplugin/devices/test_configs.h"
#include "unit/sim/run_process.h"

namespace npushare::deviceplugin::devices::testing {

using sim::testing::BinPath;

inline std::string LibDir() {
  return std::string(NPUSHARE_BIN_DIR) + "/../lib";
}

// SimNode: the process-wide npu-sim state, initialised once from a golden node file.
class SimNode {
 public:
  // Get: initialises on first use; later calls must name the same golden file.
  static SimNode& Get(const std::string& golden) {
    static SimNode node(golden);  // removed at exit with its state directory
    return node;
  }
  Dcmi& dcmi() { return *dcmi_; }
  const std::string& dir() const { return dir_.path(); }
  bool ok() const { return ok_; }

  // Tool: runs a build binary (npu-sim, npu-smi) against this node.
  static sim::testing::RunResult Tool(const std::vector<std::string>& argv,
                                      const std::string& input = "") {
    return sim::testing::RunBinary(argv, input);
  }

 private:
  explicit SimNode(const std::string& golden) {
    setenv("NPU_SIM_STATE", dir_.path().c_str(), 1);
    setenv("LD_LIBRARY_PATH", LibDir().c_str(), 1);
    unsetenv("ASCEND_VISIBLE_DEVICES");
    auto r = Tool({BinPath("npu-sim"), "init",
                   std::string(NPUSHARE_SOURCE_DIR) + "/tests/unit/sim/golden/" + golden});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    DcmiLibraryOptions opts;
    opts.path = LibDir() + "/libdcmi.so";
    auto lib = DcmiLibrary::Open(opts);
    EXPECT_TRUE(lib.ok()) << lib.status().ToString();
    if (lib.ok()) {
      dcmi_ = std::move(*lib);
    }
    ok_ = r.exit_code == 0 && dcmi_ != nullptr;
  }
  npushare::testing::ScopedTempDir dir_{"devices-it-sim"};
  std::unique_ptr<DcmiLibrary> dcmi_;
  bool ok_ = false;
};

// ClusterFixture: kube-local with Node `node-a`, and config files.
class ClusterFixture : public ::testing::Test {
 protected:
  static constexpr const char* kNode = "node-a";
  void SetUp() override {
    ASSERT_FALSE(cfg_.path().empty());
    device_config_ = cfg_.path() + "/device-config.yaml";
    node_config_ = cfg_.path() + "/node-config.yaml";
    WriteFile(device_config_, ShippedDeviceConfig());
    nlohmann::json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", kNode}}}};
    auto created = cluster_.client().Create(kube::kNodes, "", node);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  DeviceManagerOptions ManagerOptions() {
    DeviceManagerOptions o;
    o.node_name = kNode;
    o.device_config_path = device_config_;
    o.node_config_path = node_config_;
    o.log = [](const std::string&) {};
    return o;
  }
  NodeRegistrarOptions RegistrarOptions() {
    NodeRegistrarOptions o;
    o.node_name = kNode;
    o.log = [](const std::string&) {};
    return o;
  }
  nlohmann::json NodeAnnotations() {
    auto node = cluster_.client().Get(kube::kNodes, "", kNode);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? node->value("metadata", nlohmann::json::object())
                           .value("annotations", nlohmann::json::object())
                     : nlohmann::json::object();
  }

  npushare::testing::ScopedTempDir cfg_{"devices-it-cfg"};
  std::string device_config_, node_config_;
  kube::testing::ServerAndClient cluster_;
};

}  // namespace npushare::deviceplugin::devices::testing
