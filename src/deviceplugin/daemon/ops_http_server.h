// File: deviceplugin/daemon/ops_http_server.h
//
// OpsHttpServer: the daemon's small operations HTTP server (GET only). Endpoints are declared
// in one table (path, help text, whether calling it changes state); /help is generated from
// that table, so it cannot drift from what is served.
//
// Usage:
//   OpsHttpServer http({{"/metrics", "Prometheus metrics", false, [&] { return Metrics(); }},
//                       {"/healthz", "200 when serving", false, [&] { return Health(); }}});
//   NPUSHARE_ASSIGN_OR_RETURN(int port, http.Start("0.0.0.0", 9395));
//   ...
//   http.Stop();
//
// Thread safety: handlers run on the server's worker threads, concurrently: they must be
// thread-safe. Start/Stop from one owner thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace npushare::deviceplugin::daemon {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpEndpoint {
  std::string path;
  std::string help;
  bool changes_state = false;
  std::function<HttpReply()> handler;
};

class OpsHttpServer {
 public:
  explicit OpsHttpServer(std::vector<HttpEndpoint> endpoints);
  // ~OpsHttpServer: Stop().
  ~OpsHttpServer();
  OpsHttpServer(const OpsHttpServer&) = delete;
  OpsHttpServer& operator=(const OpsHttpServer&) = delete;

  // Start: binds host:port (port 0 picks one) and serves on a thread. Returns the bound port;
  // kUnavailable when the address cannot be bound.
  Result<int> Start(const std::string& host, int port);
  // Stop: stops serving and joins the thread. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace npushare::deviceplugin::daemon
