// File: tests/integration/dashboard/chromium_runner.h
//
// Headless Chromium for browser tests (Debian's `chromium`, scripts/packages/dashboard.txt),
// with the flags known to work on these machines as root: no sandbox, no background networking
// (the closed network refuses those connections), a fresh profile per run.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace npushare::dashboard::testing {

// ChromiumPath: $CHROMIUM or /usr/bin/chromium when executable, else "" (tests skip).
inline std::string ChromiumPath() {
  const char* env = getenv("CHROMIUM");
  for (const std::string& p :
       {env != nullptr ? std::string(env) : std::string(), std::string("/usr/bin/chromium")}) {
    if (!p.empty() && access(p.c_str(), X_OK) == 0) {
      return p;
    }
  }
  return "";
}

// RunChromium: headless Chromium on `url` with `extra` flags (the set known to work on this
// machine: no sandbox as root, no background networking); stdout to `out_path`. Killed after
// 180 s by coreutils `timeout`. Returns the exit status (-1 when it could not start).
inline int RunChromium(const std::string& url, const std::vector<std::string>& extra,
                       const std::string& out_path, const std::string& err_path,
                       const std::string& profile_dir) {
  std::vector<std::string> argv = {"/usr/bin/timeout",
                                   "180",
                                   ChromiumPath(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-dev-shm-usage",
                                   "--user-data-dir=" + profile_dir};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(url);
  std::vector<char*> args;
  for (std::string& a : argv) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace npushare::dashboard::testing
