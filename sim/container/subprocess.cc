#include "sim/container/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <sstream>

extern char** environ;

namespace npushare::container_sim {
namespace {

// CStrings: a NULL-terminated char* array over owned strings, built before spawning.
class CStrings {
 public:
  explicit CStrings(const std::vector<std::string>& items) : items_(items) {
    for (auto& s : items_) {
      ptrs_.push_back(s.data());
    }
    ptrs_.push_back(nullptr);
  }
  char** get() { return ptrs_.data(); }

 private:
  std::vector<std::string> items_;
  std::vector<char*> ptrs_;
};

class FdCloser {
 public:
  explicit FdCloser(int fd = -1) : fd_(fd) {}
  ~FdCloser() { Reset(); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) {
      close(fd_);
    }
    fd_ = -1;
  }

 private:
  int fd_;
};

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

Result<pid_t> Spawn(const std::vector<std::string>& argv,
                    const std::optional<std::vector<std::string>>& env, SpawnActions& actions) {
  if (argv.empty()) {
    return InvalidArgumentError("empty command");
  }
  CStrings args(argv);
  std::optional<CStrings> envp;
  if (env.has_value()) {
    envp.emplace(*env);
  }
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), actions.get(), nullptr, args.get(),
                       envp.has_value() ? envp->get() : environ);
  if (rc != 0) {
    return NotFoundError("cannot start " + argv[0] + ": " + strerror(rc));
  }
  return pid;
}

}  // namespace

ssize_t WriteNoSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set;
  sigset_t old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n = write(fd, data, size);
  int saved = errno;
  if (n < 0 && saved == EPIPE) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved;
  return n;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return WEXITSTATUS(wait_status);
  }
  if (WIFSIGNALED(wait_status)) {
    return 128 + WTERMSIG(wait_status);
  }
  return -1;
}

Result<pid_t> SpawnWithOutput(const std::vector<std::string>& argv,
                              const std::optional<std::vector<std::string>>& env, int out_fd) {
  SpawnActions actions;
  posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(actions.get(), out_fd, 1);
  posix_spawn_file_actions_adddup2(actions.get(), out_fd, 2);
  return Spawn(argv, env, actions);
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const CommandOptions& options) {
  int in[2];
  int out[2];
  int err[2];
  if (pipe2(in, O_CLOEXEC) != 0) {
    return FileSystemError(errno, "pipe");
  }
  FdCloser in_r(in[0]), in_w(in[1]);
  if (pipe2(out, O_CLOEXEC) != 0) {
    return FileSystemError(errno, "pipe");
  }
  FdCloser out_r(out[0]), out_w(out[1]);
  if (pipe2(err, O_CLOEXEC) != 0) {
    return FileSystemError(errno, "pipe");
  }
  FdCloser err_r(err[0]), err_w(err[1]);
  SpawnActions actions;
  posix_spawn_file_actions_adddup2(actions.get(), in_r.get(), 0);
  posix_spawn_file_actions_adddup2(actions.get(), out_w.get(), 1);
  posix_spawn_file_actions_adddup2(actions.get(), err_w.get(), 2);
  NPUSHARE_ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, options.env, actions));
  in_r.Reset();
  out_w.Reset();
  err_w.Reset();

  CommandResult result;
  size_t written = 0;
  if (options.stdin_data.empty()) {
    in_w.Reset();
  } else {
    fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
  }
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool timed_out = false;
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    fds[n++] = {out_open ? out_r.get() : -1, POLLIN, 0};
    fds[n++] = {err_open ? err_r.get() : -1, POLLIN, 0};
    fds[n++] = {in_w.get(), POLLOUT, 0};
    int rc = poll(fds.data(), n, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (rc < 0 && errno != EINTR) {
      break;
    }
    if (fds[2].revents != 0 && in_w.get() >= 0) {
      ssize_t w = WriteNoSigpipe(in_w.get(), options.stdin_data.data() + written,
                                 options.stdin_data.size() - written);
      if (w > 0) {
        written += static_cast<size_t>(w);
      }
      if (w < 0 && errno != EAGAIN) {
        in_w.Reset();  // the child closed its stdin; its exit status tells the story
      } else if (written == options.stdin_data.size()) {
        in_w.Reset();
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) {
        continue;
      }
      char buf[4096];
      ssize_t r = read(fds[i].fd, buf, sizeof(buf));
      if (r <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      std::string& dst = i == 0 ? result.out : result.err;
      if (dst.size() < options.max_output) {
        dst.append(buf, std::min(static_cast<size_t>(r), options.max_output - dst.size()));
      }
    }
  }
  in_w.Reset();
  if (timed_out) {
    kill(pid, SIGKILL);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return Status(
        StatusCode::kDeadlineExceeded,
        argv[0] + " did not finish within " + std::to_string(options.timeout.count()) + " ms");
  }
  result.exit_code = ExitCodeOf(status);
  return result;
}

std::string FindExecutable(const std::string& name, const std::string& path) {
  if (name.empty()) {
    return "";
  }
  if (name.find('/') != std::string::npos) {
    return name;
  }
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) {
      continue;
    }
    std::string candidate = dir + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

std::string Tail(const std::string& text, size_t max) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) {
    t.pop_back();
  }
  if (t.size() <= max) {
    return t;
  }
  std::string cut = t.substr(t.size() - max);
  size_t nl = cut.find('\n');
  return nl != std::string::npos && nl + 1 < cut.size() ? "..." + cut.substr(nl + 1) : "..." + cut;
}

}  // namespace npushare::container_sim
