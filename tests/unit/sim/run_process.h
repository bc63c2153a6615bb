// Test helper: run or spawn a built binary with pipes for stdin/stdout.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace npushare::sim::testing {

struct Child {
  pid_t pid = -1;
  int in_fd = -1;   // write end of the child's stdin
  int out_fd = -1;  // read end of the child's stdout
};

// SpawnOptions: what Spawn does besides the pipes.
struct SpawnOptions {
  // The child's whole environment (KEY=VALUE each); unset: this process's environment.
  std::optional<std::vector<std::string>> env;
  // Runs in the child, after the pipes are in place and before exec (it may _exit).
  std::function<void()> pre_exec;
};

// Spawn: starts `argv` (argv[0] is a path) with stdin/stdout on pipes; stderr inherited. The
// argument and environment arrays are built before fork: the child of a threaded test process
// must not allocate.
inline Child Spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {}) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  if (options.env.has_value()) {
    for (const auto& e : *options.env) {
      envp.push_back(const_cast<char*>(e.c_str()));
    }
    envp.push_back(nullptr);
  }
  int in[2];
  int out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    return {};
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    if (options.pre_exec) {
      options.pre_exec();
    }
    if (options.env.has_value()) {
      execve(args[0], args.data(), envp.data());
    } else {
      execv(args[0], args.data());
    }
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  return {pid, in[1], out[0]};
}

// ReadLine: one line from `fd` (without the newline); "" at EOF.
inline std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') {
    line += c;
  }
  return line;
}

// ReadAll: everything until EOF.
inline std::string ReadAll(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    s.append(buf, static_cast<size_t>(n));
  }
  return s;
}

// Wait: the exit status (0..255), or 128 + signal.
inline int Wait(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct RunResult {
  int exit_code;
  std::string out;
};

// RunBinary: runs `argv` to completion, feeding `input` on stdin.
inline RunResult RunBinary(const std::vector<std::string>& argv, const std::string& input = "") {
  Child c = Spawn(argv);
  if (c.pid < 0) {
    return {-1, ""};
  }
  if (!input.empty() && write(c.in_fd, input.data(), input.size()) < 0) {
    // The child may exit before reading; its exit status tells the story.
  }
  close(c.in_fd);
  std::string out = ReadAll(c.out_fd);
  close(c.out_fd);
  return {Wait(c.pid), out};
}

// BinPath: a binary of this build.
inline std::string BinPath(const std::string& name) {
  return std::string(NPUSHARE_BIN_DIR) + "/" + name;
}

}  // namespace npushare::sim::testing
