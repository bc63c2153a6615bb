// Tests of the errno -> Status table (common/fs_error.h), one assertion per documented row,
// plus the message shape. Issue 14: EACCES is not "no such file", EMFILE is not "permission
// denied".
#include "common/fs_error.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace npushare {
namespace {

TEST(FsErrorTest, EveryDocumentedErrnoMapsToItsCode) {
  const std::vector<std::pair<int, StatusCode>> table = {
      {ENOENT, StatusCode::kNotFound},
      {ENODEV, StatusCode::kNotFound},
      {ENXIO, StatusCode::kNotFound},
      {ESRCH, StatusCode::kNotFound},
      {ENOMEDIUM, StatusCode::kNotFound},
      {EACCES, StatusCode::kPermissionDenied},
      {EPERM, StatusCode::kPermissionDenied},
      {EROFS, StatusCode::kPermissionDenied},
      {EEXIST, StatusCode::kAlreadyExists},
      {EALREADY, StatusCode::kAlreadyExists},
      {EMFILE, StatusCode::kResourceExhausted},
      {ENFILE, StatusCode::kResourceExhausted},
      {ENOSPC, StatusCode::kResourceExhausted},
      {EDQUOT, StatusCode::kResourceExhausted},
      {ENOMEM, StatusCode::kResourceExhausted},
      {ENOBUFS, StatusCode::kResourceExhausted},
      {EMLINK, StatusCode::kResourceExhausted},
      {ENOTDIR, StatusCode::kFailedPrecondition},
      {EISDIR, StatusCode::kFailedPrecondition},
      {ENOTEMPTY, StatusCode::kFailedPrecondition},
      {EBUSY, StatusCode::kFailedPrecondition},
      {EBADF, StatusCode::kFailedPrecondition},
      {ETXTBSY, StatusCode::kFailedPrecondition},
      {ELOOP, StatusCode::kFailedPrecondition},
      {EADDRINUSE, StatusCode::kFailedPrecondition},
      {EISCONN, StatusCode::kFailedPrecondition},
      {ENOTCONN, StatusCode::kFailedPrecondition},
      {EPIPE, StatusCode::kFailedPrecondition},
      {ECHILD, StatusCode::kFailedPrecondition},
      {EINVAL, StatusCode::kInvalidArgument},
      {ENAMETOOLONG, StatusCode::kInvalidArgument},
      {E2BIG, StatusCode::kInvalidArgument},
      {EFAULT, StatusCode::kInvalidArgument},
      {ENOTTY, StatusCode::kInvalidArgument},
      {ESPIPE, StatusCode::kInvalidArgument},
      {ENOTSOCK, StatusCode::kInvalidArgument},
      {EILSEQ, StatusCode::kInvalidArgument},
      {EDOM, StatusCode::kInvalidArgument},
      {ERANGE, StatusCode::kOutOfRange},
      {EOVERFLOW, StatusCode::kOutOfRange},
      {EFBIG, StatusCode::kOutOfRange},
      {ENOSYS, StatusCode::kUnimplemented},
      {EOPNOTSUPP, StatusCode::kUnimplemented},
      {ENOTSUP, StatusCode::kUnimplemented},
      {EAFNOSUPPORT, StatusCode::kUnimplemented},
      {EXDEV, StatusCode::kUnimplemented},
      {EPROTONOSUPPORT, StatusCode::kUnimplemented},
      {EAGAIN, StatusCode::kUnavailable},
      {EWOULDBLOCK, StatusCode::kUnavailable},
      {EINTR, StatusCode::kUnavailable},
      {ECONNREFUSED, StatusCode::kUnavailable},
      {ECONNRESET, StatusCode::kUnavailable},
      {ECONNABORTED, StatusCode::kUnavailable},
      {EHOSTUNREACH, StatusCode::kUnavailable},
      {ENETUNREACH, StatusCode::kUnavailable},
      {ENETDOWN, StatusCode::kUnavailable},
      {ENOLCK, StatusCode::kUnavailable},
      {ETIMEDOUT, StatusCode::kDeadlineExceeded},
      {EDEADLK, StatusCode::kAborted},
      {ESTALE, StatusCode::kAborted},
      {ECANCELED, StatusCode::kCancelled},
      {EIO, StatusCode::kDataLoss},
      {0, StatusCode::kUnknown},
      {EHWPOISON, StatusCode::kUnknown},
  };
  for (const auto& [err, code] : table) {
    EXPECT_EQ(ErrnoToStatusCode(err), code) << "errno " << err << " (" << std::strerror(err) << ")";
    EXPECT_EQ(FileSystemError(err, "op").code(), code) << "errno " << err;
  }
}

TEST(FsErrorTest, Issue14AccessAndDescriptorErrorsAreDistinct) {
  EXPECT_NE(FileSystemError(EACCES, "open").code(), FileSystemError(ENOENT, "open").code());
  EXPECT_NE(FileSystemError(EMFILE, "open").code(), FileSystemError(EACCES, "open").code());
}

TEST(FsErrorTest, MessageIsWhatThenStrerror) {
  Status s = FileSystemError(ENOENT, "cannot open /x");
  EXPECT_EQ(s.message(), std::string("cannot open /x: ") + std::strerror(ENOENT));
}

}  // namespace
}  // namespace npushare
