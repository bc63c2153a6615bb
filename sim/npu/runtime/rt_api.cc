// libruntime.so of npu-sim: the exported RTS C entry points (include/runtime/rt.h).
// Each body runs inside Api(), which maps a C++ exception to ACL_ERROR_RT_INTERNAL_ERROR so
// none crosses the C ABI, and resolves the process runtime (ACL_ERROR_RT_NO_DEVICE without a
// usable npu-sim state).
#include <cstdlib>
#include <cstring>

#include "runtime/rt.h"
#include "runtime/runtime.h"

namespace npushare::sim {
namespace {

template <typename F>
rtError_t Api(F&& f) {
  try {
    rtError_t err = RT_ERROR_NONE;
    Runtime* rt = Runtime::Get(&err);
    if (rt == nullptr) {
      return err;
    }
    return f(*rt);
  } catch (...) {
    return ACL_ERROR_RT_INTERNAL_ERROR;
  }
}

rtError_t AllocCommon(void** ptr, uint64_t size) {
  if (ptr == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) { return rt.Malloc(ptr, size); });
}

rtError_t LaunchStub(const void* stub, uint32_t num_blocks, rtStream_t stm) {
  return Api([&](Runtime& rt) { return rt.Launch(stm, rt.DescForStub(stub), num_blocks); });
}

// Process exit releases this process's device memory, as closing the device file would.
__attribute__((destructor)) void ReleaseAtExit() {
  try {
    // Only if the runtime was ever used; Get() would open the state at exit.
    Runtime* rt = Runtime::IfCreated();
    if (rt != nullptr) {
      rt->ReleaseProcessSlot();
    }
  } catch (...) {
  }
}

}  // namespace
}  // namespace npushare::sim

using npushare::sim::Api;
using npushare::sim::KernelDesc;
using npushare::sim::Runtime;

extern "C" {

rtError_t rtSetDevice(int32_t devId) {
  return Api([&](Runtime& rt) { return rt.SetDevice(devId); });
}

rtError_t rtGetDevice(int32_t* devId) {
  if (devId == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) { return rt.GetDevice(devId); });
}

rtError_t rtDeviceReset(int32_t devId) {
  return Api([&](Runtime& rt) { return rt.ResetDevice(devId); });
}

rtError_t rtGetDeviceCount(int32_t* cnt) {
  if (cnt == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) { return rt.DeviceCount(cnt); });
}

rtError_t rtDeviceSynchronize(void) {
  return Api([&](Runtime& rt) { return rt.SynchronizeDevice(); });
}

rtError_t rtMalloc(void** devPtr, uint64_t size, rtMemType_t, const uint16_t) {
  return npushare::sim::AllocCommon(devPtr, size);
}

rtError_t rtMallocCached(void** devPtr, uint64_t size, rtMemType_t, const uint16_t) {
  return npushare::sim::AllocCommon(devPtr, size);
}

rtError_t rtsMalloc(void** devPtr, uint64_t size, rtMallocPolicy, rtMallocAdvise,
                    rtMallocConfig_t*) {
  return npushare::sim::AllocCommon(devPtr, size);
}

rtError_t rtMemAllocManaged(void** ptr, uint64_t size, uint32_t, const uint16_t) {
  return npushare::sim::AllocCommon(ptr, size);
}

rtError_t rtFree(void* devPtr) {
  if (devPtr == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) { return rt.Free(devPtr); });
}

rtError_t rtsFree(void* devPtr) {
  return rtFree(devPtr);
}

rtError_t rtMemFreeManaged(void* ptr) {
  return rtFree(ptr);
}

rtError_t rtMallocHost(void** hostPtr, uint64_t size, const uint16_t) {
  if (hostPtr == nullptr || size == 0) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  void* p = std::malloc(size);
  if (p == nullptr) {
    return ACL_ERROR_RT_MEMORY_ALLOCATION;
  }
  *hostPtr = p;
  return RT_ERROR_NONE;
}

rtError_t rtFreeHost(void* hostPtr) {
  if (hostPtr == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  std::free(hostPtr);
  return RT_ERROR_NONE;
}

rtError_t rtMemGetInfoEx(rtMemInfoType_t memInfoType, size_t* freeSize, size_t* totalSize) {
  if (freeSize == nullptr || totalSize == nullptr ||
      static_cast<uint32_t>(memInfoType) >= RT_MEMORYINFO_MAX_TYPE) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) { return rt.MemInfo(freeSize, totalSize); });
}

