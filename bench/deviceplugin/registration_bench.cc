// registration_bench: registering a 16-chip node, the device plugin's periodic job: DCMI
// discovery against npu-sim's libdcmi.so (16 x 910B3), building the NodeDevices snapshot,
// encoding the HAMi annotations and one merge patch of the Node on an in-process kube-local
// over real HTTP. Also each step alone. Figures are reported, not asserted.
//   build/bin/deviceplugin_registration_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "config/config_loader.h"
#include "deviceplugin/devices/command_runner_impl.h"
#include "deviceplugin/devices/dcmi_library.h"
#include "deviceplugin/devices/discovery.h"
#include "deviceplugin/devices/node_devices.h"
#include "deviceplugin/devices/node_registrar.h"
#include "deviceplugin/devices/registration.h"
#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"
#include "sim/kube/api_server.h"

namespace {

namespace dev = npushare::deviceplugin::devices;
namespace kube = npushare::kube;
using npushare::deviceplugin::DeviceSnapshotSource;
using npushare::deviceplugin::NodeDevices;

constexpr char kNode[] = "bench-node";

// Env: npu-sim with 16 chips, kube-local with the Node, a client; built once.
struct Env {
  std::string state_dir;
  std::unique_ptr<dev::DcmiLibrary> dcmi;
  npushare::config::DeviceConfig config;
  std::unique_ptr<npushare::kube_local::LocalApiServer> server;
  std::unique_ptr<kube::CurlTransport> transport;
  std::unique_ptr<kube::KubeClient> client;
};

Env* Setup() {
  auto env = std::make_unique<Env>();
  char tmpl[] = "/tmp/registration-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    return nullptr;
  }
  env->state_dir = tmpl;
  static std::string dir_to_remove = env->state_dir;
  atexit([] {
    std::error_code ignored;
    std::filesystem::remove_all(dir_to_remove, ignored);
  });
  setenv("NPU_SIM_STATE", env->state_dir.c_str(), 1);
  const std::string yaml = env->state_dir + "/node.yaml";
  std::ofstream(yaml) << "version: 1\nmodel: 910B3\ncards: 16\n";
  dev::ForkExecRunner runner;
  auto init = runner.Run({std::string(NPUSHARE_BENCH_BIN_DIR) + "/npu-sim", "init", yaml}, "",
                         std::chrono::seconds(30));
  if (!init.ok() || init->exit_code != 0) {
    std::fprintf(stderr, "npu-sim init failed\n");
    return nullptr;
  }
  dev::DcmiLibraryOptions opts;
  opts.path = std::string(NPUSHARE_BENCH_BIN_DIR) + "/../lib/libdcmi.so";
  auto lib = dev::DcmiLibrary::Open(opts);
  if (!lib.ok() || !(*lib)->Init().ok()) {
    std::fprintf(stderr, "libdcmi: %s\n", lib.status().ToString().c_str());
    return nullptr;
  }
  env->dcmi = std::move(*lib);
  auto cfg = npushare::config::LoadDeviceConfigFile(
      std::string(NPUSHARE_SOURCE_DIR) + "/deploy/config/device-config.yaml", nullptr);
  if (!cfg.ok()) {
    return nullptr;
  }
  env->config = std::move(*cfg);
  env->server = std::make_unique<npushare::kube_local::LocalApiServer>(
      npushare::kube_local::LocalApiServerOptions{});
  auto port = env->server->Start("127.0.0.1", 0);
  if (!port.ok()) {
    return nullptr;
  }
  kube::RestConfig rc;
  rc.server = env->server->url();
  env->transport = std::make_unique<kube::CurlTransport>(rc);
  kube::ClientOptions co;
  co.qps = 0;
  env->client = std::make_unique<kube::KubeClient>(*env->transport, co);
  nlohmann::json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", kNode}}}};
  if (!env->client->Create(kube::kNodes, "", node).ok()) {
    return nullptr;
  }
  return env.release();
}

Env& E() {
  static Env* env = Setup();
  if (env == nullptr) {
    std::abort();
  }
  return *env;
}

NodeDevices Build(Env& e) {
  auto chips = dev::DiscoverChips(*e.dcmi);
  auto nd = dev::BuildNodeDevices(*chips, e.config, nullptr, kNode);
  return std::move(*nd);
}

void BM_Discover16(benchmark::State& state) {
  Env& e = E();
  for (auto _ : state) {
    auto chips = dev::DiscoverChips(*e.dcmi);
    if (!chips.ok() || chips->size() != 16) {
      state.SkipWithError("discovery failed");
      break;
    }
    benchmark::DoNotOptimize(chips);
  }
}
BENCHMARK(BM_Discover16)->Unit(benchmark::kMicrosecond);

void BM_Encode16(benchmark::State& state) {
  const NodeDevices nd = Build(E());
  for (auto _ : state) {
    std::string body = dev::RegistrationPatch(nd, 1787293240).dump();
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_Encode16)->Unit(benchmark::kMicrosecond);

void BM_Patch16(benchmark::State& state) {
  Env& e = E();
  const NodeDevices nd = Build(e);
  for (auto _ : state) {
    auto r = e.client->Patch(kube::kNodes, "", kNode, kube::PatchType::kMerge,
                             dev::RegistrationPatch(nd, 1787293240));
    if (!r.ok()) {
      state.SkipWithError("patch failed");
      break;
    }
  }
}
BENCHMARK(BM_Patch16)->Unit(benchmark::kMicrosecond);

// The whole registration of a 16-chip node: discovery + snapshot + encode + patch.
void BM_RegisterNode16(benchmark::State& state) {
  Env& e = E();
  for (auto _ : state) {
    const NodeDevices nd = Build(e);
    auto r = e.client->Patch(
        kube::kNodes, "", kNode, kube::PatchType::kMerge,
        dev::RegistrationPatch(nd, dev::LocalCivilSeconds(std::chrono::system_clock::now())));
    if (!r.ok()) {
      state.SkipWithError("patch failed");
      break;
    }
  }
}
BENCHMARK(BM_RegisterNode16)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
