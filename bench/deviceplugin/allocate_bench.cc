// allocate_bench: latency of AllocateService::AllocateContainer (one kubelet Allocate of one
// container) against kube-local in process over real HTTP on 127.0.0.1 (goal: p99 < 5 ms).
// Each iteration binds a fresh pod the way HAMi's scheduler leaves it (annotations, node
// lock; untimed), then times the Allocate: GET node, GET pod (lock holder) or LIST the node's
// pods, PATCH pod, and for the pod's last container GET node + PATCH node (lock release);
// soft slices also write the quota/share files and the state directory.
//   [NPUSHARE_BENCH_DIR=/dev/shm] build/bin/deviceplugin_allocate_bench [--benchmark_repetitions=3]
// p50/p99 are reported as counters (milliseconds) over the iterations of each run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "deviceplugin/allocate/allocate_service.h"
#include "deviceplugin/allocate/soft_slice_files.h"
#include "hami/pod_devices.h"
#include "hami/runtime_info.h"
#include "hami/types.h"
#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"
#include "kube/node_lock_client.h"
#include "kube/resource.h"
#include "sim/kube/api_server.h"

namespace npushare::deviceplugin::allocate {
namespace {

using nlohmann::json;

constexpr char kNode[] = "bench-node";
constexpr char kCw[] = "Ascend910B3";

class FixedDevices final : public DeviceSnapshotSource {
 public:
  explicit FixedDevices(NodeDevices d) : d_(std::make_shared<NodeDevices>(std::move(d))) {}
  std::shared_ptr<const NodeDevices> Current() const override { return d_; }

