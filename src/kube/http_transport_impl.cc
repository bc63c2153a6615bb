#include "kube/http_transport_impl.h"

#include <curl/curl.h>

#include "common/file_reader.h"

namespace npushare::kube {
namespace {

constexpr size_t kMaxBodyBytes = size_t{1} << 30;  // refuse absurd responses (1 GiB)
constexpr size_t kMaxIdleHandles = 16;
constexpr size_t kMaxTokenFileBytes = 64 * 1024;  // service-account tokens are about 1 KiB

// GlobalInit: curl_global_init once per process; its result for every later caller.
CURLcode GlobalInit() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  return rc;
}

Status GlobalInitStatus() {
  const CURLcode rc = GlobalInit();
  if (rc != CURLE_OK) {
    return InternalError(std::string("curl_global_init failed: ") + curl_easy_strerror(rc));
  }
  return OkStatus();
}

// AppendHeader: curl_slist_append, which returns nullptr (leaving the list intact) when out
// of memory.
Status AppendHeader(curl_slist*& headers, const std::string& line) {
  curl_slist* appended = curl_slist_append(headers, line.c_str());
  if (appended == nullptr) {
    return ResourceExhaustedError("curl_slist_append failed");
  }
  headers = appended;
  return OkStatus();
}

// kRejectedCredentialAlerts: OpenSSL's reason strings for TLS alerts a server sends when it
// refuses our client certificate. With TLS 1.3 the server checks the certificate after the
// client considers the handshake done, so libcurl 7.88 reports the alert only as a generic
// receive/send error and its text is the one place the cause is visible. These strings are
// OpenSSL's stable SSL_R_* reason names. Best effort: under TLS 1.3 the client's first write
// can also fail with a broken pipe before the alert is read, which stays kAborted.
// (kube-apiserver answers a missing certificate with HTTP 401, not with an alert.)
constexpr const char* kRejectedCredentialAlerts[] = {
    "alert certificate required", "alert unknown ca",          "alert bad certificate",
    "alert certificate unknown",  "alert certificate revoked", "alert certificate expired",
    "alert access denied",
};

bool IsRejectedCredentialAlert(const std::string& curl_message) {
  for (const char* alert : kRejectedCredentialAlerts) {
    if (curl_message.find(alert) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// MapCurlError: the one place a CURLcode becomes a Status (see http_transport.h for codes).
Status MapCurlError(CURLcode rc, const char* errbuf) {
  std::string msg = std::string(curl_easy_strerror(rc));
  if (errbuf != nullptr && errbuf[0] != '\0') {
    msg += std::string(": ") + errbuf;
  }
  if (rc == CURLE_SSL_CLIENTCERT ||
      ((rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_SSL_CONNECT_ERROR) &&
       IsRejectedCredentialAlert(msg))) {
    return Status(StatusCode::kUnauthenticated, msg);
  }
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
      return UnavailableError(msg);
    case CURLE_OPERATION_TIMEDOUT:
      return Status(StatusCode::kDeadlineExceeded, msg);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgumentError(msg);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return FailedPreconditionError(msg);
    default:
      return AbortedError(msg);
  }
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

}  // namespace

// Call: per-request state shared with libcurl callbacks.
struct CurlTransport::Call {
  CURL* easy = nullptr;
  HttpResponse response;
  curl_slist* headers = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {0};
  bool body_too_large = false;
  // Streaming state.
  const LineHandler* on_line = nullptr;
  size_t max_line_bytes = 0;
  std::string pending;
  bool stopped_by_handler = false;
  bool line_too_long = false;

  ~Call() {
    if (headers != nullptr) {
      curl_slist_free_all(headers);
    }
  }

  bool IsSuccess() {
    long code = 0;  // NOLINT(google-runtime-int): libcurl's type
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    return code >= 200 && code <= 299;
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* user) {
    auto* call = static_cast<Call*>(user);
    std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {
      call->response.headers.clear();  // a new response (after 100-continue or redirect)
      return size * n;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      for (auto& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      std::string value(line.substr(colon + 1));
      while (!value.empty() && (value.front() == ' ')) {
        value.erase(0, 1);
      }
      value = Trim(value);
      call->response.headers.emplace_back(std::move(name), std::move(value));
    }
    return size * n;
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* user) {
    auto* call = static_cast<Call*>(user);
    size_t len = size * n;
    if (call->on_line == nullptr || !call->IsSuccess()) {
      if (call->response.body.size() + len > kMaxBodyBytes) {
        call->body_too_large = true;
        return 0;
      }
      call->response.body.append(data, len);
      return len;
    }
    // Streamed body: split on '\n'; chunk boundaries are unrelated to event boundaries.
    std::string_view chunk(data, len);
    while (!chunk.empty()) {
      auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        call->pending.append(chunk);
        if (call->pending.size() > call->max_line_bytes) {
          call->line_too_long = true;
          return 0;
        }
        break;
      }
      call->pending.append(chunk.substr(0, nl));
      chunk.remove_prefix(nl + 1);
      if (call->pending.size() > call->max_line_bytes) {
        call->line_too_long = true;
        return 0;
      }
      bool more = call->pending.empty() || (*call->on_line)(call->pending);
      call->pending.clear();
      if (!more) {
        call->stopped_by_handler = true;
        return 0;
      }
    }
    return len;
  }
};

CurlTransport::CurlTransport(RestConfig config, Clock& clock)
    : config_(std::move(config)), clock_(clock) {
  GlobalInit();  // checked by Send/Stream
  token_ = config_.bearer_token;
}

CurlTransport::~CurlTransport() {
  for (void* h : idle_handles_) {
    curl_easy_cleanup(static_cast<CURL*>(h));
  }
}

void* CurlTransport::AcquireHandle() {
  {
    MutexLock lock(&mu_);
    if (!idle_handles_.empty()) {
      void* h = idle_handles_.back();
      idle_handles_.pop_back();
      curl_easy_reset(static_cast<CURL*>(h));  // keeps the handle's live connections
      return h;
    }
  }
  return curl_easy_init();
}

void CurlTransport::ReleaseHandle(void* handle) {
  MutexLock lock(&mu_);
  if (idle_handles_.size() < kMaxIdleHandles) {
    idle_handles_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

std::string CurlTransport::CurrentToken() {
  MutexLock lock(&mu_);
  if (config_.bearer_token_file.empty()) {
    return token_;
  }
  auto now = clock_.Now();
  if (token_.empty() || now - token_read_at_ >= config_.token_reload_period) {
    // Bounded: a token file that grew absurdly (or a FIFO, a device) is refused and the previous
    // token kept, like a briefly empty or missing one.
    Result<std::string> data = ReadFileLimited(config_.bearer_token_file, kMaxTokenFileBytes);
    if (data.ok()) {
      std::string t = Trim(*data);
      if (!t.empty()) {
        token_ = t;
      }
    }
    token_read_at_ = now;
  }
  return token_;
}

// NPUSHARE_CURL_SETOPT: curl_easy_setopt whose refusal returns from the enclosing function.
#define NPUSHARE_CURL_SETOPT(easy, option, value) \
  NPUSHARE_RETURN_IF_ERROR(                       \
      CurlOptionStatus(static_cast<int>(curl_easy_setopt(easy, option, value)), #option))

Status CurlOptionStatus(int curl_code, std::string_view option) {
  const auto rc = static_cast<CURLcode>(curl_code);
  if (rc == CURLE_OK) {
    return OkStatus();
  }
  std::string msg = "libcurl refused " + std::string(option) + ": " + curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
      if (option.find("_BLOB") != std::string_view::npos) {
        msg +=
            " (this libcurl cannot take in-memory certificates: put the kubeconfig's "
            "*-data fields in files and use certificate-authority / client-certificate / "
            "client-key instead)";
      }
      return FailedPreconditionError(std::move(msg));
    case CURLE_OUT_OF_MEMORY:
      return ResourceExhaustedError(std::move(msg));
    default:
      return InvalidArgumentError(std::move(msg));
  }
}

Status CurlTransport::Configure(void* handle, Call& call, const HttpRequest& request,
                                bool streaming) {
  CURL* easy = static_cast<CURL*>(handle);
  call.easy = easy;
  if (request.target.empty() || request.target.front() != '/') {
    return InvalidArgumentError("request target must start with '/'");
  }
  std::string url = config_.server + request.target;
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_URL, url.c_str());
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_NOSIGNAL, 1L);
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_ERRORBUFFER, call.errbuf);
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_CONNECTTIMEOUT_MS,
                       static_cast<long>(config_.connect_timeout.count()));
  if (!streaming) {
    auto t = request.timeout.count() > 0 ? request.timeout : config_.request_timeout;
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(t.count()));
  }
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_USERAGENT, config_.user_agent.c_str());
  // TLS.
  if (!config_.ca_file.empty()) {
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_CAINFO, config_.ca_file.c_str());
  }
  if (!config_.ca_data.empty()) {
    curl_blob blob{const_cast<char*>(config_.ca_data.data()), config_.ca_data.size(),
                   CURL_BLOB_COPY};
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!config_.client_cert_file.empty()) {
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_SSLCERT, config_.client_cert_file.c_str());
  }
  if (!config_.client_cert_data.empty()) {
    curl_blob blob{const_cast<char*>(config_.client_cert_data.data()),
                   config_.client_cert_data.size(), CURL_BLOB_COPY};
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_SSLCERT_BLOB, &blob);
  }
  if (!config_.client_key_file.empty()) {
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_SSLKEY, config_.client_key_file.c_str());
  }
  if (!config_.client_key_data.empty()) {
    curl_blob blob{const_cast<char*>(config_.client_key_data.data()),
                   config_.client_key_data.size(), CURL_BLOB_COPY};
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_SSLKEY_BLOB, &blob);
  }
  if (config_.insecure_skip_tls_verify) {
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!config_.username.empty()) {
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_USERNAME, config_.username.c_str());
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_PASSWORD, config_.password.c_str());
  }
  // Method and body.
  if (request.method == "GET") {
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_HTTPGET, 1L);
  } else {
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_POSTFIELDS, request.body.c_str());
    NPUSHARE_CURL_SETOPT(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
  }
  // Headers. "Expect:" disables 100-continue round trips for larger bodies.
  NPUSHARE_RETURN_IF_ERROR(AppendHeader(call.headers, "Expect:"));
  std::string token = CurrentToken();
  if (!token.empty()) {
    NPUSHARE_RETURN_IF_ERROR(AppendHeader(call.headers, "Authorization: Bearer " + token));
  }
  for (const auto& [k, v] : request.headers) {
    if (k.find_first_of("\r\n:") != std::string::npos ||
        v.find_first_of("\r\n") != std::string::npos) {
      return InvalidArgumentError("invalid header " + k);
    }
    NPUSHARE_RETURN_IF_ERROR(AppendHeader(call.headers, k + ": " + v));
  }
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_HTTPHEADER, call.headers);
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_HEADERFUNCTION, &Call::OnHeader);
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_HEADERDATA, &call);
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_WRITEFUNCTION, &Call::OnBody);
  NPUSHARE_CURL_SETOPT(easy, CURLOPT_WRITEDATA, &call);
  return OkStatus();
}

