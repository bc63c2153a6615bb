// File: deviceplugin/devices/command_runner_impl.h
//
// ForkExecRunner: CommandRunner over fork + execv with pipes. The argument array is built
// before fork (the child of a threaded process must not allocate); the child gets stdin from
// a socket pair (written with MSG_NOSIGNAL), stdout and stderr go into one pipe, and it
// inherits nothing else of ours (O_CLOEXEC everywhere).
// Output beyond kMaxCommandOutput bytes is read and dropped so the child never blocks.
//
// Thread safety: safe for concurrent use (no shared state).
#pragma once

#include "deviceplugin/devices/command_runner.h"

namespace npushare::deviceplugin::devices {

inline constexpr size_t kMaxCommandOutput = 64 * 1024;

class ForkExecRunner final : public CommandRunner {
 public:
  Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string& stdin_text,
                            std::chrono::milliseconds timeout) override;
};

}  // namespace npushare::deviceplugin::devices
