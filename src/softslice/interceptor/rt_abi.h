// File: softslice/interceptor/rt_abi.h
//
// The slice of the RTS C ABI (libruntime.so, ascend-abi.md §3.4) that libvnpu.so intercepts,
// written from the ABI note as function-pointer types so that the interceptor depends on no
// runtime header: it must load next to real CANN as well as npu-sim. The hooks in
// memory_hooks.cc define extern "C" functions of exactly these types; rt_abi_test compares every
// type with npu-sim's rt.h, so a signature that drifts fails to build.
#pragma once

#include <stddef.h>
#include <stdint.h>

// Opaque runtime structs, at global scope as in the C headers (only pointers are passed).
struct rtMallocConfig;
struct rtDrvMemProp;

namespace npushare::vnpu {

using RtError = int32_t;    // rtError_t
using RtMemInfoType = int;  // rtMemInfoType_t: a C enum, int-sized on LP64

using RtGetDeviceFn = RtError (*)(int32_t* dev_id);
using RtMallocFn = RtError (*)(void** dev_ptr, uint64_t size, uint32_t type, uint16_t module_id);
using RtsMallocFn = RtError (*)(void** dev_ptr, uint64_t size, uint32_t policy, uint32_t advise,
                                ::rtMallocConfig* cfg);
using RtMemAllocManagedFn = RtError (*)(void** ptr, uint64_t size, uint32_t flag,
                                        uint16_t module_id);
using RtFreeFn = RtError (*)(void* dev_ptr);
using RtMallocPhysicalFn = RtError (*)(void** handle, size_t size, ::rtDrvMemProp* prop,
                                       uint64_t flags);
using RtMemGetInfoFn = RtError (*)(size_t* free_size, size_t* total_size);

// External runtime codes (ascend-abi.md §3.1) that the hooks return.
inline constexpr RtError kRtSuccess = 0;
inline constexpr RtError kRtParamInvalid = 107000;
inline constexpr RtError kRtMemoryAllocation = 207001;  // what real rtMalloc returns on OOM
inline constexpr RtError kRtInternalError = 507000;

// rtDrvMemProp_t's leading fields (ascend-abi.md §3.4): only devid is read.
struct DrvMemPropPrefix {
  uint32_t side;
  uint32_t devid;
};

}  // namespace npushare::vnpu
