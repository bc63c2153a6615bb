#include "common/fs_error.h"

#include <cerrno>
#include <cstring>

namespace npushare {
namespace {

// strerror_r has two signatures (XSI returns int, GNU returns char*); take either.
[[maybe_unused]] const char* StrerrorResult(int rc, const char* buf) {
  return rc == 0 ? buf : "Unknown error";
}
[[maybe_unused]] const char* StrerrorResult(const char* msg, const char*) {
  return msg;
}

}  // namespace

StatusCode ErrnoToStatusCode(int err) {
  switch (err) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
    case ESRCH:
    case ENOMEDIUM:
      return StatusCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return StatusCode::kPermissionDenied;
    case EEXIST:
    case EALREADY:
      return StatusCode::kAlreadyExists;
    case EMFILE:
    case ENFILE:
    case ENOSPC:
    case EDQUOT:
    case ENOMEM:
    case ENOBUFS:
    case EMLINK:
      return StatusCode::kResourceExhausted;
    case ENOTDIR:
    case EISDIR:
    case ENOTEMPTY:
    case EBUSY:
    case EBADF:
    case ETXTBSY:
    case ELOOP:
    case EADDRINUSE:
    case EISCONN:
    case ENOTCONN:
    case EPIPE:
    case ECHILD:
      return StatusCode::kFailedPrecondition;
    case EINVAL:
    case ENAMETOOLONG:
    case E2BIG:
    case EFAULT:
    case ENOTTY:
    case ESPIPE:
    case ENOTSOCK:
    case EILSEQ:
    case EDOM:
      return StatusCode::kInvalidArgument;
    case ERANGE:
    case EOVERFLOW:
    case EFBIG:
      return StatusCode::kOutOfRange;
    case ENOSYS:
    case EOPNOTSUPP:
#if ENOTSUP != EOPNOTSUPP
    case ENOTSUP:
#endif
    case EAFNOSUPPORT:
    case EXDEV:
    case EPROTONOSUPPORT:
      return StatusCode::kUnimplemented;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR:
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
    case ENOLCK:
      return StatusCode::kUnavailable;
    case ETIMEDOUT:
      return StatusCode::kDeadlineExceeded;
    case EDEADLK:
    case ESTALE:
      return StatusCode::kAborted;
    case ECANCELED:
      return StatusCode::kCancelled;
    case EIO:
      return StatusCode::kDataLoss;
    default:
      return StatusCode::kUnknown;
  }
}

Status FileSystemError(int err, const std::string& what) {
  char buf[128] = {};
  const char* text = StrerrorResult(strerror_r(err, buf, sizeof(buf)), buf);
  return Status(ErrnoToStatusCode(err), what + ": " + text);
}

}  // namespace npushare
