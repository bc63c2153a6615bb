// Test environment for SchedulerService against an in-process kube-local: the API server and
// a client, the shipped device config in a temp file, helpers to create nodes/pods, call
// Filter/Bind as kube-scheduler does, and a stand-in for the device plugin's Allocate
// epilogue (bind-phase success + node lock release) so the next pod can bind to that node.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hami/pod_devices.h"
#include "integration/kube/test_server.h"
#include "kube/node_lock_client.h"
#include "scheduler/service/scheduler_service.h"
#include "support/temp_dir.h"
#include "unit/scheduler/service/service_fixtures.h"

namespace npushare::scheduler::testing {

inline bool WaitUntil(const std::function<bool()>& pred,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

class ServiceEnv {
 public:
  ServiceEnv() : tmp_("scheduler-service"), config_(DeployConfig()) {
    config_path_ = tmp_.path() + "/device-config.yaml";
    std::filesystem::copy_file(DeployDeviceConfigPath(), config_path_);
  }

  kube::KubeClient& client() { return env_.client(); }
  const config::DeviceConfig& config() const { return *config_; }
  const std::string& config_path() const { return config_path_; }

  SchedulerServiceOptions Options() const {
    SchedulerServiceOptions o;
    o.device_config_file = config_path_;
    o.sync_timeout = std::chrono::seconds(20);
    o.config_poll_period = std::chrono::milliseconds(100);
    o.log = [](const std::string& l) {
      if (getenv("SCHEDULER_TEST_LOG") != nullptr) {
        std::cerr << "scheduler: " << l << "\n";
      }
    };
    return o;
  }

  std::unique_ptr<SchedulerService> StartService(SchedulerServiceOptions o, bool leader = true,
                                                 kube::Clock& clock = kube::RealClock()) {
    auto svc = SchedulerService::Create(client(), clock, std::move(o));
    EXPECT_TRUE(svc.ok()) << svc.status().ToString();
    if (!svc.ok()) {
      return nullptr;
    }
    Status s = (*svc)->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    (*svc)->SetLeader(leader);
    return std::move(*svc);
  }

  void CreateNode(const NodeSpec& spec) {
    auto r = client().Create(kube::kNodes, "", NodeJson(*config_, spec));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // CreatePod: returns the stored object (with its uid).
  nlohmann::json CreatePod(const std::string& name, const PodRequest& req) {
    auto r = client().Create(kube::kPods, "default", PodJson(*config_, name, req));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : nlohmann::json();
  }

  nlohmann::json GetPod(const std::string& name) {
    auto r = client().Get(kube::kPods, "default", name);
    return r.ok() ? *r : nlohmann::json();
  }

  // FilterArgs as kube-scheduler sends them with nodeCacheCapable: true.
  static nlohmann::json FilterArgsFor(const nlohmann::json& pod,
                                      const std::vector<std::string>& nodes) {
    return {{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", nodes}};
  }

  static nlohmann::json BindArgsFor(const nlohmann::json& pod, const std::string& node) {
    return {{"PodName", pod["metadata"]["name"]},
            {"PodNamespace", pod["metadata"].value("namespace", "default")},
            {"PodUID", pod["metadata"].value("uid", "")},
            {"Node", node}};
  }

  // PluginAllocated: what the device plugin does after Allocate: bind-phase success and the
  // node lock released.
  Status PluginAllocated(const std::string& pod, const std::string& node) {
    kube::NodeLockClient locks(client(), kube::RealClock());
    NPUSHARE_RETURN_IF_ERROR(
        client()
            .Patch(kube::kPods, "default", pod, kube::PatchType::kMerge,
                   {{"metadata", {{"annotations", {{"hami.io/bind-phase", "success"}}}}}})
            .status());
    return locks.Release(node, hami::PodRef{"default", pod});
  }

  npushare::testing::ScopedTempDir& tmp() { return tmp_; }

 private:
  kube::testing::ServerAndClient env_;
  npushare::testing::ScopedTempDir tmp_;
  std::shared_ptr<const config::DeviceConfig> config_;
  std::string config_path_;
};

// ChipUse / UsageFromApi: per device uuid, what the pods stored in the API server hold
// (non-terminated pods carrying hami.io/vgpu-node; app containers add up, init containers
// take their maximum, as usage reconstruction does).
struct ChipUse {
  int slots = 0;
  int64_t mem = 0;
  int cores = 0;
};

inline std::map<std::string, ChipUse> UsageFromApi(kube::KubeClient& client,
                                                   const config::DeviceConfig& config) {
  std::map<std::string, ChipUse> out;
  auto pods = client.ListAll(kube::kPods, "", {});
  EXPECT_TRUE(pods.ok()) << pods.status().ToString();
  if (!pods.ok()) {
    return out;
  }
  for (const auto& p : (*pods)["items"]) {
    const auto& ann = p["metadata"].value("annotations", nlohmann::json::object());
    const std::string phase = p.value("status", nlohmann::json::object()).value("phase", "");
    if (!ann.contains("hami.io/vgpu-node") || phase == "Succeeded" || phase == "Failed") {
      continue;
    }
    const size_t n_init = p["spec"].value("initContainers", nlohmann::json::array()).size();
    for (const auto& chip : config.chips) {
      auto it = ann.find(hami::DevicesAllocatedKey(chip.common_word));
      if (it == ann.end()) {
        continue;
      }
      auto devices = hami::DecodePodDevices(it->get<std::string>());
      EXPECT_TRUE(devices.ok());
      if (!devices.ok()) {
        continue;
      }
      std::map<std::string, ChipUse> init_max, app_sum;
      for (size_t i = 0; i < devices->size(); ++i) {
        for (const auto& d : (*devices)[i]) {
          if (i < n_init) {
            ChipUse& u = init_max[d.uuid];
            u.slots = 1;
            u.mem = std::max<int64_t>(u.mem, d.usedmem);
            u.cores = std::max(u.cores, d.usedcores);
          } else {
            ChipUse& u = app_sum[d.uuid];
            u.slots += 1;
            u.mem += d.usedmem;
            u.cores += d.usedcores;
          }
        }
      }
      std::set<std::string> ids;
      for (const auto& [id, _] : init_max) {
        ids.insert(id);
      }
      for (const auto& [id, _] : app_sum) {
        ids.insert(id);
      }
      for (const auto& id : ids) {
        ChipUse a = init_max[id];
        ChipUse b = app_sum[id];
        out[id].slots += std::max(a.slots, b.slots);
        out[id].mem += std::max(a.mem, b.mem);
        out[id].cores += std::max(a.cores, b.cores);
      }
    }
  }
  return out;
}

}  // namespace npushare::scheduler::testing