 private:
  std::shared_ptr<const NodeDevices> d_;
};

NodeDevices Node() {
  NodeDevices d;
  d.common_word = kCw;
  d.resource_name = std::string("huawei.com/") + kCw;
  d.vdevice_count = 64;
  d.hami_vnpu_core = true;
  for (int i = 0; i < 8; ++i) {
    Chip c;
    c.index = static_cast<uint32_t>(i);
    c.phys_id = i;
    c.uuid = std::string(kCw) + "-" + std::to_string(i);
    c.healthy = true;
    d.chips.push_back(c);
  }
  return d;
}

// Env: kube-local, a client, the service and soft-slicing directories.
struct Env {
  Env() : store(std::make_shared<kube_local::ObjectStore>()), server(options, store) {
    auto port = server.Start("127.0.0.1", 0);
    if (!port.ok()) {
      std::abort();
    }
    kube::RestConfig cfg;
    cfg.server = server.url();
    transport = std::make_unique<kube::CurlTransport>(cfg);
    kube::ClientOptions co;
    co.qps = 0;
    client = std::make_unique<kube::KubeClient>(*transport, co);
    // Production keeps these under /run (tmpfs, see allocate_options.h); /dev/shm is tmpfs too.
    // On a disk, the fsyncs of the atomic file writes dominate a soft-slice Allocate.
    const char* base = getenv("NPUSHARE_BENCH_DIR");
    dir = std::filesystem::path(base != nullptr ? base : "/dev/shm") /
          ("npushare-allocate-bench-" + std::to_string(getpid()));
    for (const char* sub : {"shares", "quota", "arbiter", "tenants", "lib"}) {
      std::filesystem::create_directories(dir / sub);
    }
    WriteFileAtomically((dir / "lib/libvnpu.so").string(), "x", 0644).IgnoreError();
    AllocateOptions o;
    o.soft.shares_dir = (dir / "shares").string();
    o.soft.quota_root = (dir / "quota").string();
    o.soft.grant_dir = (dir / "arbiter").string();
    o.soft.tenants_dir = (dir / "tenants").string();
    o.soft.libvnpu_path = (dir / "lib/libvnpu.so").string();
    o.soft.ld_so_preload_path = (dir / "lib/ld.so.preload").string();
    service = std::make_unique<AllocateService>(*client, devices, kNode, o);
    client->Create(kube::kNodes, "", {{"metadata", {{"name", kNode}}}}).status().IgnoreError();
  }
  ~Env() {
    service.reset();
    client.reset();
    transport.reset();
    server.Stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  json Pod(const std::string& name, bool soft, const std::string& phase_annotation) {
    hami::PodDevices alloc = {{hami::ContainerDevice{std::string(kCw) + "-3", kCw, 16384, 25}}};
    std::vector<hami::RuntimeInfoEntry> rt(1);
    rt[0].uuid = alloc[0][0].uuid;
    rt[0].temp = soft ? "" : "vir05_1c_16g";
    rt[0].memory = 16384;
    rt[0].core = 25;
    json a = {{hami::DevicesToAllocateKey(kCw), hami::EncodePodDevices(alloc)},
              {hami::DevicesAllocatedKey(kCw), hami::EncodePodDevices(alloc)},
              {hami::RuntimeInfoKey(kCw), hami::EncodeRuntimeInfo(rt)},
              {hami::kAssignedNodeAnnotation, kNode},
              {hami::kBindTimeAnnotation, "1714557600"},
              {hami::kBindPhaseAnnotation, phase_annotation}};
    if (soft) {
      a[hami::kVnpuModeAnnotation] = hami::kVnpuModeHamiCore;
    }
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}, {"annotations", a}}},
            {"spec",
             {{"nodeName", kNode}, {"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}};
  }

  kube_local::LocalApiServerOptions options;
  std::shared_ptr<kube_local::ObjectStore> store;
  kube_local::LocalApiServer server;
  std::unique_ptr<kube::CurlTransport> transport;
  std::unique_ptr<kube::KubeClient> client;
  FixedDevices devices{Node()};
  std::filesystem::path dir;
  std::unique_ptr<AllocateService> service;
};

void Report(benchmark::State& state, std::vector<double>& ms) {
  if (ms.empty()) {
    return;
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
  };
  state.counters["p50_ms"] = at(0.50);
  state.counters["p99_ms"] = at(0.99);
  state.counters["max_ms"] = ms.back();
}

// BM_Allocate: arg 0 = soft slice, arg 1 = pod found through the node lock (else the list,
// next to 50 running pods of the node).
void BM_Allocate(benchmark::State& state) {
  const bool soft = state.range(0) != 0;
  const bool via_lock = state.range(1) != 0;
  Env env;
  if (!via_lock) {
    for (int i = 0; i < 50; ++i) {
      env.client
          ->Create(kube::kPods, "default", env.Pod("running-" + std::to_string(i), soft, "success"))
          .status()
          .IgnoreError();
    }
  }
  kube::NodeLockClient locks(*env.client, kube::RealClock());
  const std::vector<std::string> ids = {std::string(kCw) + "-3-0"};
  std::vector<double> ms;
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string name = "p-" + std::to_string(n++);
    if (!env.client->Create(kube::kPods, "default", env.Pod(name, soft, "allocating")).ok() ||
        (via_lock && !locks.Acquire(kNode, {"default", name}).ok())) {
      state.SkipWithError("setup failed");
      break;
    }
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    Result<ContainerAllocation> r =
        env.service->AllocateContainer(std::string("huawei.com/") + kCw, ids);
    const auto t1 = std::chrono::steady_clock::now();
    state.PauseTiming();
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    kube::DeleteOptions del;
    del.grace_period_seconds = 0;
    env.client->Delete(kube::kPods, "default", name, del).IgnoreError();
    state.ResumeTiming();
  }
  Report(state, ms);
}
BENCHMARK(BM_Allocate)
    ->ArgNames({"soft", "via_lock"})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Iterations(300)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// BM_SoftSliceFiles: the node-side files of one soft-sliced container alone (quota + share
// files written atomically, state directory), as Allocate writes them.
void BM_SoftSliceFiles(benchmark::State& state) {
  Env env;
  SoftSliceOptions o;
  o.shares_dir = (env.dir / "shares").string();
  o.quota_root = (env.dir / "quota").string();
  o.tenants_dir = (env.dir / "tenants").string();
  o.libvnpu_path = (env.dir / "lib/libvnpu.so").string();
  o.ld_so_preload_path = (env.dir / "lib/ld.so.preload").string();
  softslice::TenantGrant grant;
  grant.tenant = "0f1e2d3c-aaaa-bbbb-cccc-000000000001_main";
  grant.devices.push_back({25, false, 3, 16384});
  for (auto _ : state) {
    Status s = WriteSoftSliceFiles(o, grant, {});
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
}
BENCHMARK(BM_SoftSliceFiles)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace npushare::deviceplugin::allocate

BENCHMARK_MAIN();
