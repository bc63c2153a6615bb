// libascendcl.so of npu-sim: ACL over RTS (ascend-abi.md §3.3). Every rt* call below is an
// ordinary undefined symbol resolved by the dynamic linker in libruntime.so, so a preloaded
// interceptor of rt* wins. No C++ exception can arise here (no allocation, no library that
// throws), so no guard is needed at this boundary.
#include <atomic>

#include "acl/acl.h"
#include "runtime/rt.h"

namespace {

std::atomic<bool> g_initialised{false};

// Padding rule of aclrtMalloc: round up to 32 bytes and add 32 (SoC padding_size).
constexpr size_t kAlign = 32;
bool PaddedSize(size_t size, bool pad, size_t* out) {
  if (size == 0 || size > SIZE_MAX - 2 * kAlign) {
    return false;
  }
  size_t rounded = (size + kAlign - 1) / kAlign * kAlign;
  *out = pad ? rounded + kAlign : rounded;
  return true;
}

// Policy -> RT_MEMORY_POLICY_* bits (HUGE_FIRST 0x400, HUGE_ONLY 0x800, NORMAL_ONLY 0x1000).
rtMemType_t PolicyBits(aclrtMemMallocPolicy policy) {
  switch (static_cast<uint32_t>(policy) & 0xFFu) {
    case ACL_MEM_MALLOC_HUGE_ONLY:
    case ACL_MEM_MALLOC_HUGE_ONLY_P2P:
      return RT_MEMORY_HBM | 0x800u;
    case ACL_MEM_MALLOC_NORMAL_ONLY:
    case ACL_MEM_MALLOC_NORMAL_ONLY_P2P:
      return RT_MEMORY_HBM | 0x1000u;
    default:
      return RT_MEMORY_HBM | 0x400u;
  }
}

constexpr uint16_t kAclModuleId = 3;

}  // namespace

