// File: sim/container/child_reaper.h
//
// ChildReaper: a thread that waits for one child process and publishes its exit code, so that
// several threads can wait for it with a timeout (waitpid itself cannot time out).
//
// Usage:
//   ChildReaper reaper(pid);
//   if (!reaper.WaitFor(std::chrono::seconds(5))) kill(pid, SIGKILL);
//
// Thread safety: all methods are safe for concurrent use. The destructor joins the thread, so
// the child must have exited (or be about to) before the reaper is destroyed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "common/thread_annotations.h"

namespace npushare::container_sim {

class ChildReaper {
 public:
  // on_exit (optional) runs on the reaper thread after the child was reaped and before the
  // code is published, so waiters see its effects (the namespace runtime's poststop hooks).
  explicit ChildReaper(pid_t pid, std::function<void(int)> on_exit = {});
  ~ChildReaper();
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  pid_t pid() const { return pid_; }
  // WaitFor: true once the child has been reaped (within `timeout`).
  bool WaitFor(std::chrono::milliseconds timeout) NPUSHARE_EXCLUDES(mu_);
  // code: 0..255 or 128 + signal once reaped (-1 if someone else reaped it).
  std::optional<int> code() const NPUSHARE_EXCLUDES(mu_);

 private:
  const pid_t pid_;
  mutable Mutex mu_;
  CondVar cv_;
  std::optional<int> code_ NPUSHARE_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace npushare::container_sim
