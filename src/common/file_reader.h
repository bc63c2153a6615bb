// File: common/file_reader.h
//
// ReadFileLimited: reads a whole regular file, refusing anything larger than
// `max_bytes` (configs and manifests are small; a multi-gigabyte "config" is a
// mistake or an attack, not something to slurp).
//
// Returns kOutOfRange when it exceeds max_bytes, kInvalidArgument for a directory or
// other non-regular file, and for a failing open/read the code of FileSystemError
// (common/fs_error.h): kNotFound when the file does not exist, kPermissionDenied when
// it may not be read, kResourceExhausted when out of file descriptors, ...
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"

namespace npushare {

Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes);

}  // namespace npushare