extern "C" {

aclError aclInit(const char*) {
  if (g_initialised.exchange(true)) {
    return ACL_ERROR_REPEAT_INITIALIZE;
  }
  return ACL_SUCCESS;
}

aclError aclFinalize(void) {
  if (!g_initialised.exchange(false)) {
    return ACL_ERROR_UNINITIALIZE;
  }
  return ACL_SUCCESS;
}

aclError aclrtSetDevice(int32_t deviceId) {
  return rtSetDevice(deviceId);
}
aclError aclrtResetDevice(int32_t deviceId) {
  return rtDeviceReset(deviceId);
}
aclError aclrtGetDevice(int32_t* deviceId) {
  return rtGetDevice(deviceId);
}

aclError aclrtGetDeviceCount(uint32_t* count) {
  if (count == nullptr) {
    return ACL_ERROR_INVALID_PARAM;
  }
  int32_t n = 0;
  rtError_t rc = rtGetDeviceCount(&n);
  if (rc == RT_ERROR_NONE) {
    *count = static_cast<uint32_t>(n);
  }
  return rc;
}

aclError aclrtSynchronizeDevice(void) {
  return rtDeviceSynchronize();
}

aclError aclrtMalloc(void** devPtr, size_t size, aclrtMemMallocPolicy policy) {
  size_t aligned = 0;
  if (devPtr == nullptr || !PaddedSize(size, true, &aligned)) {
    return ACL_ERROR_INVALID_PARAM;
  }
  return rtMalloc(devPtr, aligned, PolicyBits(policy), kAclModuleId);
}

aclError aclrtMallocAlign32(void** devPtr, size_t size, aclrtMemMallocPolicy policy) {
  size_t aligned = 0;
  if (devPtr == nullptr || !PaddedSize(size, false, &aligned)) {
    return ACL_ERROR_INVALID_PARAM;
  }
  return rtMalloc(devPtr, aligned, PolicyBits(policy), kAclModuleId);
}

aclError aclrtMallocCached(void** devPtr, size_t size, aclrtMemMallocPolicy policy) {
  if (devPtr == nullptr || size == 0) {
    return ACL_ERROR_INVALID_PARAM;
  }
  return rtMallocCached(devPtr, size, PolicyBits(policy), kAclModuleId);
}

aclError aclrtMallocWithCfg(void** devPtr, size_t size, aclrtMemMallocPolicy policy,
                            aclrtMallocConfig*) {
  if (devPtr == nullptr || size == 0) {
    return ACL_ERROR_INVALID_PARAM;
  }
  return rtsMalloc(devPtr, size, static_cast<rtMallocPolicy>(policy), 0, nullptr);
}

aclError aclrtFree(void* devPtr) {
  if (devPtr == nullptr) {
    return ACL_ERROR_INVALID_PARAM;
  }
  return rtFree(devPtr);
}

aclError aclrtMallocHost(void** hostPtr, size_t size) {
  if (hostPtr == nullptr || size == 0) {
    return ACL_ERROR_INVALID_PARAM;
  }
  return rtMallocHost(hostPtr, size, kAclModuleId);
}

aclError aclrtFreeHost(void* hostPtr) {
  if (hostPtr == nullptr) {
    return ACL_ERROR_INVALID_PARAM;
  }
  return rtFreeHost(hostPtr);
}

aclError aclrtGetMemInfo(aclrtMemAttr attr, size_t* free, size_t* total) {
  if (free == nullptr || total == nullptr) {
    return ACL_ERROR_INVALID_PARAM;
  }
  return rtMemGetInfoEx(static_cast<rtMemInfoType_t>(attr), free, total);
}

aclError aclrtMemcpy(void* dst, size_t destMax, const void* src, size_t count,
                     aclrtMemcpyKind kind) {
  if (static_cast<uint32_t>(kind) > ACL_MEMCPY_INTER_DEVICE_TO_DEVICE) {
    return ACL_ERROR_INVALID_PARAM;
  }
  rtMemcpyKind_t k = static_cast<uint32_t>(kind) > ACL_MEMCPY_DEFAULT
                         ? RT_MEMCPY_DEVICE_TO_DEVICE
                         : static_cast<rtMemcpyKind_t>(kind);
  return rtMemcpy(dst, destMax, src, count, k);
}

aclError aclrtMemcpyAsync(void* dst, size_t destMax, const void* src, size_t count,
                          aclrtMemcpyKind kind, aclrtStream stream) {
  if (static_cast<uint32_t>(kind) > ACL_MEMCPY_INTER_DEVICE_TO_DEVICE) {
    return ACL_ERROR_INVALID_PARAM;
  }
  rtMemcpyKind_t k = static_cast<uint32_t>(kind) > ACL_MEMCPY_DEFAULT
                         ? RT_MEMCPY_DEVICE_TO_DEVICE
                         : static_cast<rtMemcpyKind_t>(kind);
  return rtMemcpyAsync(dst, destMax, src, count, k, stream);
}

aclError aclrtMemset(void* devPtr, size_t maxCount, int32_t value, size_t count) {
  return rtMemset(devPtr, maxCount, static_cast<uint32_t>(value), count);
}

aclError aclrtCreateStream(aclrtStream* stream) {
  return rtStreamCreate(stream, 0);
}
aclError aclrtDestroyStream(aclrtStream stream) {
  return rtStreamDestroy(stream);
}
aclError aclrtSynchronizeStream(aclrtStream stream) {
  return rtStreamSynchronize(stream);
}
aclError aclrtStreamWaitEvent(aclrtStream stream, aclrtEvent event) {
  return rtStreamWaitEvent(stream, event);
}
aclError aclrtCreateEvent(aclrtEvent* event) {
  return rtEventCreate(event);
}
aclError aclrtDestroyEvent(aclrtEvent event) {
  return rtEventDestroy(event);
}
aclError aclrtRecordEvent(aclrtEvent event, aclrtStream stream) {
  return rtEventRecord(event, stream);
}
aclError aclrtSynchronizeEvent(aclrtEvent event) {
  return rtEventSynchronize(event);
}

aclError aclrtQueryEventStatus(aclrtEvent event, aclrtEventRecordedStatus* status) {
  if (status == nullptr) {
    return ACL_ERROR_INVALID_PARAM;
  }
  rtEventStatus_t s = RT_EVENT_INIT;
  rtError_t rc = rtEventQueryStatus(event, &s);
  if (rc == RT_ERROR_NONE) {
    *status = s == RT_EVENT_RECORDED ? ACL_EVENT_RECORDED_STATUS_COMPLETE
                                     : ACL_EVENT_RECORDED_STATUS_NOT_READY;
  }
  return rc;
}

aclError aclrtEventElapsedTime(float* ms, aclrtEvent startEvent, aclrtEvent endEvent) {
  return rtEventElapsedTime(ms, startEvent, endEvent);
}

aclError aclrtBinaryLoadFromData(const void* data, size_t length, const aclrtBinaryLoadOptions*,
                                 aclrtBinHandle* binHandle) {
  return rtsBinaryLoadFromData(data, length, nullptr, binHandle);
}

aclError aclrtBinaryUnLoad(aclrtBinHandle binHandle) {
  return rtsBinaryUnload(binHandle);
}

aclError aclrtBinaryGetFunction(const aclrtBinHandle binHandle, const char* kernelName,
                                aclrtFuncHandle* funcHandle) {
  return rtsFuncGetByName(binHandle, kernelName, funcHandle);
}

aclError aclrtLaunchKernel(aclrtFuncHandle funcHandle, uint32_t numBlocks, const void* argsData,
                           size_t argsSize, aclrtStream stream) {
  if (argsSize > UINT32_MAX) {
    return ACL_ERROR_INVALID_PARAM;
  }
  rtArgsEx_t args{};
  args.args = const_cast<void*>(argsData);
  args.argsSize = static_cast<uint32_t>(argsSize);
  return rtLaunchKernelByFuncHandleV3(funcHandle, numBlocks, &args, stream, nullptr);
}

aclError aclrtReserveMemAddress(void** virPtr, size_t size, size_t alignment, void* expectPtr,
                                uint64_t flags) {
  return rtReserveMemAddress(virPtr, size, alignment, expectPtr, flags);
}

aclError aclrtReleaseMemAddress(void* virPtr) {
  return rtReleaseMemAddress(virPtr);
}

aclError aclrtMallocPhysical(aclrtDrvMemHandle* handle, size_t size,
                             const aclrtPhysicalMemProp* prop, uint64_t flags) {
  if (prop == nullptr) {
    return ACL_ERROR_INVALID_PARAM;
  }
  rtDrvMemProp_t p{};
  p.devid = prop->location.id;
  p.side = static_cast<uint32_t>(prop->location.type);
  p.mem_type = static_cast<uint32_t>(prop->memAttr);
  return rtMallocPhysical(handle, size, &p, flags);
}

aclError aclrtFreePhysical(aclrtDrvMemHandle handle) {
  return rtFreePhysical(handle);
}

aclError aclrtMapMem(void* virPtr, size_t size, size_t offset, aclrtDrvMemHandle handle,
                     uint64_t flags) {
  return rtMapMem(virPtr, size, offset, handle, flags);
}

aclError aclrtUnmapMem(void* virPtr) {
  return rtUnmapMem(virPtr);
}

}  // extern "C"