rtError_t rtMemGetInfo(size_t* freeSize, size_t* totalSize) {
  return rtMemGetInfoEx(RT_MEMORYINFO_HBM, freeSize, totalSize);
}

rtError_t rtMemcpy(void* dst, uint64_t destMax, const void* src, uint64_t cnt,
                   rtMemcpyKind_t kind) {
  if (dst == nullptr || src == nullptr || cnt > destMax ||
      static_cast<uint32_t>(kind) > RT_MEMCPY_DEFAULT) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  std::memmove(dst, src, cnt);
  return RT_ERROR_NONE;
}

rtError_t rtMemcpyAsync(void* dst, uint64_t destMax, const void* src, uint64_t cnt,
                        rtMemcpyKind_t kind, rtStream_t stm) {
  if (dst == nullptr || src == nullptr || cnt > destMax ||
      static_cast<uint32_t>(kind) > RT_MEMCPY_DEFAULT) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) {
    npushare::sim::Stream* s = nullptr;
    rtError_t rc = rt.ResolveStream(stm, &s);
    if (rc == RT_ERROR_NONE) {
      npushare::sim::Task t;
      t.kind = npushare::sim::Task::Kind::kCopy;
      t.dst = dst;
      t.src = src;
      t.bytes = cnt;
      t.enqueue_ns = npushare::sim::MonotonicNs();
      s->Enqueue(t);
    }
    return rc;
  });
}

rtError_t rtMemset(void* devPtr, uint64_t destMax, uint32_t val, uint64_t cnt) {
  if (devPtr == nullptr || cnt > destMax) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  std::memset(devPtr, static_cast<int>(val), cnt);
  return RT_ERROR_NONE;
}

rtError_t rtMallocPhysical(rtDrvMemHandle* handle, size_t size, rtDrvMemProp_t*, uint64_t) {
  if (handle == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) { return rt.MallocPhysical(handle, size); });
}

rtError_t rtFreePhysical(rtDrvMemHandle handle) {
  return Api([&](Runtime& rt) { return rt.FreePhysical(handle); });
}

rtError_t rtReserveMemAddress(void** devPtr, size_t size, size_t, void*, uint64_t) {
  if (devPtr == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) { return rt.ReserveAddress(devPtr, size); });
}

rtError_t rtReleaseMemAddress(void* devPtr) {
  return Api([&](Runtime& rt) { return rt.ReleaseAddress(devPtr); });
}

rtError_t rtMapMem(void* devPtr, size_t size, size_t offset, rtDrvMemHandle handle, uint64_t) {
  return Api([&](Runtime& rt) { return rt.MapMem(devPtr, size, offset, handle); });
}

rtError_t rtUnmapMem(void* devPtr) {
  return Api([&](Runtime& rt) { return rt.UnmapMem(devPtr); });
}

rtError_t rtStreamCreate(rtStream_t* stm, int32_t) {
  if (stm == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) { return rt.CreateStream(stm); });
}

rtError_t rtStreamCreateWithFlags(rtStream_t* stm, int32_t priority, uint32_t) {
  return rtStreamCreate(stm, priority);
}

rtError_t rtStreamDestroy(rtStream_t stm) {
  return Api([&](Runtime& rt) { return rt.DestroyStream(stm); });
}

rtError_t rtStreamSynchronize(rtStream_t stm) {
  return Api([&](Runtime& rt) {
    npushare::sim::Stream* s = nullptr;
    rtError_t rc = rt.ResolveStream(stm, &s);
    if (rc == RT_ERROR_NONE) {
      s->Synchronize();
    }
    return rc;
  });
}

static npushare::sim::Event* AsEvent(rtEvent_t evt) {
  auto* e = static_cast<npushare::sim::Event*>(evt);
  return (e != nullptr && e->Valid()) ? e : nullptr;
}

