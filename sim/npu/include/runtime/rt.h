/* File: sim/npu/include/runtime/rt.h
 *
 * The RTS C API (libruntime.so) that npu-sim implements, written from the prototypes in
 * ascend-abi.md §3.4 (not copied from CANN headers). ACL (libascendcl.so) calls these symbols
 * through the dynamic linker, so an LD_PRELOAD interceptor of rt* sees every ACL call.
 *
 * Conventions: every function returns RT_ERROR_NONE (0) or an external ACL_ERROR_RT_* code
 * (the values applications see on real hardware: 207001 on out-of-memory, 107001 for a bad
 * device id, ...). Out-parameters are written only on success. A thread must select a device
 * with rtSetDevice before allocating or launching (else ACL_ERROR_RT_CONTEXT_NULL).
 *
 * Simulated kernels (docs/npu-sim.md "Kernel descriptors"): a function handle obtained with
 * rtsFuncGetByName (ACL: aclrtBinaryGetFunction) for a kernel named "sim_<us>us[_<n>c]" runs
 * for <us> microseconds on <n> AI cores (default: numBlocks, capped at the device's cores).
 * Other names, registered stubs (rtFunctionRegister) and raw stub pointers use the binary's
 * descriptor "npusim:duration_us=<us>;cores=<n>" if the loaded data starts with it, else
 * 10 us on numBlocks cores.
 *
 * Thread safety: every function may be called from any thread; streams and events may be
 * shared between threads of one process.
 */
#ifndef NPUSHARE_SIM_NPU_RUNTIME_RT_H_
#define NPUSHARE_SIM_NPU_RUNTIME_RT_H_

#include <stddef.h>
#include <stdint.h>

#include "runtime/rt_error_codes.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(NPUSIM_BUILDING_RUNTIME)
#define RTS_API __attribute__((visibility("default")))
#else
#define RTS_API
#endif

typedef int32_t rtError_t;
typedef void* rtStream_t;
typedef void* rtEvent_t;
typedef void* rtModel_t;
typedef void* rtFuncHandle;
typedef void* rtBinHandle;
typedef void* rtDrvMemHandle;
typedef uint32_t rtMemType_t;
typedef uint32_t rtMallocPolicy;
typedef uint32_t rtMallocAdvise;
typedef struct rtMallocConfig rtMallocConfig_t;   /* opaque; ignored */
typedef struct rtSmDesc rtSmDesc_t;               /* opaque; ignored */
typedef struct rtTaskCfgInfo rtTaskCfgInfo_t;     /* opaque; ignored */
typedef struct rtHostInputInfo rtHostInputInfo_t; /* opaque; ignored */
typedef struct rtKernelLaunchNames rtKernelLaunchNames_t;
typedef struct rtAicpuArgsEx rtAicpuArgsEx_t;
typedef struct rtBinaryLoadOption rtBinaryLoadOption_t;

#define RT_ERROR_NONE 0

#define RT_MEMORY_DEFAULT 0x0u
#define RT_MEMORY_HBM 0x2u
#define RT_MEMORY_DDR 0x4u

typedef enum rtMemInfoType {
  RT_MEMORYINFO_DDR = 0,
  RT_MEMORYINFO_HBM = 1,
  RT_MEMORYINFO_DDR_HUGE = 2,
  RT_MEMORYINFO_DDR_NORMAL = 3,
  RT_MEMORYINFO_HBM_HUGE = 4,
  RT_MEMORYINFO_HBM_NORMAL = 5,
  RT_MEMORYINFO_MAX_TYPE = 18
} rtMemInfoType_t;

typedef enum rtMemcpyKind {
  RT_MEMCPY_HOST_TO_HOST = 0,
  RT_MEMCPY_HOST_TO_DEVICE = 1,
  RT_MEMCPY_DEVICE_TO_HOST = 2,
  RT_MEMCPY_DEVICE_TO_DEVICE = 3,
  RT_MEMCPY_DEFAULT = 4
} rtMemcpyKind_t;

typedef enum rtEventStatus { RT_EVENT_INIT = 0, RT_EVENT_RECORDED = 1 } rtEventStatus_t;

typedef enum rtStreamCaptureStatus {
  RT_STREAM_CAPTURE_STATUS_NONE = 0,
  RT_STREAM_CAPTURE_STATUS_ACTIVE = 1,
  RT_STREAM_CAPTURE_STATUS_INVALIDATED = 2
} rtStreamCaptureStatus;

