// File: sim/npu/runtime/stream.h
//
// Stream and Event of the simulated runtime.
//
// A Stream is an in-order queue of tasks executed by one worker thread, which plays the role
// of the chip's stream scheduler: a kernel is placed on the chip's shared device timeline
// (device_timeline.h) when it reaches the head of the queue, and the worker then sleeps until
// the kernel's end time before completing it. Device time is continuous: a kernel queued
// behind another starts when that one ends on the device, not when the worker wakes, so host
// scheduling latency does not leak into device throughput.
//
// Events record the device time at which the stream reached them; a stream can wait for an
// event recorded on another stream of the same process.
//
// Thread safety: all public methods are safe for concurrent use.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "common/thread_annotations.h"
#include "state/shared_state.h"

namespace npushare::sim {

// DeviceInfo: where a stream's work runs. Immutable after the device is opened.
struct DeviceInfo {
  SharedState* state;
  uint32_t chip;      // chip index in the state
  uint32_t core_lo;   // first AI core this device may use
  uint32_t core_hi;   // one past the last
  uint32_t vnpu_id;   // 0 = whole chip
  uint64_t capacity;  // bytes this device may allocate in total (all processes)
};

class Event {
 public:
  static constexpr uint32_t kMagic = 0x45564E54;  // "EVNT"
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool Valid() const { return magic_ == kMagic; }
  void Invalidate() { magic_ = 0; }

  // BeginRecord: called at enqueue time; returns the generation the stream must complete.
  uint64_t BeginRecord() NPUSHARE_EXCLUDES(mu_);
  // Complete: called by the worker when generation `gen` is reached at device time `t_ns`.
  void Complete(uint64_t gen, uint64_t t_ns) NPUSHARE_EXCLUDES(mu_);
  // WaitFor: blocks until generation `gen` completed; returns its device time.
  uint64_t WaitFor(uint64_t gen) NPUSHARE_EXCLUDES(mu_);
  // Latest: the generation last recorded.
  uint64_t Latest() NPUSHARE_EXCLUDES(mu_);
  // CompletedTime: false when the last recorded generation has not completed (or never
  // recorded); otherwise the device time.
  bool CompletedTime(uint64_t* t_ns) NPUSHARE_EXCLUDES(mu_);

 private:
  uint32_t magic_ = kMagic;
  Mutex mu_;
  CondVar cv_;
  uint64_t recorded_gen_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t completed_gen_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t time_ns_ NPUSHARE_GUARDED_BY(mu_) = 0;
};

struct Task {
  enum class Kind : uint8_t { kKernel, kRecord, kWait, kCopy };
  Kind kind = Kind::kKernel;
  uint32_t cores = 0;
  uint64_t duration_ns = 0;
  uint64_t enqueue_ns = 0;
  Event* event = nullptr;
  uint64_t gen = 0;
  // kCopy
  void* dst = nullptr;
  const void* src = nullptr;
  uint64_t bytes = 0;
};

class Stream {
 public:
  static constexpr uint32_t kMagic = 0x5354524D;  // "STRM"
  // kMaxDepth: queued tasks before Enqueue blocks (the hardware queue depth).
  static constexpr size_t kMaxDepth = 65536;

  explicit Stream(const DeviceInfo* device);
  ~Stream();  // drains the queue, then stops the worker
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  bool Valid() const { return magic_ == kMagic; }
  const DeviceInfo& device() const { return *device_; }

  // Enqueue: appends a task; blocks while the queue is full.
  void Enqueue(Task task) NPUSHARE_EXCLUDES(mu_);
  // Synchronize: waits until every task enqueued before the call has completed.
  void Synchronize() NPUSHARE_EXCLUDES(mu_);

 private:
  void WorkerLoop() NPUSHARE_EXCLUDES(mu_);
  void Execute(Task& task);

  uint32_t magic_ = kMagic;
  const DeviceInfo* device_;
  Mutex mu_;
  CondVar work_cv_;  // worker waits for tasks
  CondVar done_cv_;  // synchronizers and blocked enqueuers wait here
  std::deque<Task> queue_ NPUSHARE_GUARDED_BY(mu_);
  uint64_t enqueued_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t completed_ NPUSHARE_GUARDED_BY(mu_) = 0;
  bool worker_idle_ NPUSHARE_GUARDED_BY(mu_) = false;
  int done_waiters_ NPUSHARE_GUARDED_BY(mu_) = 0;
  bool stop_ NPUSHARE_GUARDED_BY(mu_) = false;
  uint64_t device_time_ns_ = 0;  // worker thread only: end of the last task on device
  std::thread worker_;           // last: starts after every field above is initialised
};

// SleepUntil: CLOCK_MONOTONIC absolute sleep, restarted on EINTR.
void SleepUntil(uint64_t t_ns);

}  // namespace npushare::sim
