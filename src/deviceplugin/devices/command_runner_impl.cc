#include "deviceplugin/devices/command_runner_impl.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace npushare::deviceplugin::devices {
namespace {

// WriteAll: writes `text` to the child's stdin socket. MSG_NOSIGNAL: a child that exits
// without reading gives EPIPE, not a process-killing SIGPIPE.
void WriteAll(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    off += static_cast<size_t>(n);
  }
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

Result<CommandResult> ForkExecRunner::Run(const std::vector<std::string>& argv,
                                          const std::string& stdin_text,
                                          std::chrono::milliseconds timeout) {
  if (argv.empty()) {
    return InvalidArgumentError("empty command");
  }
  if (access(argv[0].c_str(), X_OK) != 0) {
    return NotFoundError("cannot execute " + argv[0]);
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  int in[2];
  int out[2];
  // stdin is a socket pair rather than a pipe so that writing can use MSG_NOSIGNAL.
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
    return FileSystemError(errno, "socketpair");
  }
  if (pipe2(out, O_CLOEXEC) != 0) {
    const int err = errno;
    close(in[0]);
    close(in[1]);
    return FileSystemError(err, "pipe");
  }
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    for (int fd : {in[0], in[1], out[0], out[1]}) {
      close(fd);
    }
    return FileSystemError(err, "fork");
  }
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  WriteAll(in[1], stdin_text);
  close(in[1]);

  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd p {
      out[0], POLLIN, 0
    };
    const int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      continue;
    }
    const ssize_t n = read(out[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;  // EOF: the child closed its output (normally by exiting)
    }
    const size_t room = kMaxCommandOutput - std::min(kMaxCommandOutput, result.output.size());
    result.output.append(buf, std::min(room, static_cast<size_t>(n)));
  }
  close(out[0]);
  if (timed_out) {
    kill(pid, SIGKILL);
    WaitExit(pid);
    return Status(StatusCode::kDeadlineExceeded,
                  argv[0] + " did not finish within " + std::to_string(timeout.count()) + " ms");
  }
  result.exit_code = WaitExit(pid);
  return result;
}

}  // namespace npushare::deviceplugin::devices
