#include "sim/kube/api_server.h"

#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "kube/objects.h"
#include "kube/selector.h"
#include "sim/kube/pod_logs.h"
#include "sim/kube/table.h"

namespace npushare::kube_local {
namespace {

using nlohmann::json;

constexpr int kMaxWatchTimeoutSeconds = 24 * 3600;

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string seg;
  while (std::getline(ss, seg, '/')) {
    if (!seg.empty()) {
      out.push_back(seg);
    }
  }
  return out;
}

void Send(httplib::Response& res, const ApiResult& r) {
  res.status = r.code;
  if (r.body.is_string()) {
    res.set_content(r.body.get<std::string>(), "application/json");
  } else {
    res.set_content(r.body.dump(-1, ' ', false, json::error_handler_t::replace),
                    "application/json");
  }
}

void SendJson(httplib::Response& res, int code, const json& body) {
  Send(res, {code, body});
}

std::optional<int64_t> ParseInt(const std::string& s) {
  if (s.empty() || s.size() > 18) {
    return std::nullopt;
  }
  int64_t v = 0;
  size_t i = 0;
  bool neg = s[0] == '-';
  if (neg) {
    i = 1;
  }
  if (i == s.size()) {
    return std::nullopt;
  }
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return std::nullopt;
    }
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

std::string EventLine(const char* type, const json& object) {
  return std::string("{\"type\":\"") + type +
         "\",\"object\":" + object.dump(-1, ' ', false, json::error_handler_t::replace) + "}\n";
}

// WatchState: one open watch stream, owned by the content provider.
struct WatchState {
  const ResourceInfo* info = nullptr;
  std::string ns;
  kube::LabelSelector labels;
  kube::FieldSelector fields;
  int64_t cursor = 0;
  bool bookmarks = false;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::steady_clock::time_point next_bookmark;
  std::vector<std::string> pending;
  bool finished = false;
  bool table = false;          // objects are sent as one-row Tables (kubectl get -w)
  std::string include_object;  // Table rows: Metadata (default), Object or None

  std::string Line(const char* type, const ObjectPtr& obj) const {
    if (!table) {
      return EventLine(type, *obj);
    }
    return EventLine(
        type, MakeTable(*info, {obj}, "", "", include_object, std::chrono::system_clock::now()));
  }

  bool Matches(const ObjectPtr& obj) const {
    if (!obj) {
      return false;
    }
    if (!ns.empty()) {
      const json& m = kube::Field(*obj, "metadata");
      if (kube::StringField(m, "namespace") != ns) {
        return false;
      }
    }
    return labels.Matches(*obj) && fields.Matches(*obj);
  }
};

// ConfigureTls: loads the certificate chain, key and client CAs into `ctx`, checking each step
// (cpp-httplib's path-based constructor ignores a client CA file it cannot read, which would
// silently turn client-certificate checking off). On failure sets `error` and returns false.
bool ConfigureTls(const TlsServerOptions& tls, SSL_CTX& ctx, std::string& error) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(&ctx, tls.cert_file.c_str()) != 1) {
    error = "cannot load TLS certificate " + tls.cert_file;
  } else if (SSL_CTX_use_PrivateKey_file(&ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
             SSL_CTX_check_private_key(&ctx) != 1) {
    error = "cannot load TLS key " + tls.key_file + " (or it does not match the certificate)";
  } else if (!tls.client_ca_file.empty()) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr ||
        SSL_CTX_load_verify_locations(&ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
      if (names != nullptr) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
      }
      error = "cannot load client CA file " + tls.client_ca_file;
    } else {
      SSL_CTX_set_client_CA_list(&ctx, names);  // takes ownership of `names`
      // Ask for a certificate but let the handshake finish whatever the outcome; Route() then
      // answers 401 when it is missing or did not verify. Failing the handshake instead (a TLS
      // alert) races with the client's first write under TLS 1.3: the client may see a broken
      // pipe rather than the alert, so its error would not be deterministic.
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    }
  }
  ERR_clear_error();  // leave no stale errors for the next OpenSSL user on this thread
  return error.empty();
}

// ClientCertificateVerified: whether the connection presented a client certificate that
// verified against the client CAs (the verify callback above records but ignores failures).
bool ClientCertificateVerified(const SSL* ssl) {
  return ssl != nullptr && SSL_get0_peer_certificate(ssl) != nullptr &&
         SSL_get_verify_result(ssl) == X509_V_OK;
}

