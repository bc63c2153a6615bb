// File: sim/kube/http_client.h
//
// OutboundHttp: the seam through which the stand-ins call out of process the way the real
// components do: kube-local calls admission webhooks, the kube-scheduler stand-in calls
// scheduler extenders. One request, one response, a whole-request deadline (like Go's
// http.Client.Timeout, which both kube-apiserver and kube-scheduler use).
//
// TLS: `ca_pem` (a PEM bundle in memory, e.g. a webhook's caBundle) replaces the system trust
// roots when set; `insecure_skip_verify` turns verification off (kube-scheduler's
// tlsConfig.insecure). `connect_to` redirects a host:port to another address while SNI and
// certificate verification keep using the URL's host name (how kube-local resolves a webhook
// `service` reference, `<svc>.<ns>.svc`, to a local address).
//
// Error codes (transport failures; an HTTP status is never an error):
//   kInvalidArgument    the URL or a header is malformed
//   kUnavailable        could not connect (refused, unresolvable)
//   kDeadlineExceeded   the timeout expired
//   kFailedPrecondition TLS verification failed (unknown CA, wrong host name) or the CA/client
//                       certificate given cannot be used
//   kResourceExhausted  the response body exceeded max_response_bytes
//   kInternal           any other transfer error
//
// Usage:
//   auto http = NewCurlOutboundHttp();
//   OutboundRequest r{.url = "https://127.0.0.1:8443/filter", .body = args.dump()};
//   NPUSHARE_ASSIGN_OR_RETURN(OutboundResponse resp, http->Send(r));
//
// Thread safety: implementations are safe for concurrent use.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::kube_local {

struct OutboundRequest {
  std::string method = "POST";
  // url: absolute http:// or https:// URL, query included.
  std::string url;
  std::string body;
  std::string content_type = "application/json";
  // timeout: whole-request deadline (connect + send + receive). Default 10 s.
  std::chrono::milliseconds timeout{10000};
  // ca_pem: trust exactly these CAs (PEM) instead of the system store when non-empty.
  std::string ca_pem;
  bool insecure_skip_verify = false;
  // client_cert_pem / client_key_pem: a client certificate to present (both or neither).
  std::string client_cert_pem;
  std::string client_key_pem;
  // connect_to: libcurl CONNECT_TO entries "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT".
  std::vector<std::string> connect_to;
  // max_response_bytes: larger bodies fail with kResourceExhausted. Default 16 MiB.
  size_t max_response_bytes = size_t{16} << 20;
};

struct OutboundResponse {
  int status_code = 0;
  std::string content_type;
  std::string body;
};

class OutboundHttp {
 public:
  virtual ~OutboundHttp() = default;
  // Send: performs the request. @return the response for any HTTP status, else an error code
  // from the table above.
  virtual Result<OutboundResponse> Send(const OutboundRequest& request) = 0;
};

// NewCurlOutboundHttp: the libcurl implementation (a fresh connection per request). Never null.
std::unique_ptr<OutboundHttp> NewCurlOutboundHttp();

}  // namespace npushare::kube_local
