// vnpu_app: an application that is not linked against the runtime, for robustness tests of
// libvnpu.so (issue 5: "threads created before and after load, signals, dlopen of the runtime
// after start"). It dlopens libruntime.so itself after start and resolves rt* with dlsym, so the
// limits it sees come through libvnpu's dlsym hook.
//
//   vnpu_app threads --before N --after M --chunk-mb C
//     N threads are started before the runtime is loaded and M after; all allocate C MiB chunks
//     on device 0 concurrently until the first 207001, then free them; then one thread fills
//     again. Prints: total_mb=<n> refill_mb=<n> first_error=<code> used_after_free_mb=<n>
//   vnpu_app signals --chunk-mb C --millis T
//     allocates and frees C MiB chunks for T ms while a 200 us interval timer interrupts it with
//     SIGALRM (handler without SA_RESTART). Prints: ops=<n> signals=<n> errors=<n>
//     used_mb=<n>
// Exit status: 0 done (see the line), 2 usage, 3 the runtime or a symbol is missing.
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using RtSetDevice = int32_t (*)(int32_t);
using RtMalloc = int32_t (*)(void**, uint64_t, uint32_t, uint16_t);
using RtFree = int32_t (*)(void*);
using MemoryStatus = int (*)(uint32_t, uint64_t*, uint64_t*, uint64_t*);

constexpr int32_t kOutOfMemory = 207001;
constexpr uint32_t kHbm = 2;

struct Runtime {
  RtSetDevice set_device = nullptr;
  RtMalloc malloc = nullptr;
  RtFree free = nullptr;
  MemoryStatus status = nullptr;  // libvnpu's introspection, found through the global scope
};

bool Load(Runtime* rt) {
  void* h = dlopen("libruntime.so", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    fprintf(stderr, "vnpu_app: %s\n", dlerror());
    return false;
  }
  rt->set_device = reinterpret_cast<RtSetDevice>(dlsym(h, "rtSetDevice"));
  rt->malloc = reinterpret_cast<RtMalloc>(dlsym(h, "rtMalloc"));
  rt->free = reinterpret_cast<RtFree>(dlsym(h, "rtFree"));
  rt->status = reinterpret_cast<MemoryStatus>(dlsym(RTLD_DEFAULT, "vnpu_memory_status"));
  return rt->set_device != nullptr && rt->malloc != nullptr && rt->free != nullptr;
}

uint64_t UsedMb(const Runtime& rt) {
  uint64_t used = 0;
  if (rt.status == nullptr || rt.status(0, nullptr, &used, nullptr) != 0) {
    return ~uint64_t{0};
  }
  return used >> 20;
}

// FillUntilOom: allocates chunks until the first failure; returns the chunks and the code.
std::vector<void*> FillUntilOom(const Runtime& rt, uint64_t chunk, int32_t* code) {
  std::vector<void*> got;
  rt.set_device(0);
  for (;;) {
    void* p = nullptr;
    int32_t rc = rt.malloc(&p, chunk, kHbm, 0);
    if (rc != 0) {
      *code = rc;
      return got;
    }
    got.push_back(p);
  }
}

int Threads(int before, int after, uint64_t chunk_mb) {
  std::atomic<bool> loaded{false};
  std::atomic<uint64_t> total{0};
  std::atomic<int32_t> first_error{0};
  Runtime rt;
  std::vector<std::vector<void*>> held(static_cast<size_t>(before + after));
  auto work = [&](int i) {
    while (!loaded.load()) {
      std::this_thread::yield();  // started before the runtime (and any hook use) existed
    }
    int32_t code = 0;
    held[static_cast<size_t>(i)] = FillUntilOom(rt, chunk_mb << 20, &code);
    total += held[static_cast<size_t>(i)].size() * chunk_mb;
    int32_t zero = 0;
    first_error.compare_exchange_strong(zero, code);
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < before; ++i) {
    threads.emplace_back(work, i);
  }
  if (!Load(&rt)) {
    loaded = true;
    for (auto& t : threads) {
      t.join();
    }
    return 3;
  }
  loaded = true;
  for (int i = 0; i < after; ++i) {
    threads.emplace_back(work, before + i);
  }
  for (auto& t : threads) {
    t.join();
  }
  for (auto& chunks : held) {
    for (void* p : chunks) {
      rt.free(p);
    }
  }
  uint64_t used_after_free = UsedMb(rt);
  int32_t code = 0;
  std::vector<void*> again = FillUntilOom(rt, chunk_mb << 20, &code);
  printf("total_mb=%llu refill_mb=%llu first_error=%d used_after_free_mb=%llu\n",
         static_cast<unsigned long long>(total.load()),
         static_cast<unsigned long long>(again.size() * chunk_mb), first_error.load(),
         static_cast<unsigned long long>(used_after_free));
  for (void* p : again) {
    rt.free(p);
  }
  return 0;
}

std::atomic<uint64_t> g_signals{0};
void OnAlarm(int) {
  g_signals.fetch_add(1, std::memory_order_relaxed);
}

int Signals(uint64_t chunk_mb, uint64_t millis) {
  Runtime rt;
  if (!Load(&rt)) {
    return 3;
  }
  struct sigaction sa = {};
  sa.sa_handler = OnAlarm;  // no SA_RESTART: interrupted system calls return EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
  struct itimerval every = {{0, 200}, {0, 200}};
  setitimer(ITIMER_REAL, &every, nullptr);
  rt.set_device(0);
  uint64_t ops = 0;
  uint64_t errors = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(millis);
  while (std::chrono::steady_clock::now() < end) {
    void* p = nullptr;
    if (rt.malloc(&p, chunk_mb << 20, kHbm, 0) != 0 || rt.free(p) != 0) {
      ++errors;
    }
    ++ops;
  }
  struct itimerval off = {};
  setitimer(ITIMER_REAL, &off, nullptr);
  printf("ops=%llu signals=%llu errors=%llu used_mb=%llu\n", static_cast<unsigned long long>(ops),
         static_cast<unsigned long long>(g_signals.load()), static_cast<unsigned long long>(errors),
         static_cast<unsigned long long>(UsedMb(rt)));
  return 0;
}

bool Arg(int argc, char** argv, const char* name, uint64_t* out) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (strcmp(argv[i], name) == 0) {
      char* end = nullptr;
      *out = strtoull(argv[i + 1], &end, 10);
      return *end == '\0';
    }
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  uint64_t before = 0, after = 0, chunk = 0, millis = 0;
  if (mode == "threads" && Arg(argc, argv, "--before", &before) &&
      Arg(argc, argv, "--after", &after) && Arg(argc, argv, "--chunk-mb", &chunk) &&
      before + after > 0 && before + after <= 64 && chunk > 0) {
    return Threads(static_cast<int>(before), static_cast<int>(after), chunk);
  }
  if (mode == "signals" && Arg(argc, argv, "--chunk-mb", &chunk) &&
      Arg(argc, argv, "--millis", &millis) && chunk > 0) {
    return Signals(chunk, millis);
  }
  fprintf(stderr,
          "usage: vnpu_app threads --before N --after M --chunk-mb C\n"
          "       vnpu_app signals --chunk-mb C --millis T\n");
  return 2;
}
