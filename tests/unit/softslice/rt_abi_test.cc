// The interceptor's own RTS declarations (rt_abi.h, hooks.h) match npu-sim's rt.h, which is
// written from the same ABI note: a drift in either fails this build.
#include "softslice/interceptor/rt_abi.h"

#include <gtest/gtest.h>

#include <type_traits>

#include "runtime/rt.h"

namespace npushare::vnpu {
namespace {

static_assert(std::is_same_v<decltype(&::rtGetDevice), RtGetDeviceFn>);
static_assert(std::is_same_v<decltype(&::rtMalloc), RtMallocFn>);
static_assert(std::is_same_v<decltype(&::rtMallocCached), RtMallocFn>);
static_assert(std::is_same_v<decltype(&::rtsMalloc), RtsMallocFn>);
static_assert(std::is_same_v<decltype(&::rtMemAllocManaged), RtMemAllocManagedFn>);
static_assert(std::is_same_v<decltype(&::rtFree), RtFreeFn>);
static_assert(std::is_same_v<decltype(&::rtsFree), RtFreeFn>);
static_assert(std::is_same_v<decltype(&::rtMemFreeManaged), RtFreeFn>);
static_assert(std::is_same_v<decltype(&::rtFreePhysical), RtFreeFn>);
static_assert(std::is_same_v<decltype(&::rtMallocPhysical), RtMallocPhysicalFn>);
static_assert(std::is_same_v<decltype(&::rtMemGetInfo), RtMemGetInfoFn>);
// rtMemGetInfoEx takes a C enum; the hook takes the int it is passed as on LP64.
static_assert(sizeof(rtMemInfoType_t) == sizeof(RtMemInfoType));
static_assert(offsetof(rtDrvMemProp_t, devid) == offsetof(DrvMemPropPrefix, devid));

TEST(VnpuRtAbiTest, ErrorCodesMatchTheRuntime) {
  EXPECT_EQ(kRtMemoryAllocation, ACL_ERROR_RT_MEMORY_ALLOCATION);
  EXPECT_EQ(kRtParamInvalid, ACL_ERROR_RT_PARAM_INVALID);
  EXPECT_EQ(kRtInternalError, ACL_ERROR_RT_INTERNAL_ERROR);
  EXPECT_EQ(kRtSuccess, RT_ERROR_NONE);
}

}  // namespace
}  // namespace npushare::vnpu