// ValidContentLength: a Content-Length header, when present, is a plain decimal number (RFC
// 9110). cpp-httplib reads anything else as 0 and would treat the body as the next request.
bool ValidContentLength(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) {
    return true;
  }
  std::string v = req.get_header_value("Content-Length");
  return !v.empty() && v.size() <= 19 &&
         std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// JsonBodyContentType: create and update bodies must be JSON (kube-apiserver also takes YAML
// and protobuf, which kube-local does not decode). An empty Content-Type means JSON, as there.
bool JsonBodyContentType(const std::string& content_type) {
  std::string ct = content_type.substr(0, content_type.find(';'));
  while (!ct.empty() && ct.back() == ' ') {
    ct.pop_back();
  }
  return ct.empty() || ct == "application/json";
}

}  // namespace

LocalApiServer::LocalApiServer(LocalApiServerOptions options, std::shared_ptr<ObjectStore> store)
    : options_(std::move(options)),
      store_(store ? std::move(store) : std::make_shared<ObjectStore>()),
      admission_(options_.admission_webhooks
                     ? std::make_unique<MutatingWebhookAdmission>(*store_, options_.webhooks)
                     : nullptr),
      api_(*store_) {
  api_.SetAdmission(admission_.get());
}

LocalApiServer::~LocalApiServer() {
  Stop();
}

Result<int> LocalApiServer::Start(const std::string& address, int port) {
  if (started_) {
    return FailedPreconditionError("server already started");
  }
  if (!options_.persist_dir.empty()) {
    PersistenceOptions po;
    po.compact_bytes = options_.compact_bytes;
    NPUSHARE_ASSIGN_OR_RETURN(persistence_,
                              StorePersistence::Open(options_.persist_dir, *store_, po));
  }
  const TlsServerOptions& tls = options_.tls;
  if (tls.cert_file.empty()) {
    if (!tls.key_file.empty() || !tls.client_ca_file.empty()) {
      return InvalidArgumentError("TLS key or client CA given without a certificate");
    }
    http_ = std::make_unique<httplib::Server>();
  } else {
    if (tls.key_file.empty()) {
      return InvalidArgumentError("TLS certificate given without a private key");
    }
    std::string tls_error;
    auto ssl = std::make_unique<httplib::SSLServer>(
        [&tls, &tls_error](SSL_CTX& ctx) { return ConfigureTls(tls, ctx, tls_error); });
    if (!ssl->is_valid()) {
      return InvalidArgumentError(tls_error.empty() ? "cannot set up TLS" : tls_error);
    }
    http_ = std::move(ssl);
  }
  api_.EnsureDefaultNamespaces();
  size_t threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_keep_alive_max_count(1000);
  http_->set_keep_alive_timeout(options_.keep_alive_timeout.count());
  http_->set_tcp_nodelay(true);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    try {
      Route(&req, &res);
    } catch (const std::exception& e) {  // nothing may escape an HTTP handler
      Send(res, ErrorResult(InternalError(std::string("internal error: ") + e.what())));
    }
  };
  http_->Get(".*", handler);
  http_->Post(".*", handler);
  http_->Put(".*", handler);
  http_->Patch(".*", handler);
  http_->Delete(".*", handler);
  int bound = port;
  if (port == 0) {
    bound = http_->bind_to_any_port(address);
    if (bound <= 0) {
      return UnavailableError("cannot bind " + address);
    }
  } else if (!http_->bind_to_port(address, port)) {
    return UnavailableError("cannot bind " + address + ":" + std::to_string(port));
  }
  address_ = address;
  url_ = (tls.cert_file.empty() ? "http://" : "https://") + address + ":" + std::to_string(bound);
  stopping_.store(false);
  started_ = true;
  listen_thread_ = std::thread([this] { http_->listen_after_bind(); });
  // httplib's stop() is a no-op until the listen loop has marked itself running, so a Stop()
  // right after Start() would hang; wait (bounded) for the loop to come up.
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!http_->is_running() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  reaper_thread_ = std::thread([this] { ReaperLoop(); });
  if (persistence_) {
    persist_thread_ = std::thread([this] { PersistLoop(); });
  }
  return bound;
}

