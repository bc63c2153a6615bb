// File: softslice/interceptor/process_state.cc
#include "softslice/interceptor/process_state.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <atomic>

#include "softslice/interceptor/launch_gate.h"
#include "softslice/interceptor/log.h"

extern char** environ;

namespace npushare::vnpu {
namespace {

enum Phase : int {
  kUnset = 0,    // setup not done
  kPassThrough,  // not limited, or torn down
  kLimited,      // limited, ledger not attached yet
  kAttached,     // limited, ledger + slot
  kDenied,       // limited, no ledger slot: limited allocations fail
};

constexpr const char* kFnNames[] = {
    "rtGetDevice",
    "rtMalloc",
    "rtMallocCached",
    "rtsMalloc",
    "rtMemAllocManaged",
    "rtMallocPhysical",
    "rtFree",
    "rtsFree",
    "rtMemFreeManaged",
    "rtFreePhysical",
    "rtMemGetInfoEx",
    "rtMemGetInfo",
    "rtSetDevice",
    "rtKernelLaunch",
    "rtKernelLaunchWithFlag",
    "rtKernelLaunchWithFlagV2",
    "rtKernelLaunchWithHandle",
    "rtKernelLaunchWithHandleV2",
    "rtLaunchKernelByFuncHandleV3",
    "rtCpuKernelLaunchWithFlag",
    "rtAicpuKernelLaunchWithFlag",
    "rtAicpuKernelLaunchExWithArgs",
    "rtModelExecute",
    "rtStreamSynchronize",
    "rtEventSynchronize",
    "rtDeviceSynchronize",
    "rtEventCreate",
    "rtEventCreateWithFlag",
    "rtEventRecord",
    "rtEventQueryStatus",
    "rtEventElapsedTime",
};
static_assert(sizeof(kFnNames) / sizeof(kFnNames[0]) == static_cast<size_t>(Fn::kCount));

// All constant-initialised: no global constructors in libvnpu.so.
constinit std::atomic<int> g_phase{kUnset};
constinit pthread_mutex_t g_setup_mutex = PTHREAD_MUTEX_INITIALIZER;
constinit Config g_config = {};
constinit Ledger g_ledger;

void ChildAfterFork() {
  // Only this thread exists in the child; another thread may have held the setup mutex.
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&g_setup_mutex, &fresh, sizeof(fresh));
  g_ledger.AfterForkChild();
  GateAfterForkChild();
  int phase = g_phase.load(std::memory_order_relaxed);
  if (phase == kAttached || phase == kDenied) {
    // The child claims its own slot (and liveness lock) on its first allocation.
    g_phase.store(kLimited, std::memory_order_release);
  }
}

void SetupLocked() {
  const char* quiet = nullptr;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (strncmp(*e, "NPUSHARE_VNPU_QUIET=", 20) == 0) {
      quiet = *e + 20;
    }
  }
  SetLogQuiet(quiet != nullptr && quiet[0] == '1');
  ParseConfig(environ, &g_config);
  QuotaFileError qe = ApplyQuotaFile(kQuotaFilePath, &g_config);
  if (qe == QuotaFileError::kNotReadOnly) {
    // The environment's quotas stay in force: cooperative, but never looser than before.
    Log("ignoring quota file %s: not on a read-only mount; using the environment's quotas",
        kQuotaFilePath);
  } else if (qe != QuotaFileError::kOk && qe != QuotaFileError::kNone) {
    Log("ignoring quota file %s (%s); using the environment's quotas", kQuotaFilePath,
        qe == QuotaFileError::kMalformed ? "malformed" : "unsafe or unreadable");
  }
  GateForNodeFiles(qe, &g_config);
  pthread_atfork(nullptr, nullptr, ChildAfterFork);
  g_phase.store(g_config.limited ? kLimited : kPassThrough, std::memory_order_release);
}

}  // namespace