typedef struct rtArgsEx {
  void* args;
  rtHostInputInfo_t* hostInputInfoPtr;
  uint32_t argsSize;
  uint32_t tilingAddrOffset;
  uint32_t tilingDataOffset;
  uint16_t hostInputInfoNum;
  uint8_t hasTiling;
  uint8_t isNoNeedH2DCopy;
  uint8_t reserved[4];
} rtArgsEx_t;

typedef struct rtDrvMemProp {
  uint32_t side;
  uint32_t devid;
  uint32_t module_id;
  uint32_t pg_type;
  uint32_t mem_type;
  uint64_t reserve;
} rtDrvMemProp_t;

/* Devices. */
RTS_API rtError_t rtSetDevice(int32_t devId);
RTS_API rtError_t rtGetDevice(int32_t* devId);
RTS_API rtError_t rtDeviceReset(int32_t devId);
RTS_API rtError_t rtGetDeviceCount(int32_t* cnt);
RTS_API rtError_t rtDeviceSynchronize(void);

/* Memory. Device memory is host memory (mmap) charged to the chip across processes. */
RTS_API rtError_t rtMalloc(void** devPtr, uint64_t size, rtMemType_t type, const uint16_t moduleId);
RTS_API rtError_t rtMallocCached(void** devPtr, uint64_t size, rtMemType_t type,
                                 const uint16_t moduleId);
RTS_API rtError_t rtsMalloc(void** devPtr, uint64_t size, rtMallocPolicy policy,
                            rtMallocAdvise advise, rtMallocConfig_t* cfg);
RTS_API rtError_t rtMemAllocManaged(void** ptr, uint64_t size, uint32_t flag,
                                    const uint16_t moduleId);
RTS_API rtError_t rtFree(void* devPtr);
RTS_API rtError_t rtsFree(void* devPtr);
RTS_API rtError_t rtMemFreeManaged(void* ptr);
RTS_API rtError_t rtMallocHost(void** hostPtr, uint64_t size, const uint16_t moduleId);
RTS_API rtError_t rtFreeHost(void* hostPtr);
RTS_API rtError_t rtMemGetInfoEx(rtMemInfoType_t memInfoType, size_t* freeSize, size_t* totalSize);
RTS_API rtError_t rtMemGetInfo(size_t* freeSize, size_t* totalSize);
RTS_API rtError_t rtMemcpy(void* dst, uint64_t destMax, const void* src, uint64_t cnt,
                           rtMemcpyKind_t kind);
RTS_API rtError_t rtMemcpyAsync(void* dst, uint64_t destMax, const void* src, uint64_t cnt,
                                rtMemcpyKind_t kind, rtStream_t stm);
RTS_API rtError_t rtMemset(void* devPtr, uint64_t destMax, uint32_t val, uint64_t cnt);
RTS_API rtError_t rtMallocPhysical(rtDrvMemHandle* handle, size_t size, rtDrvMemProp_t* prop,
                                   uint64_t flags);
RTS_API rtError_t rtFreePhysical(rtDrvMemHandle handle);
RTS_API rtError_t rtReserveMemAddress(void** devPtr, size_t size, size_t alignment, void* devAddr,
                                      uint64_t flags);
RTS_API rtError_t rtReleaseMemAddress(void* devPtr);
RTS_API rtError_t rtMapMem(void* devPtr, size_t size, size_t offset, rtDrvMemHandle handle,
                           uint64_t flags);
RTS_API rtError_t rtUnmapMem(void* devPtr);

/* Streams and events. */
RTS_API rtError_t rtStreamCreate(rtStream_t* stm, int32_t priority);
RTS_API rtError_t rtStreamCreateWithFlags(rtStream_t* stm, int32_t priority, uint32_t flags);
RTS_API rtError_t rtStreamDestroy(rtStream_t stm);
RTS_API rtError_t rtStreamSynchronize(rtStream_t stm);
RTS_API rtError_t rtStreamWaitEvent(rtStream_t stm, rtEvent_t evt);
RTS_API rtError_t rtStreamGetCaptureInfo(rtStream_t stm, rtStreamCaptureStatus* const status,
                                         rtModel_t* captureMdl);
