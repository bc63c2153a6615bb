// Cost of the simulator's own hot paths, so interceptor overhead measured on top of it later
// is meaningful: asynchronous launch (goal < 1 us) and rtMalloc/rtFree.
// The benchmark creates its own private npu-sim state (one 910B3 chip) before running.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <string>

#include "runtime/rt.h"
#include "state/node_config.h"
#include "state/shared_state.h"

namespace {

using npushare::sim::BuildInitialState;
using npushare::sim::MonotonicNs;
using npushare::sim::ParseNodeYaml;
using npushare::sim::SharedState;

rtFuncHandle Func(const char* name) {
  static rtBinHandle bin = nullptr;
  static const char kData[] = "npusim:duration_us=0";
  if (bin == nullptr && rtsBinaryLoadFromData(kData, sizeof(kData), nullptr, &bin) != 0) {
    std::abort();
  }
  rtFuncHandle f = nullptr;
  if (rtsFuncGetByName(bin, name, &f) != 0) {
    std::abort();
  }
  return f;
}

// Enqueue cost while the device is busy: a 50 ms kernel at the head of the stream keeps the
// worker asleep, so every timed launch only enqueues (the common case for an inference server
// that runs ahead of the device).
void BM_AsyncLaunch(benchmark::State& state) {
  rtStream_t s = nullptr;
  rtStreamCreate(&s, 0);
  rtFuncHandle blocker = Func("sim_50000us");
  rtFuncHandle k = Func("sim_0us");
  int64_t in_batch = 0;
  rtLaunchKernelByFuncHandleV3(blocker, 20, nullptr, s, nullptr);
  for (auto _ : state) {
    rtLaunchKernelByFuncHandleV3(k, 20, nullptr, s, nullptr);
    if (++in_batch == 16384) {
      state.PauseTiming();
      rtStreamSynchronize(s);
      rtLaunchKernelByFuncHandleV3(blocker, 20, nullptr, s, nullptr);
      in_batch = 0;
      state.ResumeTiming();
    }
  }
  rtStreamSynchronize(s);
  rtStreamDestroy(s);
}
BENCHMARK(BM_AsyncLaunch);

// Launch + synchronize round trip of an empty kernel (host-to-device-to-host latency).
void BM_LaunchSyncRoundTrip(benchmark::State& state) {
  rtStream_t s = nullptr;
  rtStreamCreate(&s, 0);
  rtFuncHandle k = Func("sim_0us");
  for (auto _ : state) {
    rtLaunchKernelByFuncHandleV3(k, 20, nullptr, s, nullptr);
    rtStreamSynchronize(s);
  }
  rtStreamDestroy(s);
}
BENCHMARK(BM_LaunchSyncRoundTrip);

void BM_RtMallocFree(benchmark::State& state) {
  const uint64_t size = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    void* p = nullptr;
    if (rtMalloc(&p, size, RT_MEMORY_HBM, 0) != RT_ERROR_NONE) {
      state.SkipWithError("rtMalloc failed");
      break;
    }
    rtFree(p);
  }
}
BENCHMARK(BM_RtMallocFree)->Arg(4096)->Arg(64 << 20);

}  // namespace

int main(int argc, char** argv) {
  char tmpl[] = "/tmp/npusim-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    return 1;
  }
  auto spec = ParseNodeYaml("model: 910B3\ncards: 1\n");
  if (!spec.ok() || !SharedState::Create(tmpl, *BuildInitialState(*spec, MonotonicNs())).ok()) {
    std::fprintf(stderr, "cannot create npu-sim state\n");
    return 1;
  }
  setenv("NPU_SIM_STATE", tmpl, 1);
  unsetenv("ASCEND_VISIBLE_DEVICES");
  if (rtSetDevice(0) != RT_ERROR_NONE) {
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
