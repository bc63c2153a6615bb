// File: hami/runtime_info.h
//
// huawei.com/<cw> (hami-protocol.md §3.4): a JSON array with one object per allocated
// device, flattened over containers in annotation order. Keys UUID, temp, memory, core,
// all omitempty. The scheduler writes it at Filter time; the device plugin reads it in
// Allocate to learn the template (legacy mode) or memory quota and priority (hami-core).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hami/types.h"

namespace npushare::hami {

inline constexpr size_t kMaxRuntimeInfoBytes = 1 << 20;
inline constexpr size_t kMaxRuntimeInfoEntries = 4096;
inline constexpr int kMaxRuntimeInfoDepth = 32;

// EncodeRuntimeInfo: exact bytes of the scheduler's json.Marshal: "UUID" if non-empty,
// "temp" if non-empty, "memory" if set and non-zero, "core" if set and non-zero.
// An empty list encodes as "[]".
std::string EncodeRuntimeInfo(const std::vector<RuntimeInfoEntry>& entries);

// DecodeRuntimeInfoLookup: the plugin's view of the annotation value `json` for chip
// `cw`: entries keyed by UUID, entries with an empty UUID dropped, the last duplicate
// wins; memory/core stay std::nullopt when absent or null. `null` decodes to an empty
// lookup. Errors (kInvalidArgument) read
//   "annotation huawei.com/<cw> value <json> invalid: <Go's JSON error>"
// (value echoed only up to 256 bytes), also for wrong types and numbers out of range
// (memory int64, core int32). Oversized input is rejected before parsing.
// The caller reports an absent annotation itself ("annotation huawei.com/<cw> not set").
Result<std::map<std::string, RuntimeInfoEntry>> DecodeRuntimeInfoLookup(std::string_view json,
                                                                        const std::string& cw);

// DecodeRuntimeInfoList: the same decoding (same errors), but every element in array order,
// entries with an empty UUID included: the k-th element belongs to the k-th device of the
// allocation flattened over containers, which lets the plugin look entries up per container
// instead of per UUID (hami-protocol.md §9.10). `null` decodes to an empty list.
Result<std::vector<RuntimeInfoEntry>> DecodeRuntimeInfoList(std::string_view json,
                                                            const std::string& cw);

}  // namespace npushare::hami