void LocalApiServer::Stop() {
  if (!started_) {
    return;
  }
  started_ = false;
  {
    MutexLock lock(&mu_);
    stopping_.store(true);
  }
  cv_.NotifyAll();
  store_->NotifyAll();  // open watches see stopping_ and end
  http_->stop();
  if (listen_thread_.joinable()) {
    listen_thread_.join();
  }
  if (reaper_thread_.joinable()) {
    reaper_thread_.join();
  }
  if (persist_thread_.joinable()) {
    persist_thread_.join();
  }
  if (persistence_) {
    // Every acknowledged write is in the journal already; a snapshot makes the next start fast.
    persistence_->Compact().IgnoreError();
    persistence_.reset();
  }
  http_.reset();
}

void LocalApiServer::ReaperLoop() {
  MutexLock lock(&mu_);
  while (!stopping_.load()) {
    lock.Unlock();
    auto earliest = api_.ReapExpiredPods(std::chrono::system_clock::now());
    api_.FinishNamespaceDeletions();
    lock.Lock();
    auto wait = std::chrono::milliseconds(1000);
    if (earliest) {
      auto until = *earliest - std::chrono::system_clock::now();
      wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until),
                        std::chrono::milliseconds(10), wait);
    }
    cv_.WaitFor(&mu_, wait, [this]() NPUSHARE_REQUIRES(mu_) { return stopping_.load(); });
  }
}

void LocalApiServer::PersistLoop() {
  MutexLock lock(&mu_);
  while (!stopping_.load()) {
    cv_.WaitFor(&mu_, options_.persist_interval,
                [this]() NPUSHARE_REQUIRES(mu_) { return stopping_.load(); });
    if (stopping_.load()) {
      break;
    }
    lock.Unlock();
    persistence_->MaybeCompact().IgnoreError();  // retried at the next interval
    lock.Lock();
  }
}

