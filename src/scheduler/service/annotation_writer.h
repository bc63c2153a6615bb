// File: scheduler/service/annotation_writer.h
//
// AnnotationWriter: writes the annotations Filter chose onto pods in the background, so the
// extender answers /filter without waiting for an API round trip, and lets Bind wait until
// the write of its pod has landed.
//
// Why this is safe (hami-protocol.md §4): nobody needs the filter annotations before Bind.
// The device plugin reads them in Allocate, after the binding; Bind waits for the pod's
// write (Wait) before it locks the node and binds, so a pod is never bound without them. The
// capacity is taken at once anyway: Filter assumes the allocation in the ClusterCache before
// it answers. A write that fails calls `on_failure` (the service drops the assumed
// allocation) and its status is what the next Wait for that pod returns, so the Bind fails
// and kube-scheduler retries the pod from Filter.
//
// Writes run one at a time in submission order on one thread, so a pod filtered twice ends
// with the annotations of its last Filter.
//
// Usage:
//   AnnotationWriter writer(write_fn, on_failure);
//   writer.Start();
//   if (!writer.Submit(std::move(w))) { write w synchronously instead }
//   ... Bind: NPUSHARE_RETURN_IF_ERROR(writer.Wait(key, 10s));
//   writer.Stop();   // finishes the queued writes, then joins
//
// Thread safety: all methods are safe for concurrent use. `write` and `on_failure` run on the
// writer's thread, without the writer's lock held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace npushare::scheduler {

// PodAnnotationWrite: one merge patch of one pod.
struct PodAnnotationWrite {
  std::string key;  // namespace/name: what Wait is asked for
  std::string ns;
  std::string name;
  nlohmann::json patch;  // merge patch body
  uint64_t token = 0;    // the ClusterCache assumption the write belongs to
};

class AnnotationWriter {
 public:
  using WriteFn = std::function<Status(const PodAnnotationWrite&)>;
  using FailureFn = std::function<void(const PodAnnotationWrite&, const Status&)>;

  // AnnotationWriter: `write` performs one write; `on_failure` (may be empty) hears about
  // each write that failed.
  AnnotationWriter(WriteFn write, FailureFn on_failure);
  ~AnnotationWriter();  // Stop()
  AnnotationWriter(const AnnotationWriter&) = delete;
  AnnotationWriter& operator=(const AnnotationWriter&) = delete;

  // Start: starts the writer thread. REQUIRES: called at most once.
  void Start() NPUSHARE_EXCLUDES(mu_);
  // Stop: performs every write still queued, then joins. Idempotent; Submit returns false
  // afterwards.
  void Stop();

  // Submit: queues `w` (moved from only when accepted). Returns false when the writer is not
  // running (not started or stopped); `w` is then untouched and the caller writes it itself.
  bool Submit(PodAnnotationWrite&& w);

  // Wait: blocks until no write of `key` is queued or running, at most `timeout`. Returns OK
  // when none was submitted or the last one finished well (or its outcome was already
  // reported by an earlier Wait), the last write's error when it failed, kDeadlineExceeded
  // when a write is still pending at the timeout.
  Status Wait(const std::string& key, std::chrono::milliseconds timeout) NPUSHARE_EXCLUDES(mu_);

  // Introspection for metrics.
  size_t Pending() const NPUSHARE_EXCLUDES(mu_);
  uint64_t Failures() const NPUSHARE_EXCLUDES(mu_);

 private:
  void Run() NPUSHARE_EXCLUDES(mu_);

  const WriteFn write_;
  const FailureFn on_failure_;

  mutable Mutex mu_;
  CondVar work_cv_;  // the writer waits for work
  CondVar done_cv_;  // Wait waits for writes to finish
  std::deque<PodAnnotationWrite> queue_ NPUSHARE_GUARDED_BY(mu_);
  std::unordered_map<std::string, int> in_flight_
      NPUSHARE_GUARDED_BY(mu_);  // key -> queued + running
  std::unordered_map<std::string, Status> failed_ NPUSHARE_GUARDED_BY(mu_);  // key -> last failure
  bool running_ NPUSHARE_GUARDED_BY(mu_) = false;
  bool stopping_ NPUSHARE_GUARDED_BY(mu_) = false;
  uint64_t failures_ NPUSHARE_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace npushare::scheduler
