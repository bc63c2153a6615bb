#include "scheduler/service/annotation_writer.h"

#include <utility>

namespace npushare::scheduler {
namespace {

// At most this many failures are remembered for a Wait that may never come (a pod filtered
// but never bound); beyond it the oldest reports are dropped (the pod's Bind then finds its
// annotations missing and fails on that instead).
constexpr size_t kMaxRememberedFailures = 10000;

}  // namespace

AnnotationWriter::AnnotationWriter(WriteFn write, FailureFn on_failure)
    : write_(std::move(write)), on_failure_(std::move(on_failure)) {}

AnnotationWriter::~AnnotationWriter() {
  Stop();
}

void AnnotationWriter::Start() {
  MutexLock lock(&mu_);
  if (running_ || stopping_) {
    return;
  }
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void AnnotationWriter::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  work_cv_.NotifyAll();
  if (thread_.joinable()) {
    thread_.join();
  }
  MutexLock lock(&mu_);
  running_ = false;
}

bool AnnotationWriter::Submit(PodAnnotationWrite&& w) {
  {
    MutexLock lock(&mu_);
    if (!running_ || stopping_) {
      return false;
    }
    failed_.erase(w.key);  // a new write supersedes the outcome of an older one
    ++in_flight_[w.key];
    queue_.push_back(std::move(w));
  }
  work_cv_.NotifyOne();
  return true;
}

Status AnnotationWriter::Wait(const std::string& key, std::chrono::milliseconds timeout) {
  MutexLock lock(&mu_);
  const bool settled = done_cv_.WaitFor(
      &mu_, timeout, [&]() NPUSHARE_REQUIRES(mu_) { return in_flight_.count(key) == 0; });
  if (!settled) {
    return Status(StatusCode::kDeadlineExceeded,
                  "the annotations Filter chose for pod " + key + " are still being written");
  }
  auto it = failed_.find(key);
  if (it == failed_.end()) {
    return OkStatus();
  }
  Status s = std::move(it->second);
  failed_.erase(it);
  return s;
}

size_t AnnotationWriter::Pending() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

uint64_t AnnotationWriter::Failures() const {
  MutexLock lock(&mu_);
  return failures_;
}

void AnnotationWriter::Run() {
  MutexLock lock(&mu_);
  while (true) {
    work_cv_.Wait(&mu_, [this]() NPUSHARE_REQUIRES(mu_) { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      return;  // stopping, and every queued write is done
    }
    PodAnnotationWrite w = std::move(queue_.front());
    queue_.pop_front();
    lock.Unlock();
    Status s = write_(w);
    if (!s.ok() && on_failure_) {
      on_failure_(w, s);
    }
    lock.Lock();
    if (!s.ok()) {
      ++failures_;
    }
    // Only the last write of a pod decides what Wait reports: an earlier one is superseded.
    auto it = in_flight_.find(w.key);
    const bool last = it == in_flight_.end() || --it->second <= 0;
    if (last) {
      if (it != in_flight_.end()) {
        in_flight_.erase(it);
      }
      if (s.ok()) {
        failed_.erase(w.key);
      } else {
        if (failed_.size() >= kMaxRememberedFailures) {
          failed_.erase(failed_.begin());
        }
        failed_[w.key] = std::move(s);
      }
    }
    done_cv_.NotifyAll();
  }
}

}  // namespace npushare::scheduler
