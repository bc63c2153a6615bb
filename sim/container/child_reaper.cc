#include "sim/container/child_reaper.h"

#include <errno.h>
#include <sys/wait.h>

#include "sim/container/subprocess.h"

namespace npushare::container_sim {

ChildReaper::ChildReaper(pid_t pid, std::function<void(int)> on_exit) : pid_(pid) {
  thread_ = std::thread([this, on_exit = std::move(on_exit)] {
    int status = 0;
    pid_t r;
    do {
      r = waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    int code = r == pid_ ? ExitCodeOf(status) : -1;
    if (on_exit) {
      on_exit(code);
    }
    MutexLock lock(&mu_);
    code_ = code;
    cv_.NotifyAll();
  });
}

ChildReaper::~ChildReaper() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool ChildReaper::WaitFor(std::chrono::milliseconds timeout) {
  MutexLock lock(&mu_);
  return cv_.WaitFor(&mu_, timeout, [this]() NPUSHARE_REQUIRES(mu_) { return code_.has_value(); });
}

std::optional<int> ChildReaper::code() const {
  MutexLock lock(&mu_);
  return code_;
}

}  // namespace npushare::container_sim
