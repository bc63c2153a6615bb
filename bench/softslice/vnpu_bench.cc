// libvnpu.so overhead (Google Benchmark): added cost per launch on the gate's fast path (the
// tenant holds the grant) and per allocation+free under a quota, each against the same call
// made directly. The runtime is fake_runtime.cc (returns at once), so the difference is the
// hook. The binary re-executes itself with LD_PRELOAD=libvnpu.so and a private state and grant
// directory, publishes a grant for its own tenant and keeps the heartbeat fresh.
//
// Run: build/bin/softslice_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "softslice/arbiter/grant_page_writer.h"
#include "softslice/shared_state.h"

extern "C" {
int32_t rtSetDevice(int32_t);
int32_t rtKernelLaunch(const void*, uint32_t, void*, uint32_t, void*, void*);
int32_t rtMalloc(void**, uint64_t, uint32_t, uint16_t);
int32_t rtFree(void*);
int32_t bench_direct_kernel_launch(const void*, uint32_t, void*, uint32_t, void*, void*);
int32_t bench_direct_malloc(void**, uint64_t, uint32_t, uint16_t);
int32_t bench_direct_free(void*);
}

namespace {

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

using LaunchFn = int32_t (*)(const void*, uint32_t, void*, uint32_t, void*, void*);

void LaunchLoop(benchmark::State& state, LaunchFn fn) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(fn(nullptr, 1, nullptr, 0, nullptr, nullptr));
  }
}

// Percentiles of the per-call time over batches of 64 calls (clock overhead amortised).
void LaunchPercentiles(benchmark::State& state, LaunchFn fn) {
  std::vector<double> per_call;
  per_call.reserve(1 << 16);
  for (auto _ : state) {
    uint64_t t0 = NowNs();
    for (int i = 0; i < 64; ++i) {
      benchmark::DoNotOptimize(fn(nullptr, 1, nullptr, 0, nullptr, nullptr));
    }
    if (per_call.size() < per_call.capacity()) {
      per_call.push_back(static_cast<double>(NowNs() - t0) / 64.0);
    }
  }
  std::sort(per_call.begin(), per_call.end());
  if (!per_call.empty()) {
    state.counters["p50_ns"] = per_call[per_call.size() / 2];
    state.counters["p99_ns"] = per_call[per_call.size() * 99 / 100];
  }
}

void BM_LaunchDirect(benchmark::State& state) {
  LaunchLoop(state, &bench_direct_kernel_launch);
}
void BM_LaunchHookedFastPath(benchmark::State& state) {
  LaunchLoop(state, &rtKernelLaunch);
}
void BM_LaunchDirectBatch64(benchmark::State& state) {
  LaunchPercentiles(state, &bench_direct_kernel_launch);
}
void BM_LaunchHookedBatch64(benchmark::State& state) {
  LaunchPercentiles(state, &rtKernelLaunch);
}

void BM_MallocFreeDirect(benchmark::State& state) {
  for (auto _ : state) {
    void* p = nullptr;
    benchmark::DoNotOptimize(bench_direct_malloc(&p, 1 << 20, 2, 0));
    benchmark::DoNotOptimize(bench_direct_free(p));
  }
}
void BM_MallocFreeHooked(benchmark::State& state) {
  for (auto _ : state) {
    void* p = nullptr;
    if (rtMalloc(&p, 1 << 20, 2, 0) != 0) {
      state.SkipWithError("rtMalloc refused");
      break;
    }
    benchmark::DoNotOptimize(rtFree(p));
  }
}

BENCHMARK(BM_LaunchDirect);
BENCHMARK(BM_LaunchHookedFastPath);
BENCHMARK(BM_LaunchDirectBatch64);
BENCHMARK(BM_LaunchHookedBatch64);
BENCHMARK(BM_MallocFreeDirect);
BENCHMARK(BM_MallocFreeHooked);
BENCHMARK(BM_LaunchHookedFastPath)->Threads(2)->Name("BM_LaunchHookedFastPath/threads:2");

int Reexec(int argc, char** argv) {
  char tmpl[] = "/tmp/vnpu-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    perror("mkdtemp");
    return 1;
  }
  std::string root = tmpl;
  std::string self = argv[0];
  std::string lib = self.substr(0, self.rfind('/')) + "/../lib/libvnpu.so";
  setenv("VNPU_BENCH_ROOT", root.c_str(), 1);
  setenv("LD_PRELOAD", lib.c_str(), 1);
  setenv("NPUSHARE_VNPU_STATE_DIR", (root + "/tenant").c_str(), 1);
  setenv("NPUSHARE_VNPU_ARBITER_DIR", (root + "/arbiter").c_str(), 1);
  setenv("NPUSHARE_VNPU_CORE_PCT", "50", 1);
  setenv("NPUSHARE_VNPU_MEM_MB", "1048576", 1);
  setenv("NPUSHARE_VNPU_QUIET", "1", 1);
  execv("/proc/self/exe", argv);
  perror("execv");
  (void)argc;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const char* root = getenv("VNPU_BENCH_ROOT");
  if (root == nullptr) {
    return Reexec(argc, argv);
  }
  auto* gate_status = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "vnpu_gate_status"));
  if (gate_status == nullptr) {
    fprintf(stderr, "libvnpu.so is not loaded\n");
    return 1;
  }
  rtSetDevice(0);
  rtKernelLaunch(nullptr, 1, nullptr, 0, nullptr, nullptr);  // creates the tenant page
  VnpuTenantPage page = {};
  std::ifstream(std::string(root) + "/tenant/" VNPU_TENANT_FILE_NAME, std::ios::binary)
      .read(reinterpret_cast<char*>(&page), sizeof(page));
  auto grants = npushare::softslice::GrantPageWriter::Open(std::string(root) + "/arbiter");
  if (!grants.ok() || page.tenant_id == 0) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  (*grants)->SetTenant(0, page.tenant_id);
  (*grants)->Heartbeat(NowNs());
  (*grants)->Grant(0, 0, NowNs(), NowNs() + 3600'000'000'000ull);
  std::atomic<bool> stop{false};
  std::thread heartbeat([&] {
    while (!stop.load()) {
      (*grants)->Heartbeat(NowNs());
      usleep(10'000);
    }
  });
  uint64_t deadline = NowNs() + 2'000'000'000ull;
  while (gate_status() != 1 && NowNs() < deadline) {
    rtKernelLaunch(nullptr, 1, nullptr, 0, nullptr, nullptr);
  }
  if (gate_status() != 1) {
    fprintf(stderr, "gate never engaged\n");
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  stop.store(true);
  heartbeat.join();
  std::string cmd = std::string("rm -rf ") + root;
  return system(cmd.c_str()) == 0 ? 0 : 1;
}
