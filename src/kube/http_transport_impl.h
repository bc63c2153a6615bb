// File: kube/http_transport_impl.h
//
// CurlTransport: the production HttpTransport on libcurl. Keeps a pool of easy handles so that
// connections (and TLS sessions) are reused across calls; HTTP/2 is negotiated over TLS when
// the server offers it. Streams use a dedicated multi handle so StreamCancel can wake them.
//
// Usage:
//   CurlTransport transport(cfg);             // cfg from LoadRestConfig()
//   KubeClient client(transport, options);
//
// Thread safety: safe for concurrent use without external synchronization.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/thread_annotations.h"
#include "kube/clock.h"
#include "kube/http_transport.h"
#include "kube/rest_config.h"

namespace npushare::kube {

// CurlOptionStatus: the Status for the result `curl_code` (a CURLcode) of setting the libcurl
// option named `option` (e.g. "CURLOPT_SSLCERT_BLOB"). OK for CURLE_OK. A libcurl that lacks
// the option (CURLE_UNKNOWN_OPTION, CURLE_NOT_BUILT_IN: e.g. no blob support, so a
// kubeconfig's inline certificate-authority-data / client-certificate-data / client-key-data
// cannot be used) is kFailedPrecondition saying what to do instead; CURLE_OUT_OF_MEMORY is
// kResourceExhausted; any other refusal is kInvalidArgument. Every curl_easy_setopt of
// CurlTransport goes through this, so a request never goes out without an option it asked for
// (for instance without the client certificate, or without the CA that pins the server).
Status CurlOptionStatus(int curl_code, std::string_view option);

class CurlTransport final : public HttpTransport {
 public:
  // CurlTransport: `clock` paces bearer-token file reloads. REQUIRES: clock outlives this.
  explicit CurlTransport(RestConfig config, Clock& clock = RealClock());
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request) override;
  Result<HttpResponse> Stream(const HttpRequest& request, const LineHandler& on_line,
                              StreamCancel* cancel, size_t max_line_bytes) override;

 private:
  struct Call;
  void* AcquireHandle();
  void ReleaseHandle(void* handle) NPUSHARE_EXCLUDES(mu_);
  // Configure: sets URL, method, headers, TLS and callbacks on `easy` for `call`.
  Status Configure(void* easy, Call& call, const HttpRequest& request, bool streaming);
  std::string CurrentToken() NPUSHARE_EXCLUDES(mu_);

  const RestConfig config_;
  Clock& clock_;
  Mutex mu_;
  std::vector<void*> idle_handles_ NPUSHARE_GUARDED_BY(mu_);  // CURL* kept to reuse connections
  std::string token_ NPUSHARE_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point token_read_at_ NPUSHARE_GUARDED_BY(mu_){};
};

}  // namespace npushare::kube
