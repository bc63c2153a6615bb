// File: sim/demo/command.h
//
// RunCommand: runs a short command (kubectl, npu-sim, npu-smi, npushare certs) to completion
// with a deadline and returns its exit code and output (stdout and stderr together).
//
// Thread safety: safe to call from several threads.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::demo {

struct CommandResult {
  int exit_code = -1;  // -1 when killed at the deadline or by a signal
  std::string output;
};

// RunCommand: `env` is the whole environment (empty: inherit). Output beyond 4 MiB is dropped.
// @return kInternal when it cannot be started.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env,
                                 std::chrono::milliseconds timeout);

// FindOnPath: the full path of `name` on $PATH, or "".
std::string FindOnPath(const std::string& name);

}  // namespace npushare::demo
