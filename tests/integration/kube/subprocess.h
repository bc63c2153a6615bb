// Minimal subprocess helper for tests: spawn with a pipe on stdout+stderr, read lines with a
// deadline (poll, never sleep), terminate, reap.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace npushare::kube::testing {

class Subprocess {
 public:
  // Spawn: runs argv[0] (searched on PATH) with extra `env` entries ("K=V"). stdout and stderr
  // go to one pipe.
  bool Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
    int fds[2];
    if (pipe(fds) != 0)
      return false;
    pid_ = fork();
    if (pid_ < 0)
      return false;
    if (pid_ == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      for (const auto& e : env)
        putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> args;
      for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
    return true;
  }
  ~Subprocess() {
    Kill(SIGKILL);
    Wait();
    if (fd_ >= 0)
      close(fd_);
  }

  // ReadLine: the next line, or nullopt at EOF or when `timeout` passes first.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || fd_ < 0)
        return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char tmp[4096];
      ssize_t n = read(fd_, tmp, sizeof(tmp));
      if (n <= 0) {
        if (buf_.empty())
          return std::nullopt;
        std::string rest;
        rest.swap(buf_);
        return rest;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  // ReadAll: everything until EOF (bounded by `timeout`).
  std::string ReadAll(std::chrono::milliseconds timeout) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (auto line = ReadLine(std::chrono::duration_cast<std::chrono::milliseconds>(
               deadline - std::chrono::steady_clock::now()))) {
      out += *line + "\n";
    }
    return out;
  }
  void Kill(int sig) {
    if (pid_ > 0 && !reaped_)
      kill(pid_, sig);
  }
  // Wait: the exit status (as from waitpid) once the child exits.
  int Wait() {
    if (pid_ <= 0 || reaped_)
      return status_;
    waitpid(pid_, &status_, 0);
    reaped_ = true;
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buf_;
  bool reaped_ = false;
  int status_ = -1;
};

// FindOnPath: the full path of `name` on $PATH, or "".
inline std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr)
    return "";
  std::string p(path);
  size_t start = 0;
  while (start <= p.size()) {
    size_t colon = p.find(':', start);
    if (colon == std::string::npos)
      colon = p.size();
    std::string cand = p.substr(start, colon - start) + "/" + name;
    if (access(cand.c_str(), X_OK) == 0)
      return cand;
    start = colon + 1;
  }
  return "";
}

}  // namespace npushare::kube::testing
