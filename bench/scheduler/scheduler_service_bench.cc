// scheduler_service_bench: SchedulerService against an in-process kube-local with
// 1,000 nodes x 8 chips and a realistic usage mix (goals: filter p99 < 5 ms through HTTP -
// this measures the service call, the HTTP layer adds its own; >= 200 pods/s bound end to end).
//
// Cluster: 40 % 910B3 hard-slice nodes, 20 % 910B3 hami-core nodes, 25 % 310P hard, 15 % 310P
// hami-core. Before the service starts, `--existing` pods already hold devices (placed through
// a ClusterCache, stored with their allocation annotations and bound), so the service rebuilds
// that usage from its pod informer. Then:
//   1. filter latency: `--filter-pods` pods, one Filter each with every node name (as
//      kube-scheduler does with nodeCacheCapable), one at a time; p50/p99/max reported;
//   2. throughput: `--bind-pods` pods filtered and bound by `--workers` threads (a pod whose
//      bind meets a node lock is retried, as kube-scheduler requeues it), while a stand-in
//      device plugin releases each node lock as soon as the pod is bound. Reported: pods bound
//      per second over the wall time of filter+bind (pods created beforehand, untimed).
// Usage:
//   scheduler_service_bench [--nodes N] [--existing N] [--filter-pods N] [--bind-pods N]
//                           [--workers N] [--node-policy binpack|spread]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "kube/http_transport_impl.h"
#include "kube/informer.h"
#include "kube/kube_client.h"
#include "kube/node_lock_client.h"
#include "kube/objects.h"
#include "scheduler/service/cluster_cache.h"
#include "scheduler/service/scheduler_service.h"
#include "scheduling/pod_json.h"
#include "sim/kube/api_server.h"
#include "support/temp_dir.h"
#include "unit/scheduler/service/service_fixtures.h"

