// Stress: many concurrent Filter + Bind calls (as kube-scheduler with a retrying queue would
// make them) for many pods over few chips, with a stand-in device plugin releasing node locks
// and some pods deleted midway. Afterwards the final state is read back from the API server
// and checked: per chip, allocations <= count, memory <= devmem, cores <= devcore (100 on
// hami-core nodes); every bound pod is bound to the node its annotations name.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "integration/scheduler/service/service_env.h"
#include "kube/objects.h"
#include "scheduler/service/scheduler_service.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;
using testing::PodRequest;
using testing::ServiceEnv;

TEST(SchedulerServiceStressTest, ConcurrentFilterAndBindNeverOvercommitAChip) {
  ServiceEnv env;
  // Few chips: 2 hard + 1 soft 310P nodes (2 chips x 7 slots) and 1 hard + 1 soft 910B3 node
  // (2 chips x 4 slots).
  env.CreateNode({.name = "p0", .cw = "Ascend310P", .chips = 2});
  env.CreateNode({.name = "p1", .cw = "Ascend310P", .chips = 2});
  env.CreateNode({.name = "ps", .cw = "Ascend310P", .chips = 2, .hami_core = true});
  env.CreateNode({.name = "b0", .cw = "Ascend910B3", .chips = 2});
  env.CreateNode({.name = "bs", .cw = "Ascend910B3", .chips = 2, .hami_core = true});
  const std::vector<std::string> nodes = {"p0", "p1", "ps", "b0", "bs"};
  auto svc = env.StartService(env.Options());
  ASSERT_TRUE(svc);

  // Demand far above capacity, in a mix of slices, whole cards and hami-core shares.
  const std::vector<PodRequest> kinds = {
      {.cw = "Ascend310P", .memory_mb = 3072},
      {.cw = "Ascend310P", .memory_mb = 6144},
      {.cw = "Ascend310P", .memory_mb = 2048, .cores = 30, .hami_core = true},
      {.cw = "Ascend910B3", .memory_mb = 16384},
      {.cw = "Ascend910B3", .memory_mb = 32768},
      {.cw = "Ascend910B3", .count = 1},
      {.cw = "Ascend910B3", .memory_mb = 8192, .cores = 40, .hami_core = true},
      {.cw = "Ascend910B3", .count = 2, .memory_mb = 16384},
  };
  constexpr int kThreads = 8;
  constexpr int kPodsPerThread = 25;

  std::atomic<bool> done{false};
  // Stand-in device plugin: for every bound pod in bind-phase allocating, mark it success and
  // release the node lock, so other pods can bind to that node.
  std::thread plugin([&] {
    while (!done.load()) {
      auto pods = env.client().ListAll(kube::kPods, "default", {});
      if (pods.ok()) {
        for (const auto& p : (*pods)["items"]) {
          const auto& ann = p["metadata"].value("annotations", json::object());
          if (ann.value("hami.io/bind-phase", "") == "allocating" &&
              p["spec"].contains("nodeName")) {
            env.PluginAllocated(p["metadata"]["name"], p["spec"]["nodeName"]).IgnoreError();
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  std::atomic<int> bound{0}, unschedulable{0}, bind_errors{0}, deleted{0};
  std::mutex errors_mu;
  std::vector<std::string> errors;  // the first bind errors, for the log
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      for (int i = 0; i < kPodsPerThread; ++i) {
        const std::string name = "s-" + std::to_string(t) + "-" + std::to_string(i);
        json pod = env.CreatePod(name, kinds[rng() % kinds.size()]);
        // kube-scheduler's queue: retry an unbound pod (lock contention) with backoff.
        for (int attempt = 0; attempt < 30; ++attempt) {
          auto f = svc->Filter(ServiceEnv::FilterArgsFor(pod, nodes));
          if (!f.ok() || (*f)["Error"] != "" || (*f)["NodeNames"].size() != 1) {
            unschedulable.fetch_add(1);
            break;
          }
          auto b = svc->Bind(ServiceEnv::BindArgsFor(pod, (*f)["NodeNames"][0]));
          if (b.ok() && (*b)["Error"] == "") {
            bound.fetch_add(1);
            break;
          }
          if (bind_errors.fetch_add(1) < 5) {  // lock contention: the pod goes back to the queue
            std::lock_guard<std::mutex> lock(errors_mu);
            errors.push_back(b.ok() ? (*b)["Error"].get<std::string>() : b.status().ToString());
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 40));
        }
        // Churn: some pods finish, freeing their devices for later ones.
        if (rng() % 7 == 0) {
          if (env.client().Delete(kube::kPods, "default", name, {0, ""}).ok()) {
            deleted.fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  done.store(true);
  plugin.join();

  EXPECT_GT(bound.load(), 10);
  EXPECT_GT(unschedulable.load(), 0);  // demand exceeds capacity
  std::cout << "bound " << bound << ", unschedulable " << unschedulable << ", bind retries "
            << bind_errors << ", deleted " << deleted << "\n";
  for (const auto& e : errors) {
    std::cout << "  bind error: " << e << "\n";
  }

  // Capacity per chip from the registrations stored in the API server.
  struct Capacity {
    int count = 0;
    int64_t mem = 0;
    int cores = 0;
  };
  std::map<std::string, Capacity> capacity;
  auto node_list = env.client().ListAll(kube::kNodes, "", {});
  ASSERT_TRUE(node_list.ok());
  for (const auto& n : (*node_list)["items"]) {
    const auto& ann = n["metadata"]["annotations"];
    const bool hami_core = ann.value("hami-vnpu-core", "") == "true";
    for (const auto& chip : env.config().chips) {
      auto it = ann.find(hami::NodeRegisterKey(chip.common_word));
      if (it == ann.end()) {
        continue;
      }
      auto devices = hami::DecodeNodeRegister(it->get<std::string>(), chip.common_word);
      ASSERT_TRUE(devices.ok());
      for (const auto& d : *devices) {
        capacity[d.id] = {d.count, d.devmem, hami_core ? 100 : d.devcore};
      }
    }
  }
  const auto usage = testing::UsageFromApi(env.client(), env.config());
  ASSERT_FALSE(usage.empty());
  for (const auto& [uuid, use] : usage) {
    ASSERT_TRUE(capacity.count(uuid)) << uuid;
    const Capacity& c = capacity[uuid];
    EXPECT_LE(use.slots, c.count) << uuid;
    EXPECT_LE(use.mem, c.mem) << uuid;
    EXPECT_LE(use.cores, c.cores) << uuid;
    EXPECT_LE(use.cores, 100) << uuid;
  }
  auto pods = env.client().ListAll(kube::kPods, "default", {});
  ASSERT_TRUE(pods.ok());
  int bound_in_api = 0;
  for (const auto& p : (*pods)["items"]) {
    if (p["spec"].contains("nodeName")) {
      ++bound_in_api;
      EXPECT_EQ(p["spec"]["nodeName"], p["metadata"]["annotations"]["hami.io/vgpu-node"]);
    }
  }
  EXPECT_GT(bound_in_api, 0);
}

}  // namespace
}  // namespace npushare::scheduler
