// File: sim/demo/managed_process.h
//
// ManagedProcess: one component of the demo cluster (kube-local, a kubelet, a device plugin,
// ...) run as a child in a process group of its own, stdout and stderr appended to a log file.
// Stopping signals the whole group (SIGTERM, then SIGKILL after a grace period), so whatever
// the component started (a runc shim, a workload it forgot) goes with it.
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(auto p, ManagedProcess::Start({.name = "kube-local",
//       .argv = {bin + "/kube-local", "--port", "0"}, .log_path = run + "/kube-local.log"}));
//   NPUSHARE_ASSIGN_OR_RETURN(std::string url, p->WaitForLine("http", 20s));
//   p->Stop(5s);
//
// Thread safety: one controlling thread per object.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::demo {

struct ProcessSpec {
  std::string name;               // for messages
  std::vector<std::string> argv;  // argv[0] is a path
  std::vector<std::string> env;   // the whole environment ("K=V"); empty: inherit ours
  std::string log_path;           // stdout + stderr, appended (created 0640)
};

class ManagedProcess {
 public:
  // Start: forks and execs in a new process group. @return kInternal when fork fails or the
  // log cannot be opened; an exec failure shows as an early exit (exit code 127).
  static Result<std::unique_ptr<ManagedProcess>> Start(ProcessSpec spec);
  ~ManagedProcess();  // Stop(0) if still running
  ManagedProcess(const ManagedProcess&) = delete;
  ManagedProcess& operator=(const ManagedProcess&) = delete;

  // WaitForLine: the first line of the log that starts with `prefix` (searching from the
  // start of this run's output). @return kDeadlineExceeded after `timeout`; kUnavailable when
  // the process exited first (the message has the log's tail).
  Result<std::string> WaitForLine(const std::string& prefix, std::chrono::milliseconds timeout);

  // Running: the process has not exited (reaps it when it has).
  bool Running();
  // Stop: SIGTERM to the leader, SIGKILL to the group after `grace` (and to whatever is left
  // of the group once the leader is gone); waits for the leader.
  // @return the exit status text ("exit 0", "signal 9"). Idempotent.
  std::string Stop(std::chrono::milliseconds grace);
  // GroupGone: no process of the group is left (checked after Stop()).
  bool GroupGone() const;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return spec_.name; }
  const std::string& log_path() const { return spec_.log_path; }
  // LogTail: the last `bytes` of the log.
  std::string LogTail(size_t bytes = 2000) const;

 private:
  explicit ManagedProcess(ProcessSpec spec) : spec_(std::move(spec)) {}

  ProcessSpec spec_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  off_t log_start_ = 0;  // size of the log before this run
};

// FreeLoopbackPort: a port that was free on 127.0.0.1 a moment ago (for components that must be
// told their port in advance). kUnavailable when none could be found.
Result<int> FreeLoopbackPort();

}  // namespace npushare::demo
