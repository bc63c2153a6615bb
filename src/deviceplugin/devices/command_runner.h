// File: deviceplugin/devices/command_runner.h
//
// CommandRunner: the seam for running an external tool (npu-smi) with text on its stdin and
// its output collected. ForkExecRunner (command_runner_impl.h) is the production version;
// tests script the results.
//
// Thread safety: implementations are safe for concurrent use.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::deviceplugin::devices {

// CommandResult: how a command that ran ended.
struct CommandResult {
  int exit_code = -1;  // exit status, or 128 + signal number when killed by a signal
  std::string output;  // stdout and stderr interleaved, truncated to a bounded size
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Run: runs argv[0] (a path) with `argv`, writes `stdin_text` to its stdin then closes it.
  // Returns the CommandResult once it exited (any exit code). Errors: kNotFound when it
  // cannot be started, kDeadlineExceeded when it ran longer than `timeout` (it is killed).
  virtual Result<CommandResult> Run(const std::vector<std::string>& argv,
                                    const std::string& stdin_text,
                                    std::chrono::milliseconds timeout) = 0;
};

}  // namespace npushare::deviceplugin::devices
