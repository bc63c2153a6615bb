// File: common/fs_error.h
//
// The one place where an errno value becomes a Status (STYLE.md: "turn errno into a status in
// exactly one place"; after Abseil's ErrnoToStatus). Every system call failure in npushare is
// reported through FileSystemError, so the same errno always gives the same code:
//
//   errno                                               code
//   ENOENT ENODEV ENXIO ESRCH ENOMEDIUM                 kNotFound
//   EACCES EPERM EROFS                                  kPermissionDenied
//   EEXIST EALREADY                                     kAlreadyExists
//   EMFILE ENFILE ENOSPC EDQUOT ENOMEM ENOBUFS EMLINK   kResourceExhausted
//   ENOTDIR EISDIR ENOTEMPTY EBUSY EBADF ETXTBSY ELOOP  kFailedPrecondition
//     EADDRINUSE EISCONN ENOTCONN EPIPE ECHILD
//   EINVAL ENAMETOOLONG E2BIG EFAULT ENOTTY ESPIPE      kInvalidArgument
//     ENOTSOCK EILSEQ EDOM
//   ERANGE EOVERFLOW EFBIG                              kOutOfRange
//   ENOSYS EOPNOTSUPP/ENOTSUP EAFNOSUPPORT EXDEV        kUnimplemented
//     EPROTONOSUPPORT
//   EAGAIN/EWOULDBLOCK EINTR ECONNREFUSED ECONNRESET    kUnavailable
//     ECONNABORTED EHOSTUNREACH ENETUNREACH ENETDOWN
//     ENOLCK
//   ETIMEDOUT                                           kDeadlineExceeded
//   EDEADLK ESTALE                                      kAborted
//   ECANCELED                                           kCancelled
//   EIO                                                 kDataLoss
//   0 and anything else                                 kUnknown (0 is a caller bug: an
//                                                       error was reported without errno)
//
// Usage:
//   if (mkdir(path.c_str(), 0700) != 0) return FileSystemError(errno, "mkdir " + path);
//   // kNotFound "mkdir /x/y: No such file or directory"
//
// Read errno into a local first when building `what` could call into libc in between.
//
// Thread safety: pure functions (strerror_r is used, not strerror).
#pragma once

#include <string>

#include "common/status.h"

namespace npushare {

// ErrnoToStatusCode: the code for `err` in the table above.
StatusCode ErrnoToStatusCode(int err);

// FileSystemError: a system call failed with errno `err`. The code comes from
// ErrnoToStatusCode; the message is "`what`: <strerror(err)>". Also declared in
// common/status.h (for the callers that predate this header); this is its documentation.
Status FileSystemError(int err, const std::string& what);

}  // namespace npushare
