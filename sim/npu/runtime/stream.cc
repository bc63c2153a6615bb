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
  MutexLock l(&mu_);
  return ++recorded_gen_;
}

void Event::Complete(uint64_t gen, uint64_t t_ns) {
  MutexLock l(&mu_);
  if (gen > completed_gen_) {
    completed_gen_ = gen;
    time_ns_ = t_ns;
  }
  cv_.NotifyAll();
}

uint64_t Event::WaitFor(uint64_t gen) {
  MutexLock l(&mu_);
  cv_.Wait(&mu_, [&]() NPUSHARE_REQUIRES(mu_) { return completed_gen_ >= gen; });
  return time_ns_;
}

uint64_t Event::Latest() {
  MutexLock l(&mu_);
  return recorded_gen_;
}

bool Event::CompletedTime(uint64_t* t_ns) {
  MutexLock l(&mu_);
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
    MutexLock l(&mu_);
    stop_ = true;
    magic_ = 0;
  }
  work_cv_.NotifyOne();
  worker_.join();
}

void Stream::Enqueue(Task task) {
  MutexLock l(&mu_);
  if (queue_.size() >= kMaxDepth) {
    ++done_waiters_;
    done_cv_.Wait(&mu_, [&]() NPUSHARE_REQUIRES(mu_) { return queue_.size() < kMaxDepth; });
    --done_waiters_;
  }
  queue_.push_back(task);
  ++enqueued_;
  // Waking the worker costs a futex syscall; only pay it when the worker is actually parked.
  if (worker_idle_) {
    worker_idle_ = false;
    l.Unlock();
    work_cv_.NotifyOne();
  }
}

void Stream::Synchronize() {
  MutexLock l(&mu_);
  uint64_t target = enqueued_;
  ++done_waiters_;
  done_cv_.Wait(&mu_, [&]() NPUSHARE_REQUIRES(mu_) { return completed_ >= target; });
  --done_waiters_;
}

void Stream::WorkerLoop() {
  MutexLock l(&mu_);
  for (;;) {
    while (queue_.empty() && !stop_) {
      worker_idle_ = true;
      work_cv_.Wait(&mu_);
    }
    worker_idle_ = false;
    if (queue_.empty() && stop_) {
      return;
    }
    Task task = queue_.front();
    l.Unlock();
    Execute(task);
    l.Lock();
    queue_.pop_front();
    ++completed_;
    if (done_waiters_ > 0) {
      done_cv_.NotifyAll();
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
