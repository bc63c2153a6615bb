// File: sim/container/subprocess.h
//
// Running helper processes (runc, the ascend hook) from a multi-threaded program: posix_spawn
// only (no allocation between fork and exec), every descriptor of ours close-on-exec, output
// captured up to a limit, and a deadline after which the process is killed.
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(CommandResult r,
//       RunCommand({"/usr/sbin/runc", "--version"}, CommandOptions{}));
//   if (r.exit_code != 0) return FailedPreconditionError(r.err);
//
// Thread safety: the functions are safe to call concurrently.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::container_sim {

struct CommandOptions {
  // The whole environment ("K=V"); unset: this process's environment.
  std::optional<std::vector<std::string>> env;
  std::string stdin_data;                     // written to the child's stdin, then closed
  std::chrono::milliseconds timeout{30'000};  // then SIGKILL and kDeadlineExceeded
  size_t max_output = 1 << 20;                // per stream; the rest is discarded
};

struct CommandResult {
  int exit_code = -1;  // 0..255, or 128 + signal
  std::string out;
  std::string err;
};

// RunCommand: runs argv (argv[0] is a path) to completion. kNotFound when it cannot be
// started, kDeadlineExceeded when it outlived options.timeout (it is killed and reaped).
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const CommandOptions& options);

// SpawnWithOutput: starts argv with stdin from /dev/null and stdout+stderr on `out_fd`; the
// caller reaps the returned pid.
Result<pid_t> SpawnWithOutput(const std::vector<std::string>& argv,
                              const std::optional<std::vector<std::string>>& env, int out_fd);

// WriteNoSigpipe: write(2) that turns a closed reader into EPIPE instead of a SIGPIPE that
// would kill the whole process: SIGPIPE is blocked on this thread for the call and a pending
// one is consumed.
ssize_t WriteNoSigpipe(int fd, const char* data, size_t size);

// ExitCodeOf: a waitpid status as 0..255 or 128 + signal.
int ExitCodeOf(int wait_status);

// FindExecutable: `name` itself when it contains '/', else the first executable file named
// `name` in the directories of `path` (a PATH value). Empty when there is none.
std::string FindExecutable(const std::string& name, const std::string& path);

// Tail: the last `max` bytes of `text` (whole lines where possible), for error messages.
std::string Tail(const std::string& text, size_t max = 2000);

}  // namespace npushare::container_sim
