// npu-sim-workload: an inference-server-like load that uses only the public ACL API.
//
//   npu-sim-workload [--device N] [--weights-mb M] [--kernel-us U] [--cores C]
//                    [--kernels K | --seconds S] [--batch B] [--idle-us I] [--streams T]
//                    [--no-sync] [--oom-probe --chunk-mb M] [--hold] [--report-every-ms R]
//
// Allocates M MiB of "weights", then on T threads (one stream each) launches kernels of U us
// in batches of B, synchronising after each batch and idling I us between batches, until K
// kernels per thread were run or S seconds passed. --no-sync never synchronises inside the loop
// (a tenant that queues as deep as the runtime lets it): each thread synchronises once, after
// its last launch, and kernels= then counts launches (all complete by the report). --oom-probe
// allocates C MiB chunks until the first failure instead. --hold prints "READY" after allocating
// and then waits for stdin to close (used by the SIGKILL test). The report is one line of key=value
// pairs on stdout:
//   kernels=<n> wall_s=<s> kernels_per_s=<r> device_ms=<ms> alloc_mb=<mb> error=<acl code>
// --report-every-ms R additionally prints, before that report, progress lines
//   progress mono_ns=<CLOCK_MONOTONIC ns> kernels=<kernels completed so far, all threads>
// one when the launch loop starts (kernels=0), then one at the first synchronize at least R ms
// after the previous line, and one at the end: a benchmark (bench/softslice/share_matrix_bench.cc)
// interpolates them to count each tenant's kernels in any time window (device time = kernels ×
// U, as every kernel runs for U us). Counted at synchronize returns, so not with --no-sync.
// Exit status: 0 success, 2 usage, 3 an ACL call failed (error= gives its code).
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "acl/acl.h"
#include "common/thread_annotations.h"

namespace {

struct Options {
  int32_t device = 0;
  uint64_t weights_mb = 0;
  uint64_t kernel_us = 1000;
  uint64_t cores = 0;
  uint64_t kernels = 0;
  double seconds = 0;
  uint64_t batch = 16;
  uint64_t idle_us = 0;
  uint64_t streams = 1;
  bool oom_probe = false;
  uint64_t chunk_mb = 256;
  bool hold = false;
  bool no_sync = false;
  uint64_t report_every_ms = 0;  // 0: no progress lines
};

bool ParseU64(const char* s, uint64_t max, uint64_t* out) {
  if (s == nullptr || *s == '\0' || *s == '-') {
    return false;
  }
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (*end != '\0' || v > max) {
    return false;
  }
  *out = v;
  return true;
}

bool Parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    uint64_t n = 0;
    if (a == "--oom-probe") {
      o->oom_probe = true;
      continue;
    }
    if (a == "--hold") {
      o->hold = true;
      continue;
    }
    if (a == "--no-sync") {
      o->no_sync = true;
      continue;
    }
    if (a == "--seconds") {
      if (v == nullptr) {
        return false;
      }
      char* end = nullptr;
      o->seconds = std::strtod(v, &end);
      if (*end != '\0' || !(o->seconds > 0 && o->seconds < 86400)) {
        return false;
      }
      ++i;
      continue;
    }
    if (!ParseU64(v, 1ull << 40, &n)) {
      return false;
    }
    ++i;
    if (a == "--device" && n < 256) {
      o->device = static_cast<int32_t>(n);
    } else if (a == "--weights-mb") {
      o->weights_mb = n;
    } else if (a == "--kernel-us" && n <= 10'000'000) {
      o->kernel_us = n;
    } else if (a == "--cores" && n <= 64) {
      o->cores = n;
    } else if (a == "--kernels") {
      o->kernels = n;
    } else if (a == "--batch" && n > 0) {
      o->batch = n;
    } else if (a == "--idle-us" && n <= 10'000'000) {
      o->idle_us = n;
    } else if (a == "--streams" && n > 0 && n <= 64) {
      o->streams = n;
    } else if (a == "--chunk-mb" && n > 0) {
      o->chunk_mb = n;
    } else if (a == "--report-every-ms" && n > 0 && n <= 3'600'000) {
      o->report_every_ms = n;
    } else {
      return false;
    }
  }
  if (o->report_every_ms > 0 && o->no_sync) {
    return false;  // progress is counted at synchronize returns
  }
  return o->oom_probe || o->hold || o->kernels > 0 || o->seconds > 0;
}

