#include "kube/api_error.h"

#include <nlohmann/json.hpp>
#include <string>

#include "kube/objects.h"

namespace npushare::kube {
namespace {

constexpr size_t kMaxRawMessage = 256;

StatusCode CodeForReason(std::string_view reason) {
  if (reason == "AlreadyExists") {
    return StatusCode::kAlreadyExists;
  }
  if (reason == "Conflict") {
    return StatusCode::kAborted;
  }
  if (reason == "Gone" || reason == "Expired") {
    return StatusCode::kOutOfRange;
  }
  if (reason == "NotFound") {
    return StatusCode::kNotFound;
  }
  if (reason == "Forbidden") {
    return StatusCode::kPermissionDenied;
  }
  if (reason == "Unauthorized") {
    return StatusCode::kUnauthenticated;
  }
  if (reason == "TooManyRequests") {
    return StatusCode::kResourceExhausted;
  }
  if (reason == "Invalid" || reason == "BadRequest") {
    return StatusCode::kInvalidArgument;
  }
  return StatusCode::kOk;  // unknown reason: fall back to the HTTP code
}

StatusCode CodeForHttp(int code) {
  switch (code) {
    case 400:
    case 422:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 405:
    case 406:
    case 415:
      return StatusCode::kUnimplemented;
    case 409:
      return StatusCode::kAborted;
    case 410:
      return StatusCode::kOutOfRange;
    case 413:
    case 429:
      return StatusCode::kResourceExhausted;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      break;
  }
  if (code >= 500 && code <= 599) {
    return StatusCode::kUnavailable;
  }
  return StatusCode::kUnknown;
}

}  // namespace

Status StatusFromHttp(int http_code, std::string_view body) {
  if (http_code >= 200 && http_code <= 299) {
    return OkStatus();
  }
  StatusCode code = CodeForHttp(http_code);
  std::string message;
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (StringField(parsed, "kind") == "Status") {
    const auto& m = parsed["message"];
    if (m.is_string()) {
      message = m.get<std::string>();
    }
    const auto& r = parsed["reason"];
    if (r.is_string()) {
      StatusCode by_reason = CodeForReason(r.get<std::string>());
      // A reason only refines the HTTP code family it belongs to (409 -> AlreadyExists).
      if (by_reason != StatusCode::kOk && (http_code == 409 || by_reason == code)) {
        code = by_reason;
      }
    }
  } else {
    message = std::string(body.substr(0, kMaxRawMessage));
  }
  return Status(code, "HTTP " + std::to_string(http_code) + ": " + message);
}

HttpReason HttpReasonFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return {400, "BadRequest"};
    case StatusCode::kUnauthenticated:
      return {401, "Unauthorized"};
    case StatusCode::kPermissionDenied:
      return {403, "Forbidden"};
    case StatusCode::kNotFound:
      return {404, "NotFound"};
    case StatusCode::kUnimplemented:
      return {405, "MethodNotAllowed"};
    case StatusCode::kAlreadyExists:
      return {409, "AlreadyExists"};
    case StatusCode::kAborted:
      return {409, "Conflict"};
    case StatusCode::kOutOfRange:
      return {410, "Expired"};
    case StatusCode::kResourceExhausted:
      return {429, "TooManyRequests"};
    case StatusCode::kDeadlineExceeded:
      return {504, "Timeout"};
    case StatusCode::kUnavailable:
      return {503, "ServiceUnavailable"};
    case StatusCode::kFailedPrecondition:
      return {422, "Invalid"};
    default:
      return {500, "InternalError"};
  }
}

}  // namespace npushare::kube
