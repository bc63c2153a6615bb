// File: softslice/interceptor/mapping_guard.cc
#include "softslice/interceptor/mapping_guard.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include <atomic>

namespace npushare::vnpu {
namespace {

struct Region {
  std::atomic<uintptr_t> base;
  std::atomic<size_t> len;
  std::atomic<int> prot;
  std::atomic<bool> lost;
};

constexpr size_t kKinds = static_cast<size_t>(GuardedMap::kCount);
constinit Region g_regions[kKinds] = {};
constinit std::atomic<uint64_t> g_absorbed{0};
constinit std::atomic<int> g_installed{0};  // 0 no, 1 installing, 2 yes
constinit struct sigaction g_previous = {};

Region& At(GuardedMap kind) {
  return g_regions[static_cast<size_t>(kind)];
}

void OnSigbus(int sig, siginfo_t* info, void* context) {
  uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  if (info->si_code > 0) {  // a fault, not kill(): only then is si_addr meaningful
    for (Region& r : g_regions) {
      uintptr_t base = r.base.load(std::memory_order_acquire);
      size_t len = r.len.load(std::memory_order_acquire);
      if (base != 0 && addr >= base && addr - base < len) {
        void* p = mmap(reinterpret_cast<void*>(base), len, r.prot.load(std::memory_order_relaxed),
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p != MAP_FAILED) {
          r.lost.store(true, std::memory_order_release);
          g_absorbed.fetch_add(1, std::memory_order_relaxed);
          return;  // the access re-runs against zeros
        }
      }
    }
  }
  // Not ours: what would have happened without the guard.
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
      g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(sig);
    return;
  }
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, nullptr);
  if (info->si_code <= 0) {
    raise(sig);  // sent, not a fault: deliver it again with the default action
  }
  // A fault re-runs the faulting access, which now takes the default action.
}

void InstallOnce() {
  int expected = 0;
  if (!g_installed.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    return;
  }
  struct sigaction sa = {};
  sa.sa_sigaction = OnSigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &g_previous);
  g_installed.store(2, std::memory_order_release);
}

}  // namespace

void GuardMapping(GuardedMap kind, void* base, size_t len, bool writable) {
  Region& r = At(kind);
  r.base.store(0, std::memory_order_release);  // never half-registered
  r.len.store(len, std::memory_order_release);
  r.prot.store(writable ? PROT_READ | PROT_WRITE : PROT_READ, std::memory_order_release);
  r.lost.store(false, std::memory_order_release);
  r.base.store(reinterpret_cast<uintptr_t>(base), std::memory_order_release);
  InstallOnce();
}

bool MappingLost(GuardedMap kind) {
  return At(kind).lost.load(std::memory_order_acquire);
}

bool RemapAt(GuardedMap kind, int fd) {
  Region& r = At(kind);
  uintptr_t base = r.base.load(std::memory_order_acquire);
  if (base == 0) {
    return false;
  }
  void* p = mmap(reinterpret_cast<void*>(base), r.len.load(std::memory_order_relaxed),
                 r.prot.load(std::memory_order_relaxed), MAP_SHARED | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    return false;
  }
  r.lost.store(false, std::memory_order_release);
  return true;
}

bool MappingLostAt(GuardedMap kind, const void* base) {
  const Region& r = At(kind);
  return r.lost.load(std::memory_order_acquire) &&
         r.base.load(std::memory_order_acquire) == reinterpret_cast<uintptr_t>(base);
}

void ForgetMapping(GuardedMap kind, const void* base) {
  uintptr_t expected = reinterpret_cast<uintptr_t>(base);
  At(kind).base.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

uint64_t SigbusesAbsorbed() {
  return g_absorbed.load(std::memory_order_relaxed);
}

}  // namespace npushare::vnpu
