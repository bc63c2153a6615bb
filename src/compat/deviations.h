// File: compat/deviations.h
//
// Deliberate deviations from upstream HAMi, read from docs/compat.md. The
// document carries, besides prose, fenced blocks tagged `compat-deviation`
// holding one JSON object per line:
//
//   ```compat-deviation
//   {"id": "ma-bytes-001", "expected": {"found": false, "error": "..."}}
//   ```
//
// For a listed case id the runner compares against this `expected` instead of
// the vector file's.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace npushare::compat {

using DeviationTable = std::map<std::string, nlohmann::json, std::less<>>;

// ParseDeviations: kInvalidArgument naming the line when a block line is not a JSON object
// with a string "id" and an object "expected", or an id repeats.
Result<DeviationTable> ParseDeviations(std::string_view markdown);

}  // namespace npushare::compat
