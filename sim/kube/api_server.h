// File: sim/kube/api_server.h
//
// LocalApiServer: a small Kubernetes API server for tests and the local demo (NOT a
// production API server: no authorization, no built-in admission plugins, no OpenAPI, no
// server-side apply). Mutating admission webhooks registered in MutatingWebhookConfiguration
// objects are called (admission_webhooks.h); dryRun=All is honoured.
// It speaks the real wire protocol over HTTP or HTTPS (optionally requiring client
// certificates) on loopback so that kubectl and our client can use it: discovery, CRUD, LIST with
// selectors and paging, WATCH with resourceVersion semantics and bookmarks, the three PATCH types,
// pods/binding, graceful pod deletion. See docs/kube-local.md for the exact behaviour and its
// deviations from kube-apiserver.
//
// Usage:
//   auto store = std::make_shared<ObjectStore>();
//   LocalApiServer server({}, store);
//   NPUSHARE_ASSIGN_OR_RETURN(int port, server.Start("127.0.0.1", 0));
//   ... clients use server.url() ...
//   server.Stop();   // the store (and its history) survives; a new server may reuse it
//
// Thread safety: Start/Stop from one controlling thread; request handling is internal.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "sim/kube/admission_webhooks.h"
#include "sim/kube/object_api.h"
#include "sim/kube/object_store.h"
#include "sim/kube/persistence.h"

namespace httplib {
class Server;
}

namespace npushare::kube_local {

// InjectedResponse: what a fault hook wants sent instead of the real answer.
struct InjectedResponse {
  int status = 500;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// TlsServerOptions: HTTPS settings. All paths name PEM files.
struct TlsServerOptions {
  // cert_file / key_file: the server certificate (chain) and its private key. HTTPS is on when
  // cert_file is set; key_file is then required. Default: both empty, plain HTTP.
  std::string cert_file;
  std::string key_file;
  // client_ca_file: when set, every request must come over a connection that presented a
  // certificate signed by one of these CAs, else it is answered 401 Unauthorized (as
  // kube-apiserver with --client-ca-file and --anonymous-auth=false; it would fail the TLS
  // handshake for a certificate from an unknown CA, kube-local answers 401 for that too so
  // that clients see a deterministic error). A verified certificate is all it checks: there
  // is no user mapping or authorization.
  std::string client_ca_file;
};

struct LocalApiServerOptions {
  // --- correctness ---
  // tls: HTTPS instead of HTTP when tls.cert_file is set. Default: plain HTTP.
  TlsServerOptions tls;
  // persist_dir: when set, the store is made durable in this existing, writable directory
  // (persistence.h): loaded at Start() (snapshot + journal replay), every write journaled and
  // fdatasync'ed before it is answered, compacted when the journal grows and at Stop().
  // Start() fails when the directory is missing or not writable. Default: in memory only.
  std::string persist_dir;
  // gone_as_http_status: answer a too-old watch with HTTP 410 instead of the default 200 +
  // ERROR event (kube-apiserver does both, depending on the path taken).
  bool gone_as_http_status = false;
  // admission_webhooks: call the mutating webhooks registered in MutatingWebhookConfiguration
  // objects on create/update (kube-apiserver's MutatingAdmissionWebhook plugin, on by
  // default there too). Default true.
  bool admission_webhooks = true;
  // webhooks: how webhooks are reached (service endpoints, HTTP client seam).
  MutatingWebhookOptions webhooks;
  // fault_hook: called first for every request with (method, target). It may block (a slow
  // server) or return a response to send instead (429, 500, garbage). Test-only.
  std::function<std::optional<InjectedResponse>(const std::string& method,
                                                const std::string& target)>
      fault_hook;
  // request_observer: called for every request with (method, target, Authorization header).
  // Test-only.
  std::function<void(const std::string& method, const std::string& target,
                     const std::string& authorization)>
      request_observer;
  // --- parameters that affect performance ---
  std::chrono::milliseconds bookmark_interval{5000};
  int default_watch_timeout_seconds = 1800;
  // persist_interval: how often the journal size is checked for compaction. Default 500 ms.
  std::chrono::milliseconds persist_interval{500};
  // compact_bytes: journal segment size that triggers a snapshot. Default 16 MiB.
  uint64_t compact_bytes = uint64_t{16} << 20;
  // keep_alive_timeout: idle keep-alive connections are closed after this; Stop() may wait
  // this long for idle client connections. Default 1 s.
  std::chrono::seconds keep_alive_timeout{1};
  // threads: concurrent connections served (each open watch holds one). Default 64.
  size_t threads = 64;
  // max_body_bytes: larger request bodies get 413. Default 8 MiB.
  size_t max_body_bytes = size_t{8} << 20;
};

class LocalApiServer {
 public:
  // LocalApiServer: uses `store` when given (so a restarted server keeps state and history),
  // else a fresh one.
  explicit LocalApiServer(LocalApiServerOptions options,
                          std::shared_ptr<ObjectStore> store = nullptr);
  ~LocalApiServer();
  LocalApiServer(const LocalApiServer&) = delete;
  LocalApiServer& operator=(const LocalApiServer&) = delete;

  // Start: binds address:port (port 0 picks a free one) and serves on background threads.
  // @return the bound port; kUnavailable if binding fails; kFailedPrecondition/kInvalidArgument
  //   if the persist directory is missing, not writable or cannot be loaded (kInvalidArgument
  //   / kDataLoss for a malformed snapshot / corrupt journal); kInvalidArgument when tls.key_file
  //   is missing or the certificate, key or client CA cannot be loaded (unreadable, malformed,
  //   mismatched). REQUIRES: not started.
  Result<int> Start(const std::string& address, int port);
  // Stop: ends open watches, stops serving, compacts the persist directory. Idempotent.
  void Stop();

  // url: "http://<address>:<port>" (or "https://…" with TLS) once started.
  std::string url() const { return url_; }
  ObjectStore& store() { return *store_; }
  ObjectApi& api() { return api_; }

 private:
  void Route(const void* request, void* response);
  void ServeWatch(const ResourceInfo& info, const std::string& ns, const void* request,
                  void* response);
  // ServeLogs: pods/{name}/log, proxied to the node's kubelet (pod_logs.h).
  void ServeLogs(const std::string& ns, const std::string& name, const void* request,
                 void* response);
  void ReaperLoop() NPUSHARE_EXCLUDES(mu_);
  void PersistLoop() NPUSHARE_EXCLUDES(mu_);

  const LocalApiServerOptions options_;
  std::shared_ptr<ObjectStore> store_;
  // persistence_ journals store_'s writes while set; reset (detached) at Stop().
  std::unique_ptr<StorePersistence> persistence_;
  // admission_ is used by api_, so it is declared (constructed) before it.
  std::unique_ptr<MutatingWebhookAdmission> admission_;
  ObjectApi api_;
  std::unique_ptr<httplib::Server> http_;
  std::thread listen_thread_;
  std::thread reaper_thread_;
  std::thread persist_thread_;
  std::atomic<bool> stopping_{false};
  Mutex mu_;
  CondVar cv_;  // wakes the reaper/persist loops on Stop()
  std::string url_;
  std::string address_;
  bool started_ = false;
};

}  // namespace npushare::kube_local
