// File: kube/api_error.h
//
// Turns an API server answer (HTTP status code + optional `Status` object body) into an
// npushare::Status, and offers predicates for the codes callers branch on.
//
// Mapping (reason from the body wins over the HTTP code when both are present):
//   400 BadRequest, 422 Invalid            -> kInvalidArgument     (fix the request)
//   401 Unauthorized                       -> kUnauthenticated
//   403 Forbidden                          -> kPermissionDenied
//   404 NotFound                           -> kNotFound
//   405 MethodNotAllowed, 415 Unsupported  -> kUnimplemented
//   409 AlreadyExists                      -> kAlreadyExists       (create of an existing name)
//   409 Conflict (stale resourceVersion)   -> kAborted             (GET again, reapply, retry)
//   410 Gone / Expired                     -> kOutOfRange          (relist; see IsGone)
//   413 RequestEntityTooLarge              -> kResourceExhausted
//   429 TooManyRequests                    -> kResourceExhausted   (retry after Retry-After)
//   504 Timeout                            -> kDeadlineExceeded
//   other 5xx                              -> kUnavailable         (retry with backoff)
//   any other non-2xx                      -> kUnknown
// Transport failures are mapped by the transport (see http_transport.h).
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "common/status.h"

namespace npushare::kube {

// StatusFromHttp: OK for 2xx; otherwise the mapped error whose message is the Status object's
// `message` (or a truncated raw body when the body is not a Status object).
Status StatusFromHttp(int http_code, std::string_view body);

// IsGone: the watch or continue token is too old (HTTP 410 / ERROR event with code 410).
inline bool IsGone(const Status& s) {
  return s.code() == StatusCode::kOutOfRange;
}
// IsConflict: optimistic concurrency failure (stale resourceVersion, lost race).
inline bool IsConflict(const Status& s) {
  return s.code() == StatusCode::kAborted;
}
inline bool IsNotFound(const Status& s) {
  return s.code() == StatusCode::kNotFound;
}
inline bool IsAlreadyExists(const Status& s) {
  return s.code() == StatusCode::kAlreadyExists;
}

// HttpCodeFor: the HTTP code and `reason` the API server uses for a Status code (inverse of the
// mapping above, used by the local API server): {404, "NotFound"} etc.
struct HttpReason {
  int code;
  std::string_view reason;
};
HttpReason HttpReasonFor(StatusCode code);

}  // namespace npushare::kube
