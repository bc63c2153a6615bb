// File: kube/http_transport.h
//
// HttpTransport: the seam between the Kubernetes client and the network. The client builds
// requests relative to the API server (method, path with query, headers, body); the transport
// owns the server URL, TLS, credentials, connection reuse and timeouts. Production uses the
// libcurl implementation (http_transport_impl.h); unit tests use a scripted fake.
//
// Main types:
//   HttpRequest / HttpResponse  plain values exchanged with the transport.
//   StreamCancel                lets another thread end a running Stream() promptly.
//   HttpTransport               Send() for request/response, Stream() for watches.
//
// Transport error codes (what the caller may do next):
//   kUnavailable       nothing reached the server (connect/resolve failed): any call may be
//                      retried, even a POST.
//   kAborted           the connection failed after the request was (maybe) sent: only
//                      idempotent calls may be retried.
//   kDeadlineExceeded  the per-request timeout expired; the request may have been processed.
//   kCancelled         StreamCancel::Cancel() was called.
//   kInvalidArgument   the request could not be built (bad header, bad URL).
//   kFailedPrecondition TLS cannot work as configured: the server certificate does not verify
//                      against the configured CA (or the system store), or our own CA file,
//                      client certificate or key cannot be used. Do not retry until fixed.
//   kUnauthenticated   the server refused our client certificate (missing, or not signed by a
//                      CA it trusts) during the TLS handshake. Do not retry until fixed.
// An HTTP error status is NOT a transport error: it comes back as an HttpResponse.
//
// Thread safety: implementations are safe for concurrent use without external synchronization.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace npushare::kube {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// HttpRequest: `target` is the path plus query ("/api/v1/pods?limit=5"), never a full URL.
struct HttpRequest {
  std::string method = "GET";
  std::string target;
  HttpHeaders headers;
  std::string body;
  // timeout: whole-request deadline; zero means the transport's default. Streams ignore it and
  // use only the connect timeout and the idle (low-speed) limit.
  std::chrono::milliseconds timeout{0};
};

// HttpResponse: status code, headers (names lower-cased) and the complete body.
struct HttpResponse {
  int status_code = 0;
  HttpHeaders headers;
  std::string body;
  // Header: the first value of header `name` (case-insensitive) or "" when absent.
  std::string Header(std::string_view name) const;
};

// StreamCancel: a cancellation flag for Stream(). Cancel() may be called from any thread, any
// number of times, before or during Stream(); the stream then ends with kCancelled.
class StreamCancel {
 public:
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }
  // SetWaker: used by transports to be woken from a blocking wait; pass {} to clear.
  void SetWaker(std::function<void()> waker);

 private:
  std::atomic<bool> cancelled_{false};
  Mutex mu_;
  std::function<void()> waker_ NPUSHARE_GUARDED_BY(mu_);
};

// LineHandler: receives each complete line of a 2xx streamed body, without the '\n'.
// Return false to end the stream early (Stream() then returns the response so far, OK).
using LineHandler = std::function<bool(std::string_view line)>;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Send: performs one request.
  // @return the response for any HTTP status; a transport error code (above) otherwise.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;

  // Stream: performs a request whose 2xx body is a sequence of '\n'-terminated lines (a watch).
  // Lines of a 2xx response go to `on_line` as they arrive; a non-2xx body is collected in the
  // returned response instead. A final line without '\n' is delivered at EOF.
  // Lines longer than `max_line_bytes` end the stream with kResourceExhausted.
  // @return the response (body empty for 2xx) on EOF or early stop; a transport error otherwise.
  virtual Result<HttpResponse> Stream(const HttpRequest& request, const LineHandler& on_line,
                                      StreamCancel* cancel, size_t max_line_bytes) = 0;
};

}  // namespace npushare::kube