void LocalApiServer::Route(const void* request, void* response) {
  const auto& req = *static_cast<const httplib::Request*>(request);
  auto& res = *static_cast<httplib::Response*>(response);
  if (options_.request_observer) {
    options_.request_observer(req.method, req.target, req.get_header_value("Authorization"));
  }
  if (!options_.tls.client_ca_file.empty() && !ClientCertificateVerified(req.ssl)) {
    // kube-apiserver with --client-ca-file and anonymous auth off: no identity, 401.
    return Send(res, ErrorResult(Status(StatusCode::kUnauthenticated,
                                        "a client certificate signed by the client CA is "
                                        "required")));
  }
  if (options_.fault_hook) {
    if (auto injected = options_.fault_hook(req.method, req.target)) {
      res.status = injected->status;
      for (const auto& [k, v] : injected->headers) {
        res.set_header(k, v);
      }
      res.set_content(injected->body, injected->content_type);
      return;
    }
  }
  if (!ValidContentLength(req)) {
    res.set_header("Connection", "close");  // the body's extent is unknown: end the connection
    return Send(res, ErrorResult(InvalidArgumentError(
                         "invalid Content-Length header \"" +
                         req.get_header_value("Content-Length").substr(0, 64) + "\"")));
  }
  const std::string& path = req.path;
  if (req.method == "GET") {
    if (path == "/version" || path == "/version/") {
      return SendJson(res, 200, VersionDocument());
    }
    if (path == "/healthz" || path == "/livez" || path == "/readyz") {
      res.set_content("ok", "text/plain");
      return;
    }
    if (path == "/api" || path == "/api/") {
      return SendJson(res, 200, ApiVersionsDocument(url_.substr(url_.find("//") + 2)));
    }
    if (path == "/apis" || path == "/apis/") {
      return SendJson(res, 200, ApiGroupListDocument());
    }
  }
  std::vector<std::string> seg = SplitPath(path);
  std::string group;
  std::string version;
  size_t at;
  if (seg.size() >= 2 && seg[0] == "api") {
    version = seg[1];
    at = 2;
  } else if (seg.size() >= 2 && seg[0] == "apis") {
    group = seg[1];
    if (seg.size() == 2) {
      json g = ApiGroupDocument(group);
      if (req.method == "GET" && !g.is_null()) {
        return SendJson(res, 200, g);
      }
      return Send(res, ErrorResult(NotFoundError("the server could not find the requested "
                                                 "resource")));
    }
    version = seg[2];
    at = 3;
  } else {
    return Send(res, ErrorResult(NotFoundError("the server could not find the requested "
                                               "resource")));
  }
  std::vector<std::string> rest(seg.begin() + static_cast<std::ptrdiff_t>(at), seg.end());
  if (rest.empty()) {
    json doc = ApiResourceListDocument(group, version);
    if (req.method == "GET" && !doc.is_null()) {
      return SendJson(res, 200, doc);
    }
    return Send(res, ErrorResult(NotFoundError("the server could not find the requested "
                                               "resource")));
  }
  std::string ns;
  if (rest.size() >= 3 && rest[0] == "namespaces" && FindResource(group, version, rest[2])) {
    ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.size() > 3) {
    return Send(res, ErrorResult(NotFoundError("the server could not find the requested "
                                               "resource")));
  }
  const ResourceInfo* info = FindResource(group, version, rest[0]);
  if (info == nullptr || (!info->namespaced && !ns.empty())) {
    return Send(res, ErrorResult(NotFoundError("the server could not find the requested "
                                               "resource")));
  }
  std::string name = rest.size() >= 2 ? rest[1] : "";
  std::string sub = rest.size() >= 3 ? rest[2] : "";
  if (info->namespaced && ns.empty() && !name.empty()) {
    return Send(res, ErrorResult(NotFoundError("the server could not find the requested "
                                               "resource")));
  }
  bool status_sub = sub == "status" && info->has_status;
  bool binding_sub = sub == "binding" && info->plural == "pods";
  bool log_sub = sub == "log" && info->plural == "pods";
  if (log_sub) {
    if (req.method != "GET") {
      return Send(res, ErrorResult(UnimplementedError("the server does not allow this method on "
                                                      "the requested resource")));
    }
    return ServeLogs(ns, name, &req, &res);
  }
  if (!sub.empty() && !status_sub && !binding_sub) {
    return Send(res, ErrorResult(NotFoundError("the server could not find the requested "
                                               "resource")));
  }
  bool dry_run = false;
  if (req.has_param("dryRun")) {
    if (req.get_param_value("dryRun") != "All") {
      return Send(res, ErrorResult(InvalidArgumentError(
                           "Invalid dryRun value: " + req.get_param_value("dryRun") +
                           " (supported: All)")));
    }
    dry_run = true;
  }
  auto not_allowed = [&] {
    Send(res, ErrorResult(UnimplementedError("the server does not allow this method on the "
                                             "requested resource")));
  };
  if (req.method == "GET") {
    if (name.empty()) {
      std::string watch = req.get_param_value("watch");
      if (watch == "1" || watch == "true") {
        return ServeWatch(*info, ns, &req, &res);
      }
      ListQuery q;
      q.label_selector = req.get_param_value("labelSelector");
      q.field_selector = req.get_param_value("fieldSelector");
      q.continue_token = req.get_param_value("continue");
      if (req.has_param("limit")) {
        auto limit = ParseInt(req.get_param_value("limit"));
        if (!limit || *limit < 0) {
          return Send(res, ErrorResult(InvalidArgumentError("invalid limit")));
        }
        q.limit = *limit;
      }
      if (WantsTable(req.get_header_value("Accept"))) {
        auto page = api_.ListObjects(*info, ns, q);
        if (page.error) {
          return Send(res, *page.error);
        }
        return SendJson(
            res, 200,
            MakeTable(*info, page.items, page.resource_version, page.continue_token,
                      req.get_param_value("includeObject"), std::chrono::system_clock::now()));
      }
      return Send(res, api_.List(*info, ns, q));
    }
    if (binding_sub) {
      return not_allowed();
    }
    ApiResult got = api_.Get(*info, ns, name);
    if (got.code == 200 && sub.empty() && WantsTable(req.get_header_value("Accept"))) {
      auto obj = std::make_shared<const json>(std::move(got.body));
      return SendJson(res, 200,
                      MakeTable(*info, {obj}, "", "", req.get_param_value("includeObject"),
                                std::chrono::system_clock::now()));
    }
    return Send(res, got);
  }
  if ((req.method == "POST" || req.method == "PUT") &&
      !JsonBodyContentType(req.get_header_value("Content-Type"))) {
    return Send(res,
                ErrorResult(UnimplementedError("the body of the request was in an unknown format - "
                                               "accepted media types include: application/json"),
                            name, info->plural, 415));
  }
  if (req.method == "POST") {
    if (name.empty()) {
      return Send(res, api_.Create(*info, ns, req.body, dry_run));
    }
    if (binding_sub) {
      return Send(res, api_.Bind(ns, name, req.body));
    }
    return not_allowed();
  }
  if (name.empty() || binding_sub) {
    return not_allowed();
  }
  if (req.method == "PUT") {
    return Send(res, api_.Update(*info, ns, name, sub, req.body, dry_run));
  }
  if (req.method == "PATCH") {
    return Send(res, api_.Patch(*info, ns, name, sub, req.get_header_value("Content-Type"),
                                req.body, dry_run));
  }
  if (req.method == "DELETE" && sub.empty()) {
    std::optional<int64_t> grace;
    if (req.has_param("gracePeriodSeconds")) {
      grace = ParseInt(req.get_param_value("gracePeriodSeconds"));
      if (!grace) {
        return Send(res, ErrorResult(InvalidArgumentError("invalid gracePeriodSeconds")));
      }
    }
    return Send(res, api_.Delete(*info, ns, name, req.body, grace, dry_run));
  }
  return not_allowed();
}