uint64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Progress: the --report-every-ms lines. Threads add the kernels of each synchronized batch;
// the one that finds the period over prints the line (under the mutex, so lines are whole and
// their counts never go backwards).
class Progress {
 public:
  explicit Progress(uint64_t every_ms) : every_ns_(every_ms * 1'000'000) {}
  void Start() {
    if (every_ns_ > 0) {
      npushare::MutexLock lock(&mu_);
      Print(MonoNs());
    }
  }
  void Add(uint64_t n, bool force = false) {
    if (every_ns_ == 0) {
      return;
    }
    npushare::MutexLock lock(&mu_);
    kernels_ += n;
    uint64_t now = MonoNs();
    if (force || now - last_ns_ >= every_ns_) {
      Print(now);
    }
  }

 private:
  void Print(uint64_t now) NPUSHARE_REQUIRES(mu_) {
    std::printf("progress mono_ns=%llu kernels=%llu\n", static_cast<unsigned long long>(now),
                static_cast<unsigned long long>(kernels_));
    last_ns_ = now;
  }
  const uint64_t every_ns_;
  npushare::Mutex mu_;
  uint64_t kernels_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t last_ns_ NPUSHARE_GUARDED_BY(mu_) = 0;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int Report(uint64_t kernels, double wall, double device_ms, uint64_t alloc_mb, int error) {
  std::printf("kernels=%llu wall_s=%.6f kernels_per_s=%.1f device_ms=%.3f alloc_mb=%llu error=%d\n",
              static_cast<unsigned long long>(kernels), wall, wall > 0 ? kernels / wall : 0.0,
              device_ms, static_cast<unsigned long long>(alloc_mb), error);
  std::fflush(stdout);
  return error == 0 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!Parse(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: npu-sim-workload [--device N] [--weights-mb M] [--kernel-us U] "
                 "[--cores C] [--kernels K | --seconds S] [--batch B] [--idle-us I] "
                 "[--streams T] [--no-sync] [--oom-probe --chunk-mb M] [--hold] "
                 "[--report-every-ms R]\n");
    return 2;
  }
  aclError rc = aclInit(nullptr);
  if (rc == ACL_SUCCESS) {
    rc = aclrtSetDevice(o.device);
  }
  if (rc != ACL_SUCCESS) {
    return Report(0, 0, 0, 0, rc);
  }
  std::vector<void*> buffers;
  uint64_t alloc_mb = 0;
  if (o.weights_mb > 0) {
    void* p = nullptr;
    rc = aclrtMalloc(&p, o.weights_mb << 20, ACL_MEM_MALLOC_HUGE_FIRST);
    if (rc != ACL_SUCCESS) {
      return Report(0, 0, 0, 0, rc);
    }
    buffers.push_back(p);
    alloc_mb += o.weights_mb;
  }
  if (o.oom_probe) {
    for (;;) {
      void* p = nullptr;
      rc = aclrtMalloc(&p, o.chunk_mb << 20, ACL_MEM_MALLOC_HUGE_FIRST);
      if (rc != ACL_SUCCESS) {
        break;
      }
      buffers.push_back(p);
      alloc_mb += o.chunk_mb;
    }
    // Reaching the limit is the expected outcome: report the code, succeed only on OOM.
    int code = rc;
    size_t free_b = 0;
    size_t total_b = 0;
    aclrtGetMemInfo(ACL_HBM_MEM, &free_b, &total_b);
    std::printf("oom_code=%d alloc_mb=%llu free_mb=%llu total_mb=%llu\n", code,
                static_cast<unsigned long long>(alloc_mb),
                static_cast<unsigned long long>(free_b >> 20),
                static_cast<unsigned long long>(total_b >> 20));
    std::fflush(stdout);
    if (!o.hold) {
      for (void* p : buffers) {
        aclrtFree(p);
      }
      return code == ACL_ERROR_RT_MEMORY_ALLOCATION ? 0 : 3;
    }
  }
  if (o.hold) {
    std::printf("READY alloc_mb=%llu\n", static_cast<unsigned long long>(alloc_mb));
    std::fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof(buf)) > 0) {
    }
    return 0;
  }
  aclrtBinHandle bin = nullptr;
  static const char kBinary[] = "npusim:duration_us=10";
  rc = aclrtBinaryLoadFromData(kBinary, sizeof(kBinary), nullptr, &bin);
  aclrtFuncHandle func = nullptr;
  std::string name = "sim_" + std::to_string(o.kernel_us) + "us" +
                     (o.cores > 0 ? "_" + std::to_string(o.cores) + "c" : std::string());
  if (rc == ACL_SUCCESS) {
    rc = aclrtBinaryGetFunction(bin, name.c_str(), &func);
  }
  if (rc != ACL_SUCCESS) {
    return Report(0, 0, 0, alloc_mb, rc);
  }
  std::atomic<uint64_t> total{0};
  std::atomic<int> error{0};
  std::vector<double> device_ms(o.streams, 0.0);
  Progress progress(o.report_every_ms);
  progress.Start();
  const double start = Now();
  const double deadline = o.seconds > 0 ? start + o.seconds : 0;
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < o.streams; ++t) {
    threads.emplace_back([&, t] {
      aclError r = aclrtSetDevice(o.device);
      aclrtStream stream = nullptr;
      aclrtEvent begin = nullptr;
      aclrtEvent end = nullptr;
      if (r == ACL_SUCCESS)
        r = aclrtCreateStream(&stream);
      if (r == ACL_SUCCESS)
        r = aclrtCreateEvent(&begin);
      if (r == ACL_SUCCESS)
        r = aclrtCreateEvent(&end);
      if (r == ACL_SUCCESS)
        r = aclrtRecordEvent(begin, stream);
      uint64_t done = 0;
      while (r == ACL_SUCCESS) {
        if (o.kernels > 0 && done >= o.kernels)
          break;
        if (deadline > 0 && Now() >= deadline)
          break;
        uint64_t n = o.batch;
        if (o.kernels > 0 && o.kernels - done < n)
          n = o.kernels - done;
        for (uint64_t k = 0; k < n && r == ACL_SUCCESS; ++k) {
          r = aclrtLaunchKernel(func, 1024, nullptr, 0, stream);
        }
        if (r == ACL_SUCCESS && !o.no_sync)
          r = aclrtSynchronizeStream(stream);
        if (r == ACL_SUCCESS)
          progress.Add(n);
        done += n;
        if (o.idle_us > 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(o.idle_us));
        }
      }
      if (r == ACL_SUCCESS)
        r = aclrtRecordEvent(end, stream);
      if (r == ACL_SUCCESS)
        r = aclrtSynchronizeEvent(end);
      float ms = 0;
      if (r == ACL_SUCCESS)
        r = aclrtEventElapsedTime(&ms, begin, end);
      device_ms[t] = ms;
      if (stream != nullptr)
        aclrtDestroyStream(stream);
      if (begin != nullptr)
        aclrtDestroyEvent(begin);
      if (end != nullptr)
        aclrtDestroyEvent(end);
      total += done;
      if (r != ACL_SUCCESS)
        error = r;
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  const double wall = Now() - start;
  progress.Add(0, /*force=*/true);
  double max_ms = 0;
  for (double ms : device_ms) {
    max_ms = ms > max_ms ? ms : max_ms;
  }
  for (void* p : buffers) {
    aclrtFree(p);
  }
  aclrtResetDevice(o.device);
  aclFinalize();
  return Report(total.load(), wall, max_ms, alloc_mb, error.load());
}
