// File: sim/kubelet/container_logs_server.h
//
// ContainerLogsServer: the kubelet's read-only HTTP endpoint for container logs, as kube-local
// (and so `kubectl logs`) reaches it through the Node's InternalIP and
// daemonEndpoints.kubeletEndpoint.Port:
//   GET /containerLogs/{namespace}/{pod}/{container}
//       ?tailLines=N   only the last N lines (N >= 0; otherwise 400)
//       ?follow=true   keep streaming (chunked) until the container is no longer running
//       ?previous=true the previous run's log (404 when there is none)
//   -> 200 text/plain; 404 for an unknown pod or container; 400 for a bad query.
// Which file to read comes from a LogLookup callback (the NodeAgent's pods), so the server holds
// no pod state itself. At most the last 64 MiB of a log is served without follow.
//
// Usage:
//   ContainerLogsServer logs([&](const LogKey& k) { return agent.FindLog(k); });
//   NPUSHARE_ASSIGN_OR_RETURN(int port, logs.Start("127.0.0.1", 0));
//   ...
//   logs.Stop();
//
// Thread safety: Start/Stop from one thread; the lookup is called from server threads
// concurrently and must be thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace npushare::kubelet_sim {

// LogKey: what the URL names.
struct LogKey {
  std::string namespace_name;
  std::string pod;
  std::string container;
  bool previous = false;
};

// LogTarget: where that log is and whether its writer may still append.
struct LogTarget {
  std::string path;
  // running: true while the container runs (follow keeps streaming). Called from server threads.
  std::function<bool()> running;
};

using LogLookup = std::function<std::optional<LogTarget>(const LogKey&)>;

class ContainerLogsServer {
 public:
  explicit ContainerLogsServer(LogLookup lookup);
  // ~ContainerLogsServer: Stop().
  ~ContainerLogsServer();
  ContainerLogsServer(const ContainerLogsServer&) = delete;
  ContainerLogsServer& operator=(const ContainerLogsServer&) = delete;

  // Start: listens on host:port (0 = ephemeral) and serves in a thread. Returns the bound port;
  // kUnavailable when it cannot bind. REQUIRES: not started.
  Result<int> Start(const std::string& host, int port);
  // Stop: ends following streams, stops serving and joins the thread. Idempotent.
  void Stop();

 private:
  LogLookup lookup_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace npushare::kubelet_sim
