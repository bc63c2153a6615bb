#include "runtime/stream.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/device_timeline.h"

namespace npushare::sim {

void SleepUntil(uint64_t t_ns) {
  timespec ts{static_cast<time_t>(t_ns / 1'000'000'000ull),
              static_cast<long>(t_ns % 1'000'000'000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

uint64_t Event::BeginRecord() {
  std::lock_guard<std::mutex> l(mu_);
  return ++recorded_gen_;
}

void Event::Complete(uint64_t gen, uint64_t t_ns) {
  std::lock_guard<std::mutex> l(mu_);
  if (gen > completed_gen_) {
    completed_gen_ = gen;
    time_ns_ = t_ns;
  }
  cv_.notify_all();
}

uint64_t Event::WaitFor(uint64_t gen) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return completed_gen_ >= gen; });
  return time_ns_;
}

uint64_t Event::Latest() {
  std::lock_guard<std::mutex> l(mu_);
  return recorded_gen_;
}

bool Event::CompletedTime(uint64_t* t_ns) {
  std::lock_guard<std::mutex> l(mu_);
  if (recorded_gen_ == 0 || completed_gen_ < recorded_gen_) {
    return false;
  }
  *t_ns = time_ns_;
  return true;
}

Stream::Stream(const DeviceInfo* device) : device_(device), worker_([this] { WorkerLoop(); }) {}

Stream::~Stream() {
  Synchronize();
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    magic_ = 0;
  }
  work_cv_.notify_one();
  worker_.join();
}

void Stream::Enqueue(Task task) {
  std::unique_lock<std::mutex> l(mu_);
  if (queue_.size() >= kMaxDepth) {
    ++done_waiters_;
    done_cv_.wait(l, [&] { return queue_.size() < kMaxDepth; });
    --done_waiters_;
  }
  queue_.push_back(task);
  ++enqueued_;
  // Waking the worker costs a futex syscall; only pay it when the worker is actually parked.
  if (worker_idle_) {
    worker_idle_ = false;
    l.unlock();
    work_cv_.notify_one();
  }
}

void Stream::Synchronize() {
  std::unique_lock<std::mutex> l(mu_);
  uint64_t target = enqueued_;
  ++done_waiters_;
  done_cv_.wait(l, [&] { return completed_ >= target; });
  --done_waiters_;
}

void Stream::WorkerLoop() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    while (queue_.empty() && !stop_) {
      worker_idle_ = true;
      work_cv_.wait(l);
    }
    worker_idle_ = false;
    if (queue_.empty() && stop_) {
      return;
    }
    Task task = queue_.front();
    l.unlock();
    Execute(task);
    l.lock();
    queue_.pop_front();
    ++completed_;
    if (done_waiters_ > 0) {
      done_cv_.notify_all();
    }
  }
}

void Stream::Execute(Task& task) {
  const uint64_t not_before = std::max(task.enqueue_ns, device_time_ns_);
  switch (task.kind) {
    case Task::Kind::kKernel: {
      uint32_t range = device_->core_hi - device_->core_lo;
      uint32_t cores = std::clamp<uint32_t>(task.cores, 1, range);
      Reservation r{};
      {
        StateLock lock(*device_->state);
        r = ReserveKernel(lock->chips[device_->chip], device_->core_lo, device_->core_hi, cores,
                          not_before, task.duration_ns);
      }
      SleepUntil(r.end_ns);
      device_time_ns_ = r.end_ns;
      break;
    }
    case Task::Kind::kRecord:
      device_time_ns_ = not_before;
      task.event->Complete(task.gen, not_before);
      break;
    case Task::Kind::kWait: {
      uint64_t t = task.event->WaitFor(task.gen);
      device_time_ns_ = std::max(not_before, t);
      break;
    }
    case Task::Kind::kCopy:
      std::memmove(task.dst, task.src, task.bytes);
      device_time_ns_ = std::max(not_before, MonotonicNs());
      break;
  }
}

}  // namespace npushare::sim
