#include "sim/demo/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace npushare::demo {

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env,
                                 std::chrono::milliseconds timeout) {
  if (argv.empty()) {
    return InvalidArgumentError("empty command");
  }
  std::vector<std::string> args_copy = argv;
  std::vector<std::string> env_copy = env;
  std::vector<char*> args;
  for (auto& a : args_copy) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_copy) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  char** use_env = env.empty() ? environ : envp.data();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return InternalError(std::string("pipe: ") + std::strerror(errno));
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return InternalError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
    }
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    if (args[0][0] == '/') {
      ::execve(args[0], args.data(), use_env);
    } else {
      environ = use_env;
      ::execvp(args[0], args.data());
    }
    _exit(127);
  }
  ::close(fds[1]);
  if (devnull >= 0) {
    ::close(devnull);
  }
  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool killed = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 200)));
    if (n <= 0) {
      continue;
    }
    char buf[4096];
    ssize_t got = ::read(fds[0], buf, sizeof(buf));
    if (got <= 0) {
      break;
    }
    if (result.output.size() < (size_t{4} << 20)) {
      result.output.append(buf, static_cast<size_t>(got));
    }
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) {
    return "";
  }
  std::string p(path);
  size_t start = 0;
  while (start <= p.size()) {
    size_t colon = p.find(':', start);
    if (colon == std::string::npos) {
      colon = p.size();
    }
    std::string cand = p.substr(start, colon - start) + "/" + name;
    if (::access(cand.c_str(), X_OK) == 0) {
      return cand;
    }
    start = colon + 1;
  }
  return "";
}

}  // namespace npushare::demo