namespace {

using nlohmann::json;
using npushare::scheduler::testing::NodeJson;
using npushare::scheduler::testing::NodeSpec;
using npushare::scheduler::testing::PodJson;
using npushare::scheduler::testing::PodRequest;
using Clock = std::chrono::steady_clock;

NodeSpec NodeFor(int i) {
  NodeSpec s;
  s.name = "node-" + std::to_string(i);
  s.chips = 8;
  const int k = i % 20;  // 8 hard 910B3, 4 soft 910B3, 5 hard 310P, 3 soft 310P
  s.cw = k < 12 ? "Ascend910B3" : "Ascend310P";
  s.hami_core = (k >= 8 && k < 12) || k >= 17;
  return s;
}

// A realistic request mix: mostly slices, some whole cards, hami-core shares.
PodRequest RequestFor(std::mt19937& rng) {
  switch (rng() % 10) {
    case 0:
      return {.cw = "Ascend910B3", .count = 1};
    case 1:
    case 2:
      return {.cw = "Ascend910B3", .memory_mb = 16384};
    case 3:
      return {.cw = "Ascend910B3", .memory_mb = 32768};
    case 4:
      return {.cw = "Ascend910B3", .memory_mb = 8192, .cores = 25, .hami_core = true};
    case 5:
    case 6:
      return {.cw = "Ascend310P", .memory_mb = 3072};
    case 7:
      return {.cw = "Ascend310P", .memory_mb = 6144};
    case 8:
      return {.cw = "Ascend310P", .memory_mb = 4096, .cores = 30, .hami_core = true};
    default:
      return {.cw = "Ascend910B3", .count = 2};
  }
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  int nodes = 1000;
  int existing = 8000;
  int filter_pods = 500;
  int bind_pods = 1000;
  int workers = 4;
  std::string node_policy = "binpack";
  CLI::App app{"SchedulerService benchmark against in-process kube-local"};
  app.add_option("--nodes", nodes);
  app.add_option("--existing", existing, "pods already holding devices");
  app.add_option("--filter-pods", filter_pods);
  app.add_option("--bind-pods", bind_pods);
  app.add_option("--workers", workers);
  app.add_option("--node-policy", node_policy);
  CLI11_PARSE(app, argc, argv);

  namespace kube = npushare::kube;
  auto config = npushare::scheduler::testing::DeployConfig();
  auto store = std::make_shared<npushare::kube_local::ObjectStore>();
  npushare::kube_local::LocalApiServerOptions server_opts;
  server_opts.admission_webhooks = false;
  npushare::kube_local::LocalApiServer server(server_opts, store);
  auto port = server.Start("127.0.0.1", 0);
  if (!port.ok()) {
    std::cerr << port.status().ToString() << "\n";
    return 1;
  }
  kube::RestConfig rc;
  rc.server = server.url();
  kube::CurlTransport transport(rc);
  kube::ClientOptions co;
  co.qps = 0;  // the benchmark measures the service, not a client-side rate limit
  co.initial_backoff = std::chrono::milliseconds(10);
  kube::KubeClient client(transport, co);

  // ---- cluster
  auto t0 = Clock::now();
  std::vector<std::string> names;
  npushare::scheduler::ClusterCache planner(config, {}, nullptr);
  for (int i = 0; i < nodes; ++i) {
    json n = NodeJson(*config, NodeFor(i));
    if (!client.Create(kube::kNodes, "", n).ok()) {
      std::cerr << "create node failed\n";
      return 1;
    }
    planner.UpsertNode(n, 0);
    names.push_back(n["metadata"]["name"]);
  }
  std::mt19937 rng(42);
  npushare::scheduling::FilterOptions fo;
  int placed = 0;
  for (int i = 0; i < existing; ++i) {
    json pod = PodJson(*config, "old-" + std::to_string(i), RequestFor(rng));
    auto spec = npushare::scheduling::PodSpecFromJson(pod);
    // Spread the existing load over random nodes (a cluster that has lived a while).
    std::vector<std::string> some;
    for (int k = 0; k < 8; ++k) {
      some.push_back(names[rng() % names.size()]);
    }
    auto d = planner.ChooseAndAssume(*spec, some, fo, {}, 1714557600);
    if (!d.outcome.chosen) {
      continue;
    }
    for (const auto& [k, v] : d.annotations) {
      pod["metadata"]["annotations"][k] = v;
    }
    pod["spec"]["nodeName"] = d.outcome.nodes[*d.outcome.chosen].node;
    pod["status"] = {{"phase", "Running"}};
    if (!client.Create(kube::kPods, "default", pod).ok()) {
      std::cerr << "create pod failed\n";
      return 1;
    }
    ++placed;
  }
  int64_t slots = 0, used = 0;
  for (const auto& d : planner.Devices()) {
    slots += d.count;
    used += d.used;
  }
  std::printf(
      "cluster: %d nodes x 8 chips, %d running pods hold %lld/%lld slots (%.0f%%), "
      "built in %.1f s\n",
      nodes, placed, static_cast<long long>(used), static_cast<long long>(slots),
      100.0 * static_cast<double>(used) / static_cast<double>(std::max<int64_t>(1, slots)),
      std::chrono::duration<double>(Clock::now() - t0).count());

  // ---- service
  npushare::testing::ScopedTempDir tmp("scheduler-bench");
  const std::string config_path = tmp.path() + "/device-config.yaml";
  std::filesystem::copy_file(npushare::scheduler::testing::DeployDeviceConfigPath(), config_path);
  npushare::scheduler::SchedulerServiceOptions so;
  so.device_config_file = config_path;
  so.node_policy = node_policy;
  so.log = [](const std::string&) {};
  auto svc = npushare::scheduler::SchedulerService::Create(client, kube::RealClock(), so);
  if (!svc.ok()) {
    std::cerr << svc.status().ToString() << "\n";
    return 1;
  }
  t0 = Clock::now();
  if (auto s = (*svc)->Start(); !s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  (*svc)->SetLeader(true);
  std::printf("service synced in %.2f s\n",
              std::chrono::duration<double>(Clock::now() - t0).count());

  // ---- 1. filter latency
  std::vector<json> pods;
  for (int i = 0; i < filter_pods; ++i) {
    auto r = client.Create(kube::kPods, "default",
                           PodJson(*config, "f-" + std::to_string(i), RequestFor(rng)));
    pods.push_back(r.ok() ? *r : json());
  }
  std::vector<double> ms;
  int fitted = 0;
  for (const auto& pod : pods) {
    json args = {{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", names}};
    const auto s = Clock::now();
    auto r = (*svc)->Filter(args);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    fitted += r.ok() && (*r)["NodeNames"].size() == 1 ? 1 : 0;
  }
  std::printf(
      "filter (service call, %zu node names, %d/%d fitted): p50 %.2f ms, p99 %.2f ms, "
      "max %.2f ms\n",
      names.size(), fitted, filter_pods, Percentile(ms, 0.5), Percentile(ms, 0.99),
      Percentile(ms, 1.0));

  // ---- 2. throughput: filter + bind with a stand-in plugin releasing node locks
  std::vector<json> bind_set;
  for (int i = 0; i < bind_pods; ++i) {
    auto r = client.Create(kube::kPods, "default",
                           PodJson(*config, "b-" + std::to_string(i), RequestFor(rng)));
    bind_set.push_back(r.ok() ? *r : json());
  }
  kube::NodeLockClient plugin_locks(client, kube::RealClock());
  kube::InformerOptions po;
  po.compact = false;
  kube::Informer plugin(client, kube::kPods, po);
  kube::InformerHandlers ph;
  ph.on_update = [&](const json&, const json& p) {
    const json& ann = kube::Field(p["metadata"], "annotations");
    if (kube::StringField(ann, "hami.io/bind-phase") == "allocating" &&
        p["spec"].contains("nodeName")) {
      const std::string name = p["metadata"]["name"];
      client
          .Patch(kube::kPods, "default", name, kube::PatchType::kMerge,
                 {{"metadata", {{"annotations", {{"hami.io/bind-phase", "success"}}}}}})
          .status()
          .IgnoreError();
      plugin_locks.Release(p["spec"]["nodeName"].get<std::string>(), {"default", name})
          .IgnoreError();
    }
  };
  plugin.AddHandlers(ph);
  plugin.Start();
  plugin.WaitForSync(std::chrono::seconds(60));

  std::atomic<size_t> next{0};
  std::atomic<int> bound{0}, unschedulable{0}, retries{0};
  std::mutex lat_mu;
  std::vector<double> bind_ms;
  t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (size_t i = next.fetch_add(1); i < bind_set.size(); i = next.fetch_add(1)) {
        const json& pod = bind_set[i];
        for (int attempt = 0; attempt < 50; ++attempt) {
          json args = {{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", names}};
          auto f = (*svc)->Filter(args);
          if (!f.ok() || (*f)["NodeNames"].size() != 1) {
            unschedulable.fetch_add(1);
            break;
          }
          json bargs = {{"PodName", pod["metadata"]["name"]},
                        {"PodNamespace", "default"},
                        {"PodUID", pod["metadata"]["uid"]},
                        {"Node", (*f)["NodeNames"][0]}};
          const auto s = Clock::now();
          auto b = (*svc)->Bind(bargs);
          const double d = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
          if (b.ok() && (*b)["Error"] == "") {
            bound.fetch_add(1);
            std::lock_guard<std::mutex> lock(lat_mu);
            bind_ms.push_back(d);
            break;
          }
          retries.fetch_add(1);
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  plugin.Stop();
  std::printf(
      "filter+bind (%d workers, node policy %s): %d bound, %d unschedulable, %d bind "
      "retries in %.2f s = %.0f pods/s bound; bind p50 %.2f ms, p99 %.2f ms\n",
      workers, node_policy.c_str(), bound.load(), unschedulable.load(), retries.load(), secs,
      bound.load() / secs, Percentile(bind_ms, 0.5), Percentile(bind_ms, 0.99));
  (*svc)->Stop();
  server.Stop();
  return 0;
}