Result<HttpResponse> CurlTransport::Send(const HttpRequest& request) {
  NPUSHARE_RETURN_IF_ERROR(GlobalInitStatus());
  void* handle = AcquireHandle();
  if (handle == nullptr) {
    return InternalError("curl_easy_init failed");
  }
  Call call;
  Status st = Configure(handle, call, request, /*streaming=*/false);
  if (!st.ok()) {
    ReleaseHandle(handle);
    return st;
  }
  CURLcode rc = curl_easy_perform(static_cast<CURL*>(handle));
  long code = 0;  // NOLINT(google-runtime-int)
  const CURLcode info_rc =
      curl_easy_getinfo(static_cast<CURL*>(handle), CURLINFO_RESPONSE_CODE, &code);
  // The header list dies with `call`: unhook it before the handle goes back to the pool, and
  // drop the handle instead if libcurl will not let go of it.
  if (curl_easy_setopt(static_cast<CURL*>(handle), CURLOPT_HTTPHEADER, nullptr) == CURLE_OK) {
    ReleaseHandle(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
  if (call.body_too_large) {
    return ResourceExhaustedError("response body too large");
  }
  if (rc != CURLE_OK) {
    return MapCurlError(rc, call.errbuf);
  }
  if (info_rc != CURLE_OK) {
    return InternalError(std::string("curl_easy_getinfo(RESPONSE_CODE) failed: ") +
                         curl_easy_strerror(info_rc));
  }
  call.response.status_code = static_cast<int>(code);
  return std::move(call.response);
}

Result<HttpResponse> CurlTransport::Stream(const HttpRequest& request, const LineHandler& on_line,
                                           StreamCancel* cancel, size_t max_line_bytes) {
  NPUSHARE_RETURN_IF_ERROR(GlobalInitStatus());
  CURL* easy = curl_easy_init();
  CURLM* multi = curl_multi_init();
  if (easy == nullptr || multi == nullptr) {
    if (easy != nullptr) {
      curl_easy_cleanup(easy);
    }
    if (multi != nullptr) {
      curl_multi_cleanup(multi);
    }
    return InternalError("curl init failed");
  }
  Call call;
  call.on_line = &on_line;
  call.max_line_bytes = max_line_bytes;
  Status st = Configure(easy, call, request, /*streaming=*/true);
  Result<HttpResponse> result = InternalError("stream did not finish");
  if (st.ok()) {
    if (CURLMcode added = curl_multi_add_handle(multi, easy); added != CURLM_OK) {
      st =
          InternalError(std::string("curl_multi_add_handle failed: ") + curl_multi_strerror(added));
    }
  }
  if (st.ok()) {
    if (cancel != nullptr) {
      cancel->SetWaker([multi] { curl_multi_wakeup(multi); });
    }
    CURLcode done_rc = CURLE_OK;
    bool done = false;
    while (!done) {
      if (cancel != nullptr && cancel->cancelled()) {
        break;
      }
      int running = 0;
      CURLMcode mc = curl_multi_perform(multi, &running);
      if (mc != CURLM_OK) {
        done_rc = CURLE_RECV_ERROR;
        done = true;
        break;
      }
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
        if (msg->msg == CURLMSG_DONE) {
          done_rc = msg->data.result;
          done = true;
        }
      }
      if (done || running == 0) {
        done = true;
        break;
      }
      if (curl_multi_poll(multi, nullptr, 0, 1000, nullptr) != CURLM_OK) {
        done_rc = CURLE_RECV_ERROR;
        done = true;
        break;
      }
    }
    if (cancel != nullptr) {
      cancel->SetWaker({});
    }
    long code = 0;  // NOLINT(google-runtime-int)
    const CURLcode info_rc = curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    // Cannot fail for a handle that was added; nothing to do if it did (both are freed below).
    curl_multi_remove_handle(multi, easy);
    if (!done) {
      result = Status(StatusCode::kCancelled, "stream cancelled");
    } else if (call.line_too_long) {
      result = ResourceExhaustedError("stream line exceeds limit");
    } else if (call.body_too_large) {
      result = ResourceExhaustedError("response body too large");
    } else if (done_rc != CURLE_OK && !call.stopped_by_handler) {
      result = MapCurlError(done_rc, call.errbuf);
    } else if (info_rc != CURLE_OK) {
      result = InternalError(std::string("curl_easy_getinfo(RESPONSE_CODE) failed: ") +
                             curl_easy_strerror(info_rc));
    } else {
      if (!call.pending.empty() && !call.stopped_by_handler && code >= 200 && code <= 299) {
        on_line(call.pending);
      }
      call.response.status_code = static_cast<int>(code);
      result = std::move(call.response);
    }
  } else {
    result = st;
  }
  curl_easy_cleanup(easy);
  curl_multi_cleanup(multi);
  return result;
}

}  // namespace npushare::kube
