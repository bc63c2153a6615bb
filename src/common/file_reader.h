// File: common/file_reader.h
//
// ReadFileLimited: reads a whole regular file, refusing anything larger than
// `max_bytes` (configs and manifests are small; a multi-gigabyte "config" is a
// mistake or an attack, not something to slurp).
//
// Returns kNotFound when the file does not exist, kPermissionDenied when it cannot
// be opened, kOutOfRange when it exceeds max_bytes, kInvalidArgument for a
// directory or other non-regular file.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"

namespace npushare {

Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes);

}  // namespace npushare
