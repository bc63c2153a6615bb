// File: cli/cli_app.h
//
// RunCli: the `npushare` command line (subcommands `schedule`, `config validate`).
// Returns the process exit code. Streams are injected so tests can capture output.
#pragma once

#include <iosfwd>

namespace npushare::cli {

int RunCli(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace npushare::cli