RTS_API rtError_t rtEventCreate(rtEvent_t* evt);
RTS_API rtError_t rtEventCreateWithFlag(rtEvent_t* evt, uint32_t flag);
RTS_API rtError_t rtEventDestroy(rtEvent_t evt);
RTS_API rtError_t rtEventRecord(rtEvent_t evt, rtStream_t stm);
RTS_API rtError_t rtEventSynchronize(rtEvent_t evt);
/* *status: RT_EVENT_RECORDED once the recorded point has been reached, else RT_EVENT_INIT. */
RTS_API rtError_t rtEventQueryStatus(rtEvent_t evt, rtEventStatus_t* status);
/* Both events must have completed, else ACL_ERROR_RT_PARAM_INVALID. */
RTS_API rtError_t rtEventElapsedTime(float* timeInterval, rtEvent_t startEvent, rtEvent_t endEvent);

/* Kernels: registration and launch (all launch entries of ascend-abi.md §3.4). */
RTS_API rtError_t rtsBinaryLoadFromData(const void* data, uint64_t length,
                                        const rtBinaryLoadOption_t* optionalCfg,
                                        rtBinHandle* binHandle);
RTS_API rtError_t rtsBinaryUnload(rtBinHandle binHandle);
RTS_API rtError_t rtsFuncGetByName(rtBinHandle binHandle, const char* kernelName,
                                   rtFuncHandle* funcHandle);
RTS_API rtError_t rtFunctionRegister(void* binHandle, const void* stubFunc, const char* stubName,
                                     const void* kernelInfoExt, uint32_t funcMode);
RTS_API rtError_t rtKernelLaunch(const void* stubFunc, uint32_t numBlocks, void* args,
                                 uint32_t argsSize, rtSmDesc_t* smDesc, rtStream_t stm);
RTS_API rtError_t rtKernelLaunchWithFlag(const void* stubFunc, uint32_t numBlocks,
                                         rtArgsEx_t* argsInfo, rtSmDesc_t* smDesc, rtStream_t stm,
                                         uint32_t flags);
RTS_API rtError_t rtKernelLaunchWithFlagV2(const void* stubFunc, uint32_t numBlocks,
                                           rtArgsEx_t* argsInfo, rtSmDesc_t* smDesc, rtStream_t stm,
                                           uint32_t flags, const rtTaskCfgInfo_t* cfgInfo);
RTS_API rtError_t rtKernelLaunchWithHandle(void* hdl, const uint64_t tilingKey, uint32_t numBlocks,
                                           rtArgsEx_t* argsInfo, rtSmDesc_t* smDesc, rtStream_t stm,
                                           const void* kernelInfo);
RTS_API rtError_t rtKernelLaunchWithHandleV2(void* hdl, const uint64_t tilingKey,
                                             uint32_t numBlocks, rtArgsEx_t* argsInfo,
                                             rtSmDesc_t* smDesc, rtStream_t stm,
                                             const rtTaskCfgInfo_t* cfgInfo);
RTS_API rtError_t rtLaunchKernelByFuncHandleV3(rtFuncHandle funcHandle, uint32_t numBlocks,
                                               const rtArgsEx_t* argsInfo, rtStream_t stm,
                                               const rtTaskCfgInfo_t* cfgInfo);
RTS_API rtError_t rtCpuKernelLaunchWithFlag(const void* soName, const void* kernelName,
                                            uint32_t numBlocks, const rtArgsEx_t* argsInfo,
                                            rtSmDesc_t* smDesc, rtStream_t stm, uint32_t flags);
RTS_API rtError_t rtAicpuKernelLaunchWithFlag(const rtKernelLaunchNames_t* launchNames,
                                              uint32_t numBlocks, const rtArgsEx_t* argsInfo,
                                              rtSmDesc_t* smDesc, rtStream_t stm, uint32_t flags);
RTS_API rtError_t rtAicpuKernelLaunchExWithArgs(const uint32_t kernelType, const char* const opName,
                                                const uint32_t numBlocks,
                                                const rtAicpuArgsEx_t* argsInfo,
                                                rtSmDesc_t* const smDesc, const rtStream_t stm,
                                                const uint32_t flags);
RTS_API rtError_t rtModelExecute(rtModel_t mdl, rtStream_t stm, uint32_t flag);

#ifdef __cplusplus
}
#endif

#endif /* NPUSHARE_SIM_NPU_RUNTIME_RT_H_ */
