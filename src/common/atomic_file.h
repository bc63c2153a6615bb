// File: common/atomic_file.h
//
// WriteFileAtomically: replaces a file so that readers see either the old or the new contents,
// never a mix or a truncated file, even if the writer dies half-way (a temporary file in the
// same directory, fsync, rename, fsync of the directory).
//
// Thread safety: safe to call concurrently for different paths; concurrent writers of one path
// each leave a complete file (the last rename wins).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace npushare {

// WriteFileAtomically: writes `content` to `path` with permission bits `mode` (not subject to
// the umask). A symlink at `path` is replaced, never followed.
// Errors: those of FileSystemError (common/fs_error.h) for the failing system call, e.g.
// kNotFound when the directory does not exist, kPermissionDenied when it is not writable,
// kResourceExhausted when the disk is full; the message names the call and errno. On error
// `path` is unchanged and no temporary file is left behind.
Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode);

}  // namespace npushare