void LocalApiServer::ServeLogs(const std::string& ns, const std::string& name, const void* request,
                               void* response) {
  const auto& req = *static_cast<const httplib::Request*>(request);
  auto& res = *static_cast<httplib::Response*>(response);
  std::multimap<std::string, std::string> query(req.params.begin(), req.params.end());
  auto target = ResolvePodLogs(*store_, ns, name, query);
  if (!target.ok()) {
    return Send(res, ErrorResult(target.status(), name, "pods"));
  }
  if (target->url.empty()) {
    res.status = 200;
    res.set_content("", "text/plain");
    return;
  }
  if (!target->follow) {
    constexpr size_t kMaxLogBytes = size_t{16} << 20;
    std::string body;
    auto code = StreamKubeletLogs(
        target->url, false,
        [&](const char* data, size_t n) {
          body.append(data, std::min(n, kMaxLogBytes - std::min(kMaxLogBytes, body.size())));
          return body.size() < kMaxLogBytes;
        },
        stopping_);
    if (!code.ok()) {
      return Send(res, ErrorResult(InternalError(code.status().message()), name, "pods"));
    }
    if (*code != 200) {
      // The kubelet's own words (e.g. "container not found"), with its status, as kube-apiserver
      // passes them on.
      return Send(res, ErrorResult(InvalidArgumentError(body.substr(0, 4096)), name, "pods",
                                   *code == 404   ? 404
                                   : *code >= 500 ? 500
                                                  : 400));
    }
    res.status = 200;
    res.set_content(body, "text/plain");
    return;
  }
  std::string url = target->url;
  std::atomic<bool>* stopping = &stopping_;
  res.status = 200;
  // Not text/plain (kube-apiserver's type): cpp-httplib gzips text/* when the client accepts it
  // (kubectl does), and the compressor would hold the followed lines back. kubectl copies the
  // body whatever its type.
  res.set_chunked_content_provider(
      "application/octet-stream", [url, stopping](size_t, httplib::DataSink& sink) {
        auto code = StreamKubeletLogs(
            url, true,
            [&](const char* data, size_t n) { return sink.is_writable() && sink.write(data, n); },
            *stopping);
        if (!code.ok()) {
          std::string msg = code.status().message() + "\n";
          sink.write(msg.data(), msg.size());
        }
        sink.done();
        return true;
      });
}

