/* File: sim/npu/include/runtime/rt_error_codes.h
 *
 * The external RTS error codes (ascend-abi.md §3.4) that both runtime/rt.h and acl/acl.h
 * return: RTS codes pass through ACL unchanged, so the two headers share this one list and
 * cannot disagree on a value (real CANN ships the same list for both, as rt_error_codes.h).
 */
#ifndef NPUSHARE_SIM_NPU_RUNTIME_RT_ERROR_CODES_H_
#define NPUSHARE_SIM_NPU_RUNTIME_RT_ERROR_CODES_H_

#define ACL_ERROR_RT_PARAM_INVALID 107000
#define ACL_ERROR_RT_INVALID_DEVICEID 107001
#define ACL_ERROR_RT_CONTEXT_NULL 107002
#define ACL_ERROR_RT_INVALID_HANDLE 107017
#define ACL_ERROR_RT_FEATURE_NOT_SUPPORT 207000
#define ACL_ERROR_RT_MEMORY_ALLOCATION 207001
#define ACL_ERROR_RT_MEMORY_FREE 207002
#define ACL_ERROR_RT_NO_DEVICE 207004
#define ACL_ERROR_RT_DEVICE_OOM 207018
#define ACL_ERROR_RT_INTERNAL_ERROR 507000
#define ACL_ERROR_RT_STREAM_SYNC_TIMEOUT 507046

#endif /* NPUSHARE_SIM_NPU_RUNTIME_RT_ERROR_CODES_H_ */
