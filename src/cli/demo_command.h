// File: cli/demo_command.h
//
// `npushare demo [ARGS...]`: runs the local whole-cluster demo (issue 12) by exec'ing
// `npushare-demo` from the directory this `npushare` binary is in, with ARGS passed through
// unchanged (`npushare demo --help` shows the demo's own flags). Nothing returns on success:
// the demo replaces this process, so its exit status and Ctrl-C handling are the command's.
//
// Usage (cli_app.cc): if (demo->parsed()) return RunDemo(demo->remaining(), err);
//
// Thread safety: exec replaces the process; call it from main's thread only.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace npushare::cli {

// DemoBinaryPath: <directory of /proc/self/exe>/npushare-demo ("" when unreadable).
std::string DemoBinaryPath();

// RunDemo: execs DemoBinaryPath() with `args`. Returns only on failure: 127 when the demo
// binary is missing or cannot be executed, with the reason on `err`.
int RunDemo(const std::vector<std::string>& args, std::ostream& err);

}  // namespace npushare::cli
