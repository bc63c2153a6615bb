// File: softslice/interceptor/memory_hooks.cc
//
// The RTS memory entry points of ascend-abi.md §3.4 that allocate, free or report device
// memory. Every allocation on a limited device is reserved in the container ledger before the
// real allocator runs and released if it fails; the charged size is the size requested from
// RTS (what ACL passes, padding included). Unlimited devices, unconfigured processes and calls
// made after teardown go straight to the real function. Argument errors are left to the real
// runtime so that the application sees exactly the codes it would without libvnpu.
//
// Keys: device pointers are user-space addresses (bit 63 clear); physical-memory handles get
// bit 63 set so that they can never collide with a pointer in the allocation table.
#include <stddef.h>
#include <stdint.h>

#include "softslice/interceptor/hooks.h"
#include "softslice/interceptor/process_state.h"
#include "softslice/interceptor/rt_abi.h"

namespace npushare::vnpu {
namespace {

constexpr uint64_t kHandleTag = uint64_t{1} << 63;
constexpr uint64_t kSweepIntervalNs = 100'000'000;  // memory-info readers sweep at most 10/s

// CurrentDevice: the calling thread's device per the real runtime, or -1.
int32_t CurrentDevice() {
  auto get = Real<RtGetDeviceFn>(Fn::kRtGetDevice);
  int32_t dev = -1;
  if (get == nullptr || get(&dev) != kRtSuccess) {
    return -1;
  }
  return dev;
}

// LimitedDevice: true when allocations on `dev` must be charged to `ledger`.
bool LimitedDevice(const Ledger* ledger, int32_t dev) {
  return dev >= 0 && static_cast<uint32_t>(dev) < VNPU_MAX_DEVICES &&
         ledger->Quota(static_cast<uint32_t>(dev)) != 0;
}

// ChargedAlloc: the common allocation path. `call` performs the real allocation and writes
// the new pointer/handle to *out; `release` frees it again. `dev` < 0 means the current device.
template <typename Call, typename Release>
RtError ChargedAlloc(void** out, uint64_t size, int32_t dev, uint64_t tag, Call call,
                     Release release) {
  bool deny = false;
  Ledger* ledger = AttachedLedger(&deny);
  if ((ledger == nullptr && !deny) || out == nullptr) {
    return call();
  }
  if (dev < 0) {
    dev = CurrentDevice();
  }
  if (deny) {
    const Config& cfg = EnsureSetup();
    bool limited =
        dev >= 0 && static_cast<uint32_t>(dev) < VNPU_MAX_DEVICES && cfg.mem_quota_bytes[dev] != 0;
    return limited ? kRtMemoryAllocation : call();
  }
  if (!LimitedDevice(ledger, dev)) {
    return call();
  }
  uint32_t d = static_cast<uint32_t>(dev);
  if (ledger->Reserve(d, size) != LedgerError::kOk) {
    return kRtMemoryAllocation;
  }
  void* previous = *out;
  RtError rc = call();
  if (rc != kRtSuccess) {
    ledger->Unreserve(d, size);
    return rc;
  }
  uint64_t key = reinterpret_cast<uint64_t>(*out) ^ tag;
  if (ledger->Record(key, d, size) != LedgerError::kOk) {
    // Untrackable: undo rather than let a later free leave the charge behind.
    release(*out);
    *out = previous;
    ledger->Unreserve(d, size);
    return kRtMemoryAllocation;
  }
  return rc;
}

// ChargedFree: the common free path; untracked keys pass through untouched.
template <typename Call>
RtError ChargedFree(uint64_t key, Call call) {
  bool deny = false;
  Ledger* ledger = AttachedLedger(&deny);
  uint32_t dev = 0;
  uint64_t bytes = 0;
  if (ledger == nullptr || ledger->Forget(key, &dev, &bytes) != LedgerError::kOk) {
    return call();
  }
  RtError rc = call();
  if (rc != kRtSuccess) {
    // The runtime kept the memory: keep the charge (best effort if the table filled up since).
    if (ledger->Record(key, dev, bytes) != LedgerError::kOk) {
      ledger->Unreserve(dev, bytes);
    }
    return rc;
  }
  ledger->Unreserve(dev, bytes);
  return rc;
}

// QuotaView: rewrites a successful memory-info answer to the container's view of the device.
void QuotaView(size_t* free_size, size_t* total_size) {
  bool deny = false;
  Ledger* ledger = AttachedLedger(&deny);
  if (ledger == nullptr) {
    return;
  }
  int32_t dev = CurrentDevice();
  if (!LimitedDevice(ledger, dev)) {
    return;
  }
  uint32_t d = static_cast<uint32_t>(dev);
  ledger->Sweep(kSweepIntervalNs);
  uint64_t quota = ledger->Quota(d);
  uint64_t used = ledger->Used(d);
  uint64_t avail = used >= quota ? 0 : quota - used;
  if (quota < *total_size) {
    *total_size = quota;
  }
  if (avail < *free_size) {
    *free_size = avail;
  }
}

}  // namespace
}  // namespace npushare::vnpu

using npushare::vnpu::Fn;
using npushare::vnpu::kRtInternalError;
using npushare::vnpu::Real;
using npushare::vnpu::RtError;

