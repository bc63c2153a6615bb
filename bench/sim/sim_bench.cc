// Cost of the simulator's own hot paths, so interceptor overhead measured on top of it later
// is meaningful: asynchronous launch (goal < 1 us) and rtMalloc/rtFree.
// The benchmark creates its own private npu-sim state (one 910B3 chip) before running.
//
// Its defaults finish in seconds (issue 15: the whole run must take under a minute). The
// untimed part dominates the wall time of the launch benchmarks (the worker drains every queued
// kernel, ~70 us each even for a 0 us kernel), so BM_AsyncLaunch runs a fixed number of
// iterations and the others a short minimum time; --benchmark_min_time and
// --benchmark_repetitions still apply to those for longer runs.
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

// kAsyncBatch: launches timed behind one blocker. Enqueueing them takes a few ms (a few us
// each on a loaded machine), well inside the blocker's 50 ms; draining them afterwards takes
// ~70 us each (untimed), which is what bounds the batch and the iteration count.
constexpr int64_t kAsyncBatch = 2048;

// Enqueue cost while the device is busy: a 50 ms kernel at the head of the stream keeps the
// worker asleep, so every timed launch only enqueues (the common case for an inference server
// that runs ahead of the device). Was 16384 launches per blocker and Google Benchmark's
// default 0.5 s of timed CPU, which meant hundreds of untimed drains: over 6 minutes.
void BM_AsyncLaunch(benchmark::State& state) {
  rtStream_t s = nullptr;
  rtStreamCreate(&s, 0);
  rtFuncHandle blocker = Func("sim_50000us");
  rtFuncHandle k = Func("sim_0us");
  int64_t in_batch = 0;
  rtLaunchKernelByFuncHandleV3(blocker, 20, nullptr, s, nullptr);
  for (auto _ : state) {
    rtLaunchKernelByFuncHandleV3(k, 20, nullptr, s, nullptr);
    if (++in_batch == kAsyncBatch) {
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
// 8 batches: a mean over 16384 launches, about 1.5 s of wall time with the drains.
BENCHMARK(BM_AsyncLaunch)->Iterations(8 * kAsyncBatch);

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
// ~7 us of CPU but ~110 us of wall time per iteration: 0.1 s of CPU is ~2 s of wall time.
BENCHMARK(BM_LaunchSyncRoundTrip)->MinTime(0.1);

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
BENCHMARK(BM_RtMallocFree)->Arg(4096)->Arg(64 << 20)->MinTime(0.2);

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
