// File: softslice/interceptor/launch_hooks.cc
//
// Every RTS kernel, AI-CPU and model launch entry point of ascend-abi.md §3.4 (a superset of
// hami-vnpu-core's five), plus rtSetDevice so that the gate knows each thread's device. Each
// hook passes the launch and its stream through the gate (launch_gate.h) and then calls the real
// function with the arguments unchanged. Opaque runtime structs are passed as pointers, so they are
// declared incomplete here.
#include <stdint.h>

#include "softslice/interceptor/hooks.h"
#include "softslice/interceptor/launch_gate.h"
#include "softslice/interceptor/process_state.h"
#include "softslice/interceptor/rt_abi.h"

using npushare::vnpu::Fn;
using npushare::vnpu::Gate;
using npushare::vnpu::kRtInternalError;
using npushare::vnpu::RealFn;
using npushare::vnpu::RtError;

namespace {

template <typename F>
F Real(Fn fn) {
  return reinterpret_cast<F>(RealFn(fn));
}

}  // namespace

// Resolves the real function `fn` of type F or returns the runtime's internal error.
#define VNPU_REAL_OR_FAIL(F, fn) \
  auto real = Real<F>(fn);       \
  if (real == nullptr) {         \
    return kRtInternalError;     \
  }

extern "C" {

RtError rtSetDevice(int32_t devId) {
  VNPU_REAL_OR_FAIL(RtError(*)(int32_t), Fn::kRtSetDevice);
  RtError rc = real(devId);
  if (rc == npushare::vnpu::kRtSuccess) {
    npushare::vnpu::SetThreadDevice(devId);
  }
  return rc;
}

RtError rtKernelLaunch(const void* stubFunc, uint32_t numBlocks, void* args, uint32_t argsSize,
                       rtSmDesc* smDesc, void* stm) {
  using F = RtError (*)(const void*, uint32_t, void*, uint32_t, rtSmDesc*, void*);
  VNPU_REAL_OR_FAIL(F, Fn::kRtKernelLaunch);
  Gate(stm);
  return real(stubFunc, numBlocks, args, argsSize, smDesc, stm);
}

RtError rtKernelLaunchWithFlag(const void* stubFunc, uint32_t numBlocks, rtArgsEx* argsInfo,
                               rtSmDesc* smDesc, void* stm, uint32_t flags) {
  using F = RtError (*)(const void*, uint32_t, rtArgsEx*, rtSmDesc*, void*, uint32_t);
  VNPU_REAL_OR_FAIL(F, Fn::kRtKernelLaunchWithFlag);
  Gate(stm);
  return real(stubFunc, numBlocks, argsInfo, smDesc, stm, flags);
}

RtError rtKernelLaunchWithFlagV2(const void* stubFunc, uint32_t numBlocks, rtArgsEx* argsInfo,
                                 rtSmDesc* smDesc, void* stm, uint32_t flags,
                                 const rtTaskCfgInfo* cfgInfo) {
  using F = RtError (*)(const void*, uint32_t, rtArgsEx*, rtSmDesc*, void*, uint32_t,
                        const rtTaskCfgInfo*);
  VNPU_REAL_OR_FAIL(F, Fn::kRtKernelLaunchWithFlagV2);
  Gate(stm);
  return real(stubFunc, numBlocks, argsInfo, smDesc, stm, flags, cfgInfo);
}

RtError rtKernelLaunchWithHandle(void* hdl, const uint64_t tilingKey, uint32_t numBlocks,
                                 rtArgsEx* argsInfo, rtSmDesc* smDesc, void* stm,
                                 const void* kernelInfo) {
  using F = RtError (*)(void*, uint64_t, uint32_t, rtArgsEx*, rtSmDesc*, void*, const void*);
  VNPU_REAL_OR_FAIL(F, Fn::kRtKernelLaunchWithHandle);
  Gate(stm);
  return real(hdl, tilingKey, numBlocks, argsInfo, smDesc, stm, kernelInfo);
}

RtError rtKernelLaunchWithHandleV2(void* hdl, const uint64_t tilingKey, uint32_t numBlocks,
                                   rtArgsEx* argsInfo, rtSmDesc* smDesc, void* stm,
                                   const rtTaskCfgInfo* cfgInfo) {
  using F =
      RtError (*)(void*, uint64_t, uint32_t, rtArgsEx*, rtSmDesc*, void*, const rtTaskCfgInfo*);
  VNPU_REAL_OR_FAIL(F, Fn::kRtKernelLaunchWithHandleV2);
  Gate(stm);
  return real(hdl, tilingKey, numBlocks, argsInfo, smDesc, stm, cfgInfo);
}

RtError rtLaunchKernelByFuncHandleV3(void* funcHandle, uint32_t numBlocks, const rtArgsEx* argsInfo,
                                     void* stm, const rtTaskCfgInfo* cfgInfo) {
  using F = RtError (*)(void*, uint32_t, const rtArgsEx*, void*, const rtTaskCfgInfo*);
  VNPU_REAL_OR_FAIL(F, Fn::kRtLaunchKernelByFuncHandleV3);
  Gate(stm);
  return real(funcHandle, numBlocks, argsInfo, stm, cfgInfo);
}

RtError rtCpuKernelLaunchWithFlag(const void* soName, const void* kernelName, uint32_t numBlocks,
                                  const rtArgsEx* argsInfo, rtSmDesc* smDesc, void* stm,
                                  uint32_t flags) {
  using F =
      RtError (*)(const void*, const void*, uint32_t, const rtArgsEx*, rtSmDesc*, void*, uint32_t);
  VNPU_REAL_OR_FAIL(F, Fn::kRtCpuKernelLaunchWithFlag);
  Gate(stm);
  return real(soName, kernelName, numBlocks, argsInfo, smDesc, stm, flags);
}

RtError rtAicpuKernelLaunchWithFlag(const rtKernelLaunchNames* launchNames, uint32_t numBlocks,
                                    const rtArgsEx* argsInfo, rtSmDesc* smDesc, void* stm,
                                    uint32_t flags) {
  using F = RtError (*)(const rtKernelLaunchNames*, uint32_t, const rtArgsEx*, rtSmDesc*, void*,
                        uint32_t);
  VNPU_REAL_OR_FAIL(F, Fn::kRtAicpuKernelLaunchWithFlag);
  Gate(stm);
  return real(launchNames, numBlocks, argsInfo, smDesc, stm, flags);
}

RtError rtAicpuKernelLaunchExWithArgs(const uint32_t kernelType, const char* const opName,
                                      const uint32_t numBlocks, const rtAicpuArgsEx* argsInfo,
                                      rtSmDesc* const smDesc, void* const stm,
                                      const uint32_t flags) {
  using F = RtError (*)(uint32_t, const char*, uint32_t, const rtAicpuArgsEx*, rtSmDesc*, void*,
                        uint32_t);
  VNPU_REAL_OR_FAIL(F, Fn::kRtAicpuKernelLaunchExWithArgs);
  Gate(stm);
  return real(kernelType, opName, numBlocks, argsInfo, smDesc, stm, flags);
}

RtError rtModelExecute(void* mdl, void* stm, uint32_t flag) {
  using F = RtError (*)(void*, void*, uint32_t);
  VNPU_REAL_OR_FAIL(F, Fn::kRtModelExecute);
  Gate(stm);
  return real(mdl, stm, flag);
}

}  // extern "C"

extern "C" {

RtError rtStreamSynchronize(void* stm) {
  VNPU_REAL_OR_FAIL(RtError(*)(void*), Fn::kRtStreamSynchronize);
  npushare::vnpu::SyncScope scope = npushare::vnpu::SyncBegin();
  RtError rc = real(stm);
  npushare::vnpu::SyncEnd(scope);
  return rc;
}

RtError rtEventSynchronize(void* evt) {
  VNPU_REAL_OR_FAIL(RtError(*)(void*), Fn::kRtEventSynchronize);
  npushare::vnpu::SyncScope scope = npushare::vnpu::SyncBegin();
  RtError rc = real(evt);
  npushare::vnpu::SyncEnd(scope);
  return rc;
}

RtError rtDeviceSynchronize(void) {
  VNPU_REAL_OR_FAIL(RtError(*)(void), Fn::kRtDeviceSynchronize);
  npushare::vnpu::SyncScope scope = npushare::vnpu::SyncBegin();
  RtError rc = real();
  npushare::vnpu::SyncEnd(scope);
  return rc;
}

}  // extern "C"
