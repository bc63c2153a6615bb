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
    std::lock_guard<std::mutex> lock(mu_);
    code_ = code;
    cv_.notify_all();
  });
}

ChildReaper::~ChildReaper() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool ChildReaper::WaitFor(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return code_.has_value(); });
}

std::optional<int> ChildReaper::code() const {
  std::lock_guard<std::mutex> lock(mu_);
  return code_;
}

}  // namespace npushare::container_sim