DlsymFn GlibcDlsym() {
  static constinit std::atomic<DlsymFn> cached{nullptr};
  DlsymFn f = cached.load(std::memory_order_acquire);
  if (f == nullptr) {
    for (const char* v : {"GLIBC_2.34", "GLIBC_2.17", "GLIBC_2.2.5"}) {
      f = reinterpret_cast<DlsymFn>(dlvsym(RTLD_NEXT, "dlsym", v));
      if (f != nullptr) {
        break;
      }
    }
    cached.store(f, std::memory_order_release);
  }
  return f;
}

const char* FnName(Fn fn) {
  return kFnNames[static_cast<size_t>(fn)];
}

constinit std::atomic<void*> g_real_fn[static_cast<size_t>(Fn::kCount)] = {};

void* ResolveRealFn(Fn fn) {
  auto& slot = g_real_fn[static_cast<size_t>(fn)];
  void* p = slot.load(std::memory_order_acquire);
  if (p == nullptr) {
    DlsymFn real_dlsym = GlibcDlsym();
    if (real_dlsym != nullptr) {
      p = real_dlsym(RTLD_NEXT, FnName(fn));
      if (p == nullptr) {
        // A runtime loaded with RTLD_LOCAL (a Python extension module and its dependencies)
        // is not in the global scope that RTLD_NEXT searches, yet its callers reach our hooks
        // through the global scope. Look the function up in the loaded runtime itself. The
        // handle is kept: we hold pointers into the library from now on.
        void* runtime = dlopen("libruntime.so", RTLD_LAZY | RTLD_NOLOAD);
        if (runtime != nullptr) {
          p = real_dlsym(runtime, FnName(fn));
        }
      }
      slot.store(p, std::memory_order_release);
    }
  }
  return p;
}

const Config& EnsureSetup() {
  if (g_phase.load(std::memory_order_acquire) == kUnset) {
    pthread_mutex_lock(&g_setup_mutex);
    if (g_phase.load(std::memory_order_relaxed) == kUnset) {
      SetupLocked();
    }
    pthread_mutex_unlock(&g_setup_mutex);
  }
  return g_config;
}

Ledger* AttachedLedger(bool* deny_limited) {
  *deny_limited = false;
  int phase = g_phase.load(std::memory_order_acquire);
  if (phase == kAttached) {
    return &g_ledger;
  }
  if (phase == kUnset) {
    EnsureSetup();
    phase = g_phase.load(std::memory_order_acquire);
  }
  if (phase == kLimited) {
    pthread_mutex_lock(&g_setup_mutex);
    if (g_phase.load(std::memory_order_relaxed) == kLimited) {
      LedgerError e = LedgerError::kOk;
      if (!g_ledger.is_open()) {
        e = g_ledger.Open(g_config.state_dir, g_config.mem_quota_bytes);
        if (e != LedgerError::kOk) {
          Log("cannot use ledger in %s (error %d); quotas apply to this process tree only",
              g_config.state_dir, static_cast<int>(e));
          e = g_ledger.OpenPrivate(g_config.mem_quota_bytes);
        }
      }
      if (e == LedgerError::kOk && g_config.quota_from_file) {
        g_ledger.PinQuotas(g_config.mem_quota_bytes);
      }
      if (e == LedgerError::kOk) {
        e = g_ledger.ClaimSlot();
      }
      if (e != LedgerError::kOk) {
        Log("no ledger slot (error %d): allocations on limited devices will fail",
            static_cast<int>(e));
      }
      g_phase.store(e == LedgerError::kOk ? kAttached : kDenied, std::memory_order_release);
    }
    pthread_mutex_unlock(&g_setup_mutex);
    phase = g_phase.load(std::memory_order_acquire);
  }
  if (phase == kAttached) {
    return &g_ledger;
  }
  *deny_limited = phase == kDenied;
  return nullptr;
}

void Teardown() {
  pthread_mutex_lock(&g_setup_mutex);
  g_phase.store(kPassThrough, std::memory_order_release);
  g_ledger.ReleaseSlot();
  pthread_mutex_unlock(&g_setup_mutex);
}

namespace {

__attribute__((constructor)) void VnpuConstructor() {
  EnsureSetup();
}

__attribute__((destructor)) void VnpuDestructor() {
  Teardown();
}

}  // namespace

}  // namespace npushare::vnpu
