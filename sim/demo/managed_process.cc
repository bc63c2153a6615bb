#include "sim/demo/managed_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace npushare::demo {
namespace {

std::string StatusText(int status) {
  if (WIFEXITED(status)) {
    return "exit " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return "signal " + std::to_string(WTERMSIG(status));
  }
  return "status " + std::to_string(status);
}

}  // namespace

Result<std::unique_ptr<ManagedProcess>> ManagedProcess::Start(ProcessSpec spec) {
  if (spec.argv.empty()) {
    return InvalidArgumentError("no command for " + spec.name);
  }
  int log = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log < 0) {
    return InternalError("cannot open " + spec.log_path + ": " + std::strerror(errno));
  }
  std::unique_ptr<ManagedProcess> p(new ManagedProcess(std::move(spec)));
  struct stat st {};
  p->log_start_ = ::fstat(log, &st) == 0 ? st.st_size : 0;
  // Everything the child needs is built before fork: this process has threads.
  std::vector<char*> args;
  for (auto& a : p->spec_.argv) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : p->spec_.env) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  char** env = p->spec_.env.empty() ? environ : envp.data();
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    if (devnull >= 0) {
      ::close(devnull);
    }
    return InternalError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    // If the demo itself is killed (SIGKILL skips its orderly stop), its components follow.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    // The demo's Ctrl-C goes to our process group only; components get SIGTERM from Stop().
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
    }
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execve(args[0], args.data(), env);
    _exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so Stop() never races the child's own call
  ::close(log);
  if (devnull >= 0) {
    ::close(devnull);
  }
  p->pid_ = pid;
  return p;
}

ManagedProcess::~ManagedProcess() {
  Stop(std::chrono::milliseconds(0));
}

bool ManagedProcess::Running() {
  if (pid_ <= 0 || reaped_) {
    return false;
  }
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = status;
    return false;
  }
  return true;
}

std::string ManagedProcess::LogTail(size_t bytes) const {
  std::ifstream in(spec_.log_path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  if (static_cast<off_t>(all.size()) > log_start_) {
    all = all.substr(static_cast<size_t>(log_start_));
  } else {
    all.clear();
  }
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

Result<std::string> ManagedProcess::WaitForLine(const std::string& prefix,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::ifstream in(spec_.log_path, std::ios::binary);
    in.seekg(log_start_);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(prefix, 0) == 0 && !in.eof()) {  // a complete line only
        return line;
      }
    }
    if (!Running()) {
      return UnavailableError(spec_.name + " exited (" + StatusText(status_) +
                              ") before printing \"" + prefix + "...\"; its log " + spec_.log_path +
                              " ends with:\n" + LogTail(1500));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(StatusCode::kDeadlineExceeded,
                    spec_.name + " did not print \"" + prefix + "...\" within " +
                        std::to_string(timeout.count() / 1000) + " s; see " + spec_.log_path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the log file
  }
}

std::string ManagedProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) {
    return "not started";
  }
  if (!reaped_) {
    // The leader first, so it can stop what it started (a kubelet its containers); the rest of
    // the group is killed below.
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (Running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (Running()) {
      ::kill(-pid_, SIGKILL);
      int status = 0;
      if (::waitpid(pid_, &status, 0) == pid_) {
        status_ = status;
      }
      reaped_ = true;
    }
  }
  // Whatever else is left in the group (children that outlived the leader) goes too.
  ::kill(-pid_, SIGKILL);
  return StatusText(status_);
}

bool ManagedProcess::GroupGone() const {
  return pid_ <= 0 || (::kill(-pid_, 0) != 0 && errno == ESRCH);
}

Result<int> FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return UnavailableError(std::string("socket: ") + std::strerror(errno));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port == 0) {
    return UnavailableError("no free loopback port");
  }
  return port;
}

}  // namespace npushare::demo
