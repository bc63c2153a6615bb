// File: compat/vector_limits.h
//
// Defensive reading of a HAMi vector file (shared/compat/hami-vectors.json schema) before any
// case reaches a handler. A vector file is external input: hami-compat must refuse a hostile
// one with a clear message rather than abort (a numeric `category`), allocate gigabytes
// (`devices_count: 1e9`) or run for minutes (`calls: 1e9`).
//
//   ParseVectorFile   the whole text: valid UTF-8, nesting at most kMaxVectorDepth, a JSON
//                     object with a "cases" array of at most kMaxVectorCases entries, an
//                     object "fixtures" when present. Own messages for invalid UTF-8 (with
//                     the byte offset) and for too-deep nesting.
//   ValidateVectorCase one case: an object; `id` and `category` strings of bounded length;
//                     `input`/`expected` objects when present; every string, array and
//                     object within the limits below; every number in `input` finite and
//                     within int32 range; count-like fields (kCountLimits), when numbers,
//                     non-negative integers no larger than their limit.
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(nlohmann::json doc, ParseVectorFile(text));
//   for (const auto& c : doc["cases"]) {
//     if (Status s = ValidateVectorCase(c); !s.ok()) { report(s); continue; }
//     ... c["id"], c["category"] are now strings ...
//   }
//
// Errors are kInvalidArgument; the message names the field (a JSON-pointer-like path).
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"

namespace npushare::compat {

// Limits, far above what the shared vectors use (depth 7, strings of 300 bytes, arrays of 8).
inline constexpr size_t kMaxVectorDepth = 64;
inline constexpr size_t kMaxVectorCases = 100000;
inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kMaxCategoryBytes = 64;
inline constexpr size_t kMaxStringBytes = 64 * 1024;
inline constexpr size_t kMaxContainerEntries = 4096;  // elements of one array / object
// kMaxCount: the largest loop count or repetition a case may ask for (devices_count, calls,
// containers, ...). Upstream's own tests use at most 8.
inline constexpr int64_t kMaxCount = 1024;

// FirstInvalidUtf8: the byte offset of the first byte that is not part of a well-formed
// UTF-8 sequence (overlongs, surrogates and code points above U+10FFFF are ill-formed), or
// `text.size()` when the whole text is valid.
size_t FirstInvalidUtf8(std::string_view text);

// MaxJsonNesting: the deepest array/object nesting in `text` (brackets inside strings do not
// count), stopping early once `limit` is exceeded; sets *offset to where that happened.
size_t MaxJsonNesting(std::string_view text, size_t limit, size_t* offset);

// ParseVectorFile: see the file comment. kInvalidArgument with a message naming the problem.
Result<nlohmann::json> ParseVectorFile(std::string_view text);

// ValidateVectorCase: see the file comment. OK when the case may be handed to a handler.
Status ValidateVectorCase(const nlohmann::json& test_case);

}  // namespace npushare::compat
