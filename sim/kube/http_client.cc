#include "sim/kube/http_client.h"

#include <curl/curl.h>

#include <mutex>

namespace npushare::kube_local {
namespace {

struct CurlEasyFree {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlSlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Sink {
  std::string body;
  size_t limit = 0;
  bool overflow = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  if (sink->body.size() + n > sink->limit) {
    sink->overflow = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  sink->body.append(data, n);
  return n;
}

Status MapCurlError(CURLcode code, const char* detail, const std::string& url) {
  std::string msg = url + ": " + (detail[0] != '\0' ? detail : curl_easy_strerror(code));
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return UnavailableError(msg);
    case CURLE_OPERATION_TIMEDOUT:
      return Status(StatusCode::kDeadlineExceeded, msg);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
      return FailedPreconditionError(msg);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return InvalidArgumentError(msg);
    default:
      return InternalError(msg);
  }
}

class CurlOutboundHttp final : public OutboundHttp {
 public:
  CurlOutboundHttp() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Result<OutboundResponse> Send(const OutboundRequest& request) override {
    if (request.url.rfind("http://", 0) != 0 && request.url.rfind("https://", 0) != 0) {
      return InvalidArgumentError("URL must be http:// or https://: " + request.url);
    }
    if (request.client_cert_pem.empty() != request.client_key_pem.empty()) {
      return InvalidArgumentError("client certificate and key must be given together");
    }
    std::unique_ptr<CURL, CurlEasyFree> easy(curl_easy_init());
    if (!easy) {
      return InternalError("curl_easy_init failed");
    }
    CURL* h = easy.get();
    char error[CURL_ERROR_SIZE] = {0};
    Sink sink;
    sink.limit = request.max_response_bytes;
    std::unique_ptr<curl_slist, CurlSlistFree> headers;
    auto add_header = [&headers](const std::string& line) {
      headers.reset(curl_slist_append(headers.release(), line.c_str()));
    };
    add_header("Content-Type: " + request.content_type);
    add_header("Accept: application/json, */*");
    add_header("Expect:");  // no 100-continue round trip
    std::unique_ptr<curl_slist, CurlSlistFree> connect_to;
    for (const auto& entry : request.connect_to) {
      connect_to.reset(curl_slist_append(connect_to.release(), entry.c_str()));
    }
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method != "GET") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    if (connect_to) {
      curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to.get());
    }
    if (request.insecure_skip_verify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!request.ca_pem.empty()) {
      curl_blob ca{const_cast<char*>(request.ca_pem.data()), request.ca_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
      curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);  // the bundle alone, no system directory
    }
    if (!request.client_cert_pem.empty()) {
      curl_blob cert{const_cast<char*>(request.client_cert_pem.data()),
                     request.client_cert_pem.size(), CURL_BLOB_COPY};
      curl_blob key{const_cast<char*>(request.client_key_pem.data()), request.client_key_pem.size(),
                    CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
      if (sink.overflow) {
        return ResourceExhaustedError(request.url + ": response larger than " +
                                      std::to_string(request.max_response_bytes) + " bytes");
      }
      return MapCurlError(rc, error, request.url);
    }
    OutboundResponse response;
    long code = 0;  // NOLINT(google-runtime-int): libcurl's type
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    response.status_code = static_cast<int>(code);
    char* ct = nullptr;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != nullptr) {
      response.content_type = ct;
    }
    response.body = std::move(sink.body);
    return response;
  }
};

}  // namespace

std::unique_ptr<OutboundHttp> NewCurlOutboundHttp() {
  return std::make_unique<CurlOutboundHttp>();
}

}  // namespace npushare::kube_local