extern "C" {

RtError rtMalloc(void** devPtr, uint64_t size, uint32_t type, uint16_t moduleId) {
  auto real = Real<npushare::vnpu::RtMallocFn>(Fn::kRtMalloc);
  if (real == nullptr) {
    return kRtInternalError;
  }
  return npushare::vnpu::ChargedAlloc(
      devPtr, size, -1, 0, [&] { return real(devPtr, size, type, moduleId); },
      [](void* p) { Real<npushare::vnpu::RtFreeFn>(Fn::kRtFree)(p); });
}

RtError rtMallocCached(void** devPtr, uint64_t size, uint32_t type, uint16_t moduleId) {
  auto real = Real<npushare::vnpu::RtMallocFn>(Fn::kRtMallocCached);
  if (real == nullptr) {
    return kRtInternalError;
  }
  return npushare::vnpu::ChargedAlloc(
      devPtr, size, -1, 0, [&] { return real(devPtr, size, type, moduleId); },
      [](void* p) { Real<npushare::vnpu::RtFreeFn>(Fn::kRtFree)(p); });
}

RtError rtsMalloc(void** devPtr, uint64_t size, uint32_t policy, uint32_t advise,
                  struct rtMallocConfig* cfg) {
  auto real = Real<npushare::vnpu::RtsMallocFn>(Fn::kRtsMalloc);
  if (real == nullptr) {
    return kRtInternalError;
  }
  return npushare::vnpu::ChargedAlloc(
      devPtr, size, -1, 0, [&] { return real(devPtr, size, policy, advise, cfg); },
      [](void* p) { Real<npushare::vnpu::RtFreeFn>(Fn::kRtsFree)(p); });
}

RtError rtMemAllocManaged(void** ptr, uint64_t size, uint32_t flag, uint16_t moduleId) {
  auto real = Real<npushare::vnpu::RtMemAllocManagedFn>(Fn::kRtMemAllocManaged);
  if (real == nullptr) {
    return kRtInternalError;
  }
  return npushare::vnpu::ChargedAlloc(
      ptr, size, -1, 0, [&] { return real(ptr, size, flag, moduleId); },
      [](void* p) { Real<npushare::vnpu::RtFreeFn>(Fn::kRtMemFreeManaged)(p); });
}

RtError rtMallocPhysical(void** handle, size_t size, struct rtDrvMemProp* prop, uint64_t flags) {
  auto real = Real<npushare::vnpu::RtMallocPhysicalFn>(Fn::kRtMallocPhysical);
  if (real == nullptr) {
    return kRtInternalError;
  }
  // The property names the device; without one the runtime will refuse the call anyway.
  int32_t dev = -1;
  if (prop != nullptr) {
    dev = static_cast<int32_t>(reinterpret_cast<npushare::vnpu::DrvMemPropPrefix*>(prop)->devid);
  }
  if (prop == nullptr || dev < 0) {
    return real(handle, size, prop, flags);
  }
  return npushare::vnpu::ChargedAlloc(
      handle, size, dev, npushare::vnpu::kHandleTag,
      [&] { return real(handle, size, prop, flags); },
      [](void* h) { Real<npushare::vnpu::RtFreeFn>(Fn::kRtFreePhysical)(h); });
}

RtError rtFree(void* devPtr) {
  auto real = Real<npushare::vnpu::RtFreeFn>(Fn::kRtFree);
  if (real == nullptr) {
    return kRtInternalError;
  }
  return npushare::vnpu::ChargedFree(reinterpret_cast<uint64_t>(devPtr),
                                     [&] { return real(devPtr); });
}

RtError rtsFree(void* devPtr) {
  auto real = Real<npushare::vnpu::RtFreeFn>(Fn::kRtsFree);
  if (real == nullptr) {
    return kRtInternalError;
  }
  return npushare::vnpu::ChargedFree(reinterpret_cast<uint64_t>(devPtr),
                                     [&] { return real(devPtr); });
}

RtError rtMemFreeManaged(void* ptr) {
  auto real = Real<npushare::vnpu::RtFreeFn>(Fn::kRtMemFreeManaged);
  if (real == nullptr) {
    return kRtInternalError;
  }
  return npushare::vnpu::ChargedFree(reinterpret_cast<uint64_t>(ptr), [&] { return real(ptr); });
}

RtError rtFreePhysical(void* handle) {
  auto real = Real<npushare::vnpu::RtFreeFn>(Fn::kRtFreePhysical);
  if (real == nullptr) {
    return kRtInternalError;
  }
  return npushare::vnpu::ChargedFree(
      reinterpret_cast<uint64_t>(handle) ^ npushare::vnpu::kHandleTag,
      [&] { return real(handle); });
}

RtError rtMemGetInfoEx(int memInfoType, size_t* freeSize, size_t* totalSize) {
  using Fn3 = RtError (*)(int, size_t*, size_t*);
  auto real = Real<Fn3>(Fn::kRtMemGetInfoEx);
  if (real == nullptr) {
    return kRtInternalError;
  }
  RtError rc = real(memInfoType, freeSize, totalSize);
  if (rc == npushare::vnpu::kRtSuccess) {
    npushare::vnpu::QuotaView(freeSize, totalSize);
  }
  return rc;
}

RtError rtMemGetInfo(size_t* freeSize, size_t* totalSize) {
  auto real = Real<npushare::vnpu::RtMemGetInfoFn>(Fn::kRtMemGetInfo);
  if (real == nullptr) {
    return kRtInternalError;
  }
  RtError rc = real(freeSize, totalSize);
  if (rc == npushare::vnpu::kRtSuccess) {
    npushare::vnpu::QuotaView(freeSize, totalSize);
  }
  return rc;
}

}  // extern "C"
