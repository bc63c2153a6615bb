// File: scheduler/http/scheduler_http_server.h
//
// SchedulerHttpServer: npushare-scheduler's HTTP face (cpp-httplib). As upstream HAMi, every
// route is served on one address (--http_bind), over TLS when a certificate is given; a
// second plain-HTTP address (--metrics-bind-address) serves /metrics and /healthz for
// Prometheus.
//
// Routes (a table; GET /help lists it):
//   POST /filter                     extender filter  (ExtenderArgs -> ExtenderFilterResult)
//   POST /bind                       extender bind    (ExtenderBindingArgs -> ..Result)
//   POST /webhook, /webhook/mutating mutating admission webhook (AdmissionReview v1/v1beta1)
//   GET  /healthz                    200 "ok" while the process serves
//   GET  /readyz                     200 when ExtenderService::Ready(), else 503
//   GET  /metrics                    Prometheus text: HTTP series + the service's own
//   GET  /help                       this table
//   + SchedulerHttpOptions::metrics_extra_routes on the metrics address (the dashboard)
// Paths are matched exactly; the query (the API server appends ?timeout=10s) is ignored.
//
// Bad input (never a crash, never a lock held across it — the service is only called with a
// canonical, shape-checked body):
//   body over max_body_bytes                   -> 413
//   Content-Type other than application/json  -> 415
//   not JSON, nested deeper than 64, wrong shape or unknown fields -> 400
// On /filter and /bind the error body is still a valid ExtenderFilterResult /
// ExtenderBindingResult whose Error says what was wrong; on /webhook it is a metav1 Status.
// ExtenderService errors: kInvalidArgument -> 400, any other code -> 200 with Error set
// (kube-scheduler then shows the message in the pod's FailedScheduling event).
//
// Usage:
//   SchedulerHttpOptions o; o.bind_address = "0.0.0.0:443"; o.cert_file = ...; o.key_file = ...;
//   SchedulerHttpServer server(o, service, webhook, [&] { return service.MetricsText(); });
//   NPUSHARE_RETURN_IF_ERROR(server.Start());     // binds both addresses, serves in threads
//   ... server.Port(), server.MetricsPort() ...
//   server.Stop();                                // idempotent; the destructor calls it
//
// Thread safety: Start/Stop from one thread; handlers run concurrently on worker threads and
// need ExtenderService, AdmissionWebhook and the metrics source to be thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "scheduler/extender_service.h"
#include "scheduler/http/admission_webhook.h"

namespace httplib {
class Server;
}

namespace npushare::scheduler::http {

class ServingCertificate;
class HttpMetrics;

struct SchedulerHttpOptions {
  // --- correctness ---
  // bind_address: --http_bind, "host:port", ":port" (all interfaces) or "[v6]:port"; port 0
  // picks a free port (see Port()). Default HAMi's 127.0.0.1:8080.
  std::string bind_address = "127.0.0.1:8080";
  // cert_file / key_file: --cert_file / --key_file; both set = TLS, both empty = plain HTTP.
  std::string cert_file;
  std::string key_file;
  // cert_poll_period: how often the certificate files are checked for a change.
  std::chrono::milliseconds cert_poll_period{5000};
  // metrics_bind_address: --metrics-bind-address; plain HTTP /metrics + /healthz. Empty: none.
  std::string metrics_bind_address;
  // metrics_extra_routes / register_metrics_routes: more GET routes on the metrics address
  // (the dashboard's /ui and /api/v1/cluster): the rows are listed in its /help and counted
  // in the request metric; the function adds the handlers before the server starts.
  struct ExtraRoute {
    std::string path;
    std::string help;
  };
  std::vector<ExtraRoute> metrics_extra_routes;
  std::function<void(httplib::Server&)> register_metrics_routes;
  // webhook_paths: where the admission webhook answers (HAMi charts use both).
  std::vector<std::string> webhook_paths = {"/webhook", "/webhook/mutating"};
  // max_body_bytes: larger request bodies are refused with 413. Default 4 MiB (a Pod is
  // limited to ~1.5 MiB by etcd; ExtenderArgs with 5,000 node names is ~150 KiB).
  size_t max_body_bytes = size_t{4} << 20;

  // --- parameters that affect performance ---
  // worker_threads: connections served at once (cpp-httplib holds a thread per connection,
  // idle keep-alive connections included). Default 16.
  int worker_threads = 16;
  // keep_alive_max_requests: requests per connection before it is closed. Default 10,000
  // (kube-scheduler reuses one connection; reconnecting costs a TLS handshake).
  int keep_alive_max_requests = 10000;
  // read_timeout / write_timeout: per socket operation. Default 30 s (kube-scheduler's
  // extender timeout in HAMi's chart).
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{30};
};

// BindAddress: a parsed "host:port".
struct BindAddress {
  std::string host;  // "0.0.0.0" for ":port"; IPv6 without brackets
  int port = 0;
};
// ParseBindAddress: kInvalidArgument unless `text` is host:port, :port or [v6]:port with a
// port in 0..65535.
Result<BindAddress> ParseBindAddress(const std::string& text);

class SchedulerHttpServer {
 public:
  // MetricsSource: extra exposition text appended to /metrics (the service's series); may be
  // empty.
  using MetricsSource = std::function<std::string()>;

  // REQUIRES: service and webhook outlive the server.
  SchedulerHttpServer(SchedulerHttpOptions options, ExtenderService& service,
                      const AdmissionWebhook& webhook, MetricsSource metrics = nullptr);
  ~SchedulerHttpServer();
  SchedulerHttpServer(const SchedulerHttpServer&) = delete;
  SchedulerHttpServer& operator=(const SchedulerHttpServer&) = delete;

  // Start: loads the certificate (kFailedPrecondition/kInvalidArgument as
  // ServingCertificate::Load), binds both addresses (kUnavailable when a port is taken,
  // kInvalidArgument for a malformed address) and starts serving. REQUIRES: called once.
  Status Start();
  // Stop: stops accepting, finishes requests in flight, joins threads. Idempotent.
  void Stop();

  // Port / MetricsPort: the bound ports (after Start); 0 when not bound.
  int Port() const { return port_; }
  int MetricsPort() const { return metrics_port_; }
  bool Tls() const { return certificate_ != nullptr; }

  // ReloadCertificate: checks the certificate files now (the poll thread calls this every
  // cert_poll_period). true when a new pair is in force; false when unchanged or plain HTTP;
  // an error when the new pair was rejected (the old one stays; logged and counted).
  Result<bool> ReloadCertificate();

  // MetricsText: the full /metrics body.
  std::string MetricsText() const;

 private:
  void RegisterRoutes(httplib::Server& server, bool metrics_only);
  void PollCertificates() NPUSHARE_EXCLUDES(poll_mu_);

  const SchedulerHttpOptions options_;
  ExtenderService& service_;
  const AdmissionWebhook& webhook_;
  const MetricsSource metrics_source_;
  std::unique_ptr<HttpMetrics> metrics_;
  // certificate_ must outlive server_ (its SSL_CTX calls back into it): declared before it.
  std::unique_ptr<ServingCertificate> certificate_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<httplib::Server> metrics_server_;
  std::thread serve_thread_;
  std::thread metrics_thread_;
  std::thread poll_thread_;
  Mutex poll_mu_;
  CondVar poll_cv_;
  bool stopping_ NPUSHARE_GUARDED_BY(poll_mu_) = false;
  int port_ = 0;
  int metrics_port_ = 0;
  bool started_ = false;
};

}  // namespace npushare::scheduler::http