void LocalApiServer::ServeWatch(const ResourceInfo& info, const std::string& ns,
                                const void* request, void* response) {
  const auto& req = *static_cast<const httplib::Request*>(request);
  auto& res = *static_cast<httplib::Response*>(response);
  auto state = std::make_shared<WatchState>();
  state->info = &info;
  state->ns = info.namespaced ? ns : "";
  auto labels = kube::LabelSelector::Parse(req.get_param_value("labelSelector"));
  if (!labels.ok()) {
    return Send(res, ErrorResult(labels.status()));
  }
  auto fields = kube::FieldSelector::Parse(req.get_param_value("fieldSelector"));
  if (!fields.ok()) {
    return Send(res, ErrorResult(fields.status()));
  }
  state->labels = std::move(*labels);
  state->fields = std::move(*fields);
  std::string bm = req.get_param_value("allowWatchBookmarks");
  state->bookmarks = bm == "true" || bm == "1";
  state->table = WantsTable(req.get_header_value("Accept"));
  state->include_object = req.get_param_value("includeObject");
  int timeout = options_.default_watch_timeout_seconds;
  if (req.has_param("timeoutSeconds")) {
    auto t = ParseInt(req.get_param_value("timeoutSeconds"));
    if (!t || *t < 0) {
      return Send(res, ErrorResult(InvalidArgumentError("invalid timeoutSeconds")));
    }
    if (*t > 0) {
      timeout = static_cast<int>(std::min<int64_t>(*t, kMaxWatchTimeoutSeconds));
    }
  }
  auto start = std::chrono::steady_clock::now();
  state->deadline = start + std::chrono::seconds(timeout);
  state->next_bookmark = start + options_.bookmark_interval;
  std::string rv = req.get_param_value("resourceVersion");
  const std::string store_name = info.StoreName();
  if (rv.empty() || rv == "0") {
    // Synthetic ADDED events for the current state, then changes after that snapshot.
    auto page = store_->ListPage(
        store_name, state->ns.empty() ? "" : state->ns + "/", "", 0,
        [&](const json& o) { return state->labels.Matches(o) && state->fields.Matches(o); });
    for (const auto& obj : page.items) {
      state->pending.push_back(state->Line("ADDED", obj));
    }
    state->cursor = page.rv;
  } else {
    auto parsed = ParseInt(rv);
    if (!parsed || *parsed < 0) {
      return Send(res, ErrorResult(InvalidArgumentError("invalid resourceVersion " + rv)));
    }
    state->cursor = *parsed;
    if (store_->IsGone(store_name, state->cursor)) {
      ApiResult gone = ErrorResult(OutOfRangeError("too old resource version: " + rv), "", "", 410);
      if (options_.gone_as_http_status) {
        return Send(res, gone);
      }
      state->pending.push_back(EventLine("ERROR", gone.body));
      state->finished = true;
    }
  }
  const ObjectStore* store = store_.get();
  std::atomic<bool>* stopping = &stopping_;
  const auto bookmark_interval = options_.bookmark_interval;
  res.status = 200;
  // The media-type parameter keeps httplib from gzip-compressing the stream (Go clients send
  // Accept-Encoding: gzip), which would hold events back in the compressor's buffer.
  res.set_chunked_content_provider(
      "application/json;stream=watch", [state, store, stopping, store_name, bookmark_interval](
                                           size_t /*offset*/, httplib::DataSink& sink) {
        if (stopping->load()) {
          return false;
        }
        for (const auto& line : state->pending) {
          if (!sink.write(line.data(), line.size())) {
            return false;
          }
        }
        state->pending.clear();
        if (state->finished) {
          sink.done();
          return true;
        }
        auto now = std::chrono::steady_clock::now();
        auto bookmark_line = [&] {
          json obj = {{"kind", state->info->kind},
                      {"apiVersion", state->info->ApiVersion()},
                      {"metadata", {{"resourceVersion", std::to_string(state->cursor)}}}};
          return EventLine("BOOKMARK", obj);
        };
        if (now >= state->deadline) {
          if (state->bookmarks) {
            state->pending.push_back(bookmark_line());
          }
          state->finished = true;
          return true;
        }
        auto until = state->deadline;
        if (state->bookmarks) {
          until = std::min(until, state->next_bookmark);
        }
        auto batch = store->WaitEvents(store_name, state->cursor, until, stopping);
        if (stopping->load()) {
          return false;
        }
        if (batch.gone) {
          ApiResult gone = ErrorResult(OutOfRangeError("too old resource version"), "", "", 410);
          state->pending.push_back(EventLine("ERROR", gone.body));
          state->finished = true;
          return true;
        }
        for (const auto& ev : batch.events) {
          bool now_match = state->Matches(ev.object);
          bool was_match = state->Matches(ev.prev);
          const char* type = nullptr;
          switch (ev.type) {
            case EventType::kAdded:
              type = now_match ? "ADDED" : nullptr;
              break;
            case EventType::kModified:
              type = now_match ? (was_match ? "MODIFIED" : "ADDED")
                               : (was_match ? "DELETED" : nullptr);
              break;
            case EventType::kDeleted:
              type = was_match ? "DELETED" : nullptr;
              break;
          }
          if (type != nullptr) {
            state->pending.push_back(state->Line(type, ev.object));
          }
        }
        if (batch.through_rv > state->cursor) {
          state->cursor = batch.through_rv;
        }
        now = std::chrono::steady_clock::now();
        if (state->bookmarks && now >= state->next_bookmark) {
          state->pending.push_back(bookmark_line());
          state->next_bookmark = now + bookmark_interval;
        }
        return sink.is_writable();
      });
}

}  // namespace npushare::kube_local
