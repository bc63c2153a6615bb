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
using npushare::vnpu::kRtInternalError;
using npushare::vnpu::Real;
using npushare::vnpu::RtError;

namespace {

// GatedCallSlow: GatedCall when the real function is not resolved yet or the gate's fast path
// said no. Out of line so that the fast path below saves no registers and tail-calls the real
// function.
template <typename... Args>
__attribute__((noinline)) RtError GatedCallSlow(Fn fn, void* stm, Args... args) {
  auto real = Real<RtError (*)(Args...)>(fn);
  if (real == nullptr) {
    return kRtInternalError;
  }
  npushare::vnpu::Gate(stm);
  return real(args...);
}

// GatedCall: passes the launch on `stm` through the gate, then calls the real `fn` with the
// hook's own arguments. The real function's type is deduced from those arguments, so it is the
// hook's signature by construction. Without a real function: the runtime's internal error.
template <typename... Args>
inline RtError GatedCall(Fn fn, void* stm, Args... args) {
  void* real = npushare::vnpu::g_real_fn[static_cast<size_t>(fn)].load(std::memory_order_acquire);
  if (real != nullptr && npushare::vnpu::GateFast(stm)) {
    return reinterpret_cast<RtError (*)(Args...)>(real)(args...);
  }
  return GatedCallSlow(fn, stm, args...);
}

// SyncedCall: calls the real synchronize `fn` inside a SyncScope (launch_gate.h).
template <typename... Args>
RtError SyncedCall(Fn fn, Args... args) {
  auto real = Real<RtError (*)(Args...)>(fn);
  if (real == nullptr) {
    return kRtInternalError;
  }
  npushare::vnpu::SyncScope scope = npushare::vnpu::SyncBegin();
  RtError rc = real(args...);
  npushare::vnpu::SyncEnd(scope);
  return rc;
}

}  // namespace

extern "C" {

RtError rtSetDevice(int32_t devId) {
  auto real = Real<RtError (*)(int32_t)>(Fn::kRtSetDevice);
  if (real == nullptr) {
    return kRtInternalError;
  }
  RtError rc = real(devId);
  if (rc == npushare::vnpu::kRtSuccess) {
    npushare::vnpu::SetThreadDevice(devId);
  }
  return rc;
}

RtError rtKernelLaunch(const void* stubFunc, uint32_t numBlocks, void* args, uint32_t argsSize,
                       rtSmDesc* smDesc, void* stm) {
  return GatedCall(Fn::kRtKernelLaunch, stm, stubFunc, numBlocks, args, argsSize, smDesc, stm);
}

RtError rtKernelLaunchWithFlag(const void* stubFunc, uint32_t numBlocks, rtArgsEx* argsInfo,
                               rtSmDesc* smDesc, void* stm, uint32_t flags) {
  return GatedCall(Fn::kRtKernelLaunchWithFlag, stm, stubFunc, numBlocks, argsInfo, smDesc, stm,
                   flags);
}

RtError rtKernelLaunchWithFlagV2(const void* stubFunc, uint32_t numBlocks, rtArgsEx* argsInfo,
                                 rtSmDesc* smDesc, void* stm, uint32_t flags,
                                 const rtTaskCfgInfo* cfgInfo) {
  return GatedCall(Fn::kRtKernelLaunchWithFlagV2, stm, stubFunc, numBlocks, argsInfo, smDesc, stm,
                   flags, cfgInfo);
}

RtError rtKernelLaunchWithHandle(void* hdl, const uint64_t tilingKey, uint32_t numBlocks,
                                 rtArgsEx* argsInfo, rtSmDesc* smDesc, void* stm,
                                 const void* kernelInfo) {
  return GatedCall(Fn::kRtKernelLaunchWithHandle, stm, hdl, tilingKey, numBlocks, argsInfo, smDesc,
                   stm, kernelInfo);
}

RtError rtKernelLaunchWithHandleV2(void* hdl, const uint64_t tilingKey, uint32_t numBlocks,
                                   rtArgsEx* argsInfo, rtSmDesc* smDesc, void* stm,
                                   const rtTaskCfgInfo* cfgInfo) {
  return GatedCall(Fn::kRtKernelLaunchWithHandleV2, stm, hdl, tilingKey, numBlocks, argsInfo,
                   smDesc, stm, cfgInfo);
}

RtError rtLaunchKernelByFuncHandleV3(void* funcHandle, uint32_t numBlocks, const rtArgsEx* argsInfo,
                                     void* stm, const rtTaskCfgInfo* cfgInfo) {
  return GatedCall(Fn::kRtLaunchKernelByFuncHandleV3, stm, funcHandle, numBlocks, argsInfo, stm,
                   cfgInfo);
}

RtError rtCpuKernelLaunchWithFlag(const void* soName, const void* kernelName, uint32_t numBlocks,
                                  const rtArgsEx* argsInfo, rtSmDesc* smDesc, void* stm,
                                  uint32_t flags) {
  return GatedCall(Fn::kRtCpuKernelLaunchWithFlag, stm, soName, kernelName, numBlocks, argsInfo,
                   smDesc, stm, flags);
}

RtError rtAicpuKernelLaunchWithFlag(const rtKernelLaunchNames* launchNames, uint32_t numBlocks,
                                    const rtArgsEx* argsInfo, rtSmDesc* smDesc, void* stm,
                                    uint32_t flags) {
  return GatedCall(Fn::kRtAicpuKernelLaunchWithFlag, stm, launchNames, numBlocks, argsInfo, smDesc,
                   stm, flags);
}

RtError rtAicpuKernelLaunchExWithArgs(const uint32_t kernelType, const char* const opName,
                                      const uint32_t numBlocks, const rtAicpuArgsEx* argsInfo,
                                      rtSmDesc* const smDesc, void* const stm,
                                      const uint32_t flags) {
  return GatedCall(Fn::kRtAicpuKernelLaunchExWithArgs, stm, kernelType, opName, numBlocks, argsInfo,
                   smDesc, stm, flags);
}

RtError rtModelExecute(void* mdl, void* stm, uint32_t flag) {
  return GatedCall(Fn::kRtModelExecute, stm, mdl, stm, flag);
}

RtError rtStreamSynchronize(void* stm) {
  return SyncedCall(Fn::kRtStreamSynchronize, stm);
}

RtError rtEventSynchronize(void* evt) {
  return SyncedCall(Fn::kRtEventSynchronize, evt);
}

RtError rtDeviceSynchronize(void) {
  return SyncedCall(Fn::kRtDeviceSynchronize);
}

}  // extern "C"
