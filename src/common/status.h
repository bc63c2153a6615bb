// File: common/status.h
//
// Status and Result<T>: the one error type of npushare, modelled on Abseil's
// absl::Status / absl::StatusOr. A Status is OK or a canonical (gRPC) code
// plus a human-readable message. Result<T> holds either a value or a non-OK
// Status, never both.
//
// Choosing a code (pick by what the caller should do next):
//   kInvalidArgument    the input is malformed whatever the system state
//                       (bad YAML, bad annotation, bad quantity).
//   kFailedPrecondition the input is well-formed but the system is not in a
//                       state that allows it; do not retry until fixed.
//   kNotFound           the named thing does not exist.
//   kUnavailable        transient; retry the same call.
//   kAborted            retry at a higher level (e.g. lost a lock race).
//   kResourceExhausted  a quota or capacity is exceeded.
//   kOutOfRange         a number outside the accepted range.
//   kInternal           an invariant of ours was broken.
//
// The message text is for people: never parse it and never test against it.
// (The HAMi compatibility runner compares upstream error texts, which is the
// one documented exception: those texts are part of the wire contract.)
//
// Thread safety: Status and Result are values; const methods are safe for
// concurrent use.
//
// Usage:
//   Result<int> ParsePort(std::string_view s);
//   NPUSHARE_ASSIGN_OR_RETURN(int port, ParsePort(text));
//   NPUSHARE_RETURN_IF_ERROR(Validate(cfg).WithContext("while loading " + path));
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace npushare {

// StatusCode: the canonical gRPC codes, with the same numeric values.
enum class StatusCode : int32_t {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
  // Never use: forces a `default:` in switches over StatusCode.
  kDoNotUseReservedForFutureExpansionUseDefaultInSwitchInstead_ = 20,
};

// StatusCodeName: "INVALID_ARGUMENT" etc.; "UNKNOWN_CODE" for values outside the enum.
std::string_view StatusCodeName(StatusCode code);

// Status: OK, or a code with a message. Cheap to move; copying copies the message.
class [[nodiscard]] Status {
 public:
  // Status(): an OK status.
  Status() = default;
  // Status(code, message): REQUIRES: code != kOk for a message to be kept.
  Status(StatusCode code, std::string message)
      : code_(code), message_(code == StatusCode::kOk ? std::string() : std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // WithContext: returns a copy whose message is prefixed with `context: `; the code is kept.
  // An OK status is returned unchanged.
  Status WithContext(std::string_view context) const;

  // ToString: "OK" or "INVALID_ARGUMENT: message".
  std::string ToString() const;

  // IgnoreError: documents that an error is deliberately dropped.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() {
  return Status();
}
inline Status InvalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) {
  return Status(StatusCode::kNotFound, std::move(m));
}
inline Status FailedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status OutOfRangeError(std::string m) {
  return Status(StatusCode::kOutOfRange, std::move(m));
}
inline Status InternalError(std::string m) {
  return Status(StatusCode::kInternal, std::move(m));
}
inline Status UnavailableError(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status AbortedError(std::string m) {
  return Status(StatusCode::kAborted, std::move(m));
}
inline Status ResourceExhaustedError(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}
inline Status UnimplementedError(std::string m) {
  return Status(StatusCode::kUnimplemented, std::move(m));
}
inline Status AlreadyExistsError(std::string m) {
  return Status(StatusCode::kAlreadyExists, std::move(m));
}
inline Status PermissionDeniedError(std::string m) {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}

// FileSystemError: a system call on a path failed with errno `err`; the one errno -> StatusCode
// table is ErrnoToStatusCode in common/fs_error.h (ENOENT kNotFound, EACCES/EPERM/EROFS
// kPermissionDenied, EMFILE/ENFILE/ENOSPC kResourceExhausted, ...), where this is defined.
// The message is `what`: strerror(err).
Status FileSystemError(int err, const std::string& what);

// Result<T>: a T or a non-OK Status. Constructing a Result from an OK Status is a
// programming error and yields kInternal instead (so a caller never sees "ok but no value").
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : v_(value) {}        // NOLINT(google-explicit-constructor)
  Result(T&& value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status)                        // NOLINT(google-explicit-constructor)
      : v_(status.ok() ? Status(StatusCode::kInternal, "Result constructed from OK status")
                       : std::move(status)) {}
  template <typename U,
            typename = std::enable_if_t<
                std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Status> &&
                !std::is_same_v<std::decay_t<U>, Result<T>> && !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  // status(): OK when a value is held, else the error.
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

  // value(), operator*, operator->: REQUIRES: ok().
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // value_or: the value, or `fallback` when not ok().
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

namespace status_internal {
inline Status AsStatus(Status s) {
  return s;
}
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace status_internal

}  // namespace npushare

#define NPUSHARE_STATUS_CONCAT_INNER_(a, b) a##b
#define NPUSHARE_STATUS_CONCAT_(a, b) NPUSHARE_STATUS_CONCAT_INNER_(a, b)

// NPUSHARE_RETURN_IF_ERROR(expr): returns the Status of `expr` (a Status or Result) if not OK.
#define NPUSHARE_RETURN_IF_ERROR(expr)                                                 \
  do {                                                                                 \
    ::npushare::Status npushare_status_ = ::npushare::status_internal::AsStatus(expr); \
    if (!npushare_status_.ok())                                                        \
      return npushare_status_;                                                         \
  } while (0)

// NPUSHARE_ASSIGN_OR_RETURN(decl, expr): evaluates the Result `expr`; on error returns its
// Status, otherwise moves the value into `decl`.
#define NPUSHARE_ASSIGN_OR_RETURN(decl, expr)                            \
  auto NPUSHARE_STATUS_CONCAT_(npushare_result_, __LINE__) = (expr);     \
  if (!NPUSHARE_STATUS_CONCAT_(npushare_result_, __LINE__).ok())         \
    return NPUSHARE_STATUS_CONCAT_(npushare_result_, __LINE__).status(); \
  decl = std::move(NPUSHARE_STATUS_CONCAT_(npushare_result_, __LINE__)).value()
