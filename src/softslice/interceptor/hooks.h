// File: softslice/interceptor/hooks.h
//
// The exported entry points of libvnpu.so: the hooked RTS functions (memory_hooks.cc, with the
// types of rt_abi.h), dlsym and dlvsym
// (dlsym_hook.cc) and the vnpu_ introspection API (vnpu_api.cc).
// Declared here so that the dlsym hook can map names to our definitions.
#pragma once

#include <stddef.h>
#include <stdint.h>

#define VNPU_EXPORT __attribute__((visibility("default")))

extern "C" {

VNPU_EXPORT int32_t rtMalloc(void** devPtr, uint64_t size, uint32_t type, uint16_t moduleId);
VNPU_EXPORT int32_t rtMallocCached(void** devPtr, uint64_t size, uint32_t type, uint16_t moduleId);
VNPU_EXPORT int32_t rtsMalloc(void** devPtr, uint64_t size, uint32_t policy, uint32_t advise,
                              struct rtMallocConfig* cfg);
VNPU_EXPORT int32_t rtMemAllocManaged(void** ptr, uint64_t size, uint32_t flag, uint16_t moduleId);
VNPU_EXPORT int32_t rtMallocPhysical(void** handle, size_t size, struct rtDrvMemProp* prop,
                                     uint64_t flags);
VNPU_EXPORT int32_t rtFree(void* devPtr);
VNPU_EXPORT int32_t rtsFree(void* devPtr);
VNPU_EXPORT int32_t rtMemFreeManaged(void* ptr);
VNPU_EXPORT int32_t rtFreePhysical(void* handle);
VNPU_EXPORT int32_t rtMemGetInfoEx(int memInfoType, size_t* freeSize, size_t* totalSize);
VNPU_EXPORT int32_t rtMemGetInfo(size_t* freeSize, size_t* totalSize);

struct rtSmDesc;
struct rtArgsEx;
struct rtTaskCfgInfo;
struct rtKernelLaunchNames;
struct rtAicpuArgsEx;

VNPU_EXPORT int32_t rtSetDevice(int32_t devId);
VNPU_EXPORT int32_t rtKernelLaunch(const void* stubFunc, uint32_t numBlocks, void* args,
                                   uint32_t argsSize, rtSmDesc* smDesc, void* stm);
VNPU_EXPORT int32_t rtKernelLaunchWithFlag(const void* stubFunc, uint32_t numBlocks,
                                           rtArgsEx* argsInfo, rtSmDesc* smDesc, void* stm,
                                           uint32_t flags);
VNPU_EXPORT int32_t rtKernelLaunchWithFlagV2(const void* stubFunc, uint32_t numBlocks,
                                             rtArgsEx* argsInfo, rtSmDesc* smDesc, void* stm,
                                             uint32_t flags, const rtTaskCfgInfo* cfgInfo);
VNPU_EXPORT int32_t rtKernelLaunchWithHandle(void* hdl, const uint64_t tilingKey,
                                             uint32_t numBlocks, rtArgsEx* argsInfo,
                                             rtSmDesc* smDesc, void* stm, const void* kernelInfo);
VNPU_EXPORT int32_t rtKernelLaunchWithHandleV2(void* hdl, const uint64_t tilingKey,
                                               uint32_t numBlocks, rtArgsEx* argsInfo,
                                               rtSmDesc* smDesc, void* stm,
                                               const rtTaskCfgInfo* cfgInfo);
VNPU_EXPORT int32_t rtLaunchKernelByFuncHandleV3(void* funcHandle, uint32_t numBlocks,
                                                 const rtArgsEx* argsInfo, void* stm,
                                                 const rtTaskCfgInfo* cfgInfo);
VNPU_EXPORT int32_t rtCpuKernelLaunchWithFlag(const void* soName, const void* kernelName,
                                              uint32_t numBlocks, const rtArgsEx* argsInfo,
                                              rtSmDesc* smDesc, void* stm, uint32_t flags);
VNPU_EXPORT int32_t rtAicpuKernelLaunchWithFlag(const rtKernelLaunchNames* launchNames,
                                                uint32_t numBlocks, const rtArgsEx* argsInfo,
                                                rtSmDesc* smDesc, void* stm, uint32_t flags);
VNPU_EXPORT int32_t rtAicpuKernelLaunchExWithArgs(
    const uint32_t kernelType, const char* const opName, const uint32_t numBlocks,
    const rtAicpuArgsEx* argsInfo, rtSmDesc* const smDesc, void* const stm, const uint32_t flags);
VNPU_EXPORT int32_t rtModelExecute(void* mdl, void* stm, uint32_t flag);
VNPU_EXPORT int32_t rtStreamSynchronize(void* stm);
VNPU_EXPORT int32_t rtEventSynchronize(void* evt);
VNPU_EXPORT int32_t rtDeviceSynchronize(void);

VNPU_EXPORT void* dlsym(void* handle, const char* name) noexcept;
VNPU_EXPORT void* dlvsym(void* handle, const char* name, const char* version) noexcept;

// vnpu_is_limited: 1 when this process runs under a memory quota or compute share, else 0.
VNPU_EXPORT int vnpu_is_limited(void);

// vnpu_memory_status: the container's view of logical device `dev`. Returns 0 and writes the
// quota (0 = unlimited), the bytes charged by all processes of the container and by this
// process; returns -1 (outputs untouched) when this process is not attached to a ledger or dev
// is out of range. Any output may be NULL.
VNPU_EXPORT int vnpu_memory_status(uint32_t dev, uint64_t* quota_bytes, uint64_t* container_used,
                                   uint64_t* process_used);

// vnpu_gate_status: 1 when launches are gated by a live arbiter, 0 when the gate is open
// (no arbiter, stale heartbeat, not adopted yet), -1 when no core share is configured.
VNPU_EXPORT int vnpu_gate_status(void);

// vnpu_reclaim_dead: reclaims the charges of dead processes now; returns how many, or -1 when
// not attached.
VNPU_EXPORT int vnpu_reclaim_dead(void);

}  // extern "C"
