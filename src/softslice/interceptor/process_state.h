// File: softslice/interceptor/process_state.h
//
// The per-process state of libvnpu.so: configuration, the real runtime functions and the
// container ledger, set up in two steps so that a process that never touches the NPU pays
// nothing and creates no file:
//   1. Setup (the library constructor, or the first hook if another constructor calls the
//      runtime before ours ran): reads the environment, registers the fork handler.
//   2. Attach (the first memory hook of a limited process): opens the ledger and claims a
//      process slot.
// Teardown (library destructor) releases the slot; hooks called afterwards pass straight
// through.
//
// Thread safety: every function may be called from any thread at any time.
#pragma once

#include <stdint.h>

#include <atomic>

#include "softslice/interceptor/config.h"
#include "softslice/interceptor/ledger.h"

namespace npushare::vnpu {

// Hooked or used runtime entry points, resolved lazily with dlsym(RTLD_NEXT) so that a runtime
// dlopen'ed after start is found on first use.
enum class Fn : uint8_t {
  kRtGetDevice,
  kRtMalloc,
  kRtMallocCached,
  kRtsMalloc,
  kRtMemAllocManaged,
  kRtMallocPhysical,
  kRtFree,
  kRtsFree,
  kRtMemFreeManaged,
  kRtFreePhysical,
  kRtMemGetInfoEx,
  kRtMemGetInfo,
  kRtSetDevice,
  kRtKernelLaunch,
  kRtKernelLaunchWithFlag,
  kRtKernelLaunchWithFlagV2,
  kRtKernelLaunchWithHandle,
  kRtKernelLaunchWithHandleV2,
  kRtLaunchKernelByFuncHandleV3,
  kRtCpuKernelLaunchWithFlag,
  kRtAicpuKernelLaunchWithFlag,
  kRtAicpuKernelLaunchExWithArgs,
  kRtModelExecute,
  kRtStreamSynchronize,
  kRtEventSynchronize,
  kRtDeviceSynchronize,
  // Used (not hooked) by the launch gate's event fences (fence_ring.h).
  kRtEventCreate,
  kRtEventCreateWithFlag,
  kRtEventRecord,
  kRtEventQueryStatus,
  kRtEventElapsedTime,
  kCount,
};

// The resolved real functions, indexed by Fn; nullptr until resolved (or while none is loaded).
// Read inline by RealFn so that a hooked call costs one load, not a call, once resolved.
extern constinit std::atomic<void*> g_real_fn[static_cast<size_t>(Fn::kCount)];

// ResolveRealFn: looks `fn` up (RTLD_NEXT, then a runtime loaded RTLD_LOCAL) and caches it.
void* ResolveRealFn(Fn fn);

// RealFn: the next definition of `fn` after libvnpu.so, or nullptr when none is loaded.
inline void* RealFn(Fn fn) {
  void* p = g_real_fn[static_cast<size_t>(fn)].load(std::memory_order_acquire);
  return p != nullptr ? p : ResolveRealFn(fn);
}

// Real: RealFn(fn) as a function pointer of type F, the real function's signature.
template <typename F>
F Real(Fn fn) {
  return reinterpret_cast<F>(RealFn(fn));
}

// FnName: the symbol name of `fn`.
const char* FnName(Fn fn);

// GlibcDlsym: glibc's dlsym, found with dlvsym so that our exported dlsym is skipped; nullptr
// if no known version exists.
using DlsymFn = void* (*)(void*, const char*);
DlsymFn GlibcDlsym();

// EnsureSetup: step 1 (idempotent). Returns the configuration.
const Config& EnsureSetup();

// AttachedLedger: the ledger with a claimed slot when this process is limited and attached
// (step 2 is done on first call), else nullptr (pass-through). *deny_limited is set when the
// process is limited but could not get a slot: allocations on limited devices must then fail.
Ledger* AttachedLedger(bool* deny_limited);

// Teardown: releases the slot; later hooks pass through.
void Teardown();

}  // namespace npushare::vnpu