rtError_t rtStreamWaitEvent(rtStream_t stm, rtEvent_t evt) {
  npushare::sim::Event* e = AsEvent(evt);
  if (e == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) {
    npushare::sim::Stream* s = nullptr;
    rtError_t rc = rt.ResolveStream(stm, &s);
    uint64_t gen = e->Latest();
    if (rc == RT_ERROR_NONE && gen > 0) {
      npushare::sim::Task t;
      t.kind = npushare::sim::Task::Kind::kWait;
      t.event = e;
      t.gen = gen;
      t.enqueue_ns = npushare::sim::MonotonicNs();
      s->Enqueue(t);
    }
    return rc;
  });
}

rtError_t rtStreamGetCaptureInfo(rtStream_t stm, rtStreamCaptureStatus* const status,
                                 rtModel_t* captureMdl) {
  if (status == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) {
    npushare::sim::Stream* s = nullptr;
    rtError_t rc = rt.ResolveStream(stm, &s);
    if (rc == RT_ERROR_NONE) {
      *status = RT_STREAM_CAPTURE_STATUS_NONE;  // graph capture is not simulated
      if (captureMdl != nullptr) {
        *captureMdl = nullptr;
      }
    }
    return rc;
  });
}

// Events are plain heap objects owned by the caller through the handle (validated by magic).
rtError_t rtEventCreate(rtEvent_t* evt) {
  if (evt == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  try {
    *evt = new npushare::sim::Event();
    return RT_ERROR_NONE;
  } catch (...) {
    return ACL_ERROR_RT_INTERNAL_ERROR;
  }
}

rtError_t rtEventCreateWithFlag(rtEvent_t* evt, uint32_t) {
  return rtEventCreate(evt);
}

rtError_t rtEventDestroy(rtEvent_t evt) {
  npushare::sim::Event* e = AsEvent(evt);
  if (e == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  // A record still queued on a stream would touch the event; wait for it first.
  e->WaitFor(e->Latest());
  e->Invalidate();
  delete e;
  return RT_ERROR_NONE;
}

rtError_t rtEventRecord(rtEvent_t evt, rtStream_t stm) {
  npushare::sim::Event* e = AsEvent(evt);
  if (e == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) {
    npushare::sim::Stream* s = nullptr;
    rtError_t rc = rt.ResolveStream(stm, &s);
    if (rc == RT_ERROR_NONE) {
      npushare::sim::Task t;
      t.kind = npushare::sim::Task::Kind::kRecord;
      t.event = e;
      t.gen = e->BeginRecord();
      t.enqueue_ns = npushare::sim::MonotonicNs();
      s->Enqueue(t);
    }
    return rc;
  });
}

rtError_t rtEventSynchronize(rtEvent_t evt) {
  npushare::sim::Event* e = AsEvent(evt);
  if (e == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  e->WaitFor(e->Latest());
  return RT_ERROR_NONE;
}

rtError_t rtEventQueryStatus(rtEvent_t evt, rtEventStatus_t* status) {
  npushare::sim::Event* e = AsEvent(evt);
  if (e == nullptr || status == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  uint64_t t = 0;
  *status = e->CompletedTime(&t) ? RT_EVENT_RECORDED : RT_EVENT_INIT;
  return RT_ERROR_NONE;
}

rtError_t rtEventElapsedTime(float* timeInterval, rtEvent_t startEvent, rtEvent_t endEvent) {
  npushare::sim::Event* a = AsEvent(startEvent);
  npushare::sim::Event* b = AsEvent(endEvent);
  uint64_t ta = 0;
  uint64_t tb = 0;
  if (timeInterval == nullptr || a == nullptr || b == nullptr || !a->CompletedTime(&ta) ||
      !b->CompletedTime(&tb)) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  double ms = (static_cast<double>(tb) - static_cast<double>(ta)) / 1e6;
  *timeInterval = static_cast<float>(ms);
  return RT_ERROR_NONE;
}

rtError_t rtsBinaryLoadFromData(const void* data, uint64_t length, const rtBinaryLoadOption_t*,
                                rtBinHandle* binHandle) {
  if (binHandle == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) { return rt.LoadBinary(data, length, binHandle); });
}

rtError_t rtsBinaryUnload(rtBinHandle binHandle) {
  return Api([&](Runtime& rt) { return rt.UnloadBinary(binHandle); });
}

rtError_t rtsFuncGetByName(rtBinHandle binHandle, const char* kernelName,
                           rtFuncHandle* funcHandle) {
  if (funcHandle == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  return Api([&](Runtime& rt) { return rt.GetFunction(binHandle, kernelName, funcHandle); });
}

rtError_t rtFunctionRegister(void* binHandle, const void* stubFunc, const char* stubName,
                             const void*, uint32_t) {
  return Api([&](Runtime& rt) { return rt.RegisterStub(binHandle, stubFunc, stubName); });
}

rtError_t rtKernelLaunch(const void* stubFunc, uint32_t numBlocks, void*, uint32_t, rtSmDesc_t*,
                         rtStream_t stm) {
  return npushare::sim::LaunchStub(stubFunc, numBlocks, stm);
}

rtError_t rtKernelLaunchWithFlag(const void* stubFunc, uint32_t numBlocks, rtArgsEx_t*, rtSmDesc_t*,
                                 rtStream_t stm, uint32_t) {
  return npushare::sim::LaunchStub(stubFunc, numBlocks, stm);
}

rtError_t rtKernelLaunchWithFlagV2(const void* stubFunc, uint32_t numBlocks, rtArgsEx_t*,
                                   rtSmDesc_t*, rtStream_t stm, uint32_t, const rtTaskCfgInfo_t*) {
  return npushare::sim::LaunchStub(stubFunc, numBlocks, stm);
}

rtError_t rtKernelLaunchWithHandle(void* hdl, const uint64_t, uint32_t numBlocks, rtArgsEx_t*,
                                   rtSmDesc_t*, rtStream_t stm, const void*) {
  return Api([&](Runtime& rt) { return rt.Launch(stm, rt.DescForBinary(hdl), numBlocks); });
}

rtError_t rtKernelLaunchWithHandleV2(void* hdl, const uint64_t, uint32_t numBlocks, rtArgsEx_t*,
                                     rtSmDesc_t*, rtStream_t stm, const rtTaskCfgInfo_t*) {
  return Api([&](Runtime& rt) { return rt.Launch(stm, rt.DescForBinary(hdl), numBlocks); });
}

rtError_t rtLaunchKernelByFuncHandleV3(rtFuncHandle funcHandle, uint32_t numBlocks,
                                       const rtArgsEx_t*, rtStream_t stm, const rtTaskCfgInfo_t*) {
  return Api([&](Runtime& rt) {
    KernelDesc desc;
    rtError_t rc = rt.DescForFunction(funcHandle, &desc);
    return rc != RT_ERROR_NONE ? rc : rt.Launch(stm, desc, numBlocks);
  });
}

// AI CPU kernels use no AI cores; they are modelled as 10 us on one core so they still show
// on the timeline.
rtError_t rtCpuKernelLaunchWithFlag(const void*, const void*, uint32_t numBlocks, const rtArgsEx_t*,
                                    rtSmDesc_t*, rtStream_t stm, uint32_t) {
  return Api([&](Runtime& rt) { return rt.Launch(stm, KernelDesc{10'000, 1}, numBlocks); });
}

rtError_t rtAicpuKernelLaunchWithFlag(const rtKernelLaunchNames_t*, uint32_t numBlocks,
                                      const rtArgsEx_t*, rtSmDesc_t*, rtStream_t stm, uint32_t) {
  return Api([&](Runtime& rt) { return rt.Launch(stm, KernelDesc{10'000, 1}, numBlocks); });
}

rtError_t rtAicpuKernelLaunchExWithArgs(const uint32_t, const char* const, const uint32_t numBlocks,
                                        const rtAicpuArgsEx_t*, rtSmDesc_t* const,
                                        const rtStream_t stm, const uint32_t) {
  return Api([&](Runtime& rt) { return rt.Launch(stm, KernelDesc{10'000, 1}, numBlocks); });
}

// A model execution is modelled as one 1 ms kernel on all cores of the device.
rtError_t rtModelExecute(rtModel_t, rtStream_t stm, uint32_t) {
  return Api([&](Runtime& rt) {
    return rt.Launch(stm, KernelDesc{1'000'000, NPUSIM_MAX_CORES}, 1);
  });
}

}  // extern "C"
