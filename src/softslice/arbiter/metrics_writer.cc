// File: softslice/arbiter/metrics_writer.cc
#include "softslice/arbiter/metrics_writer.h"

#include <stdio.h>

#include <utility>

#include "common/atomic_file.h"

namespace npushare::softslice {

MetricsWriter::MetricsWriter(std::string path, std::function<std::string()> tail)
    : path_(std::move(path)), tail_(std::move(tail)), thread_([this] { Run(); }) {}

MetricsWriter::~MetricsWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void MetricsWriter::Publish(std::string text) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = std::move(text);
  }
  cv_.notify_one();
}

uint64_t MetricsWriter::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

void MetricsWriter::Run() {
  bool failing = false;  // one log line per failure streak, not one per second
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || pending_.has_value(); });
    if (!pending_.has_value()) {
      return;  // stopping, nothing left to write
    }
    std::string text = std::move(*pending_);
    pending_.reset();
    lock.unlock();
    if (tail_) {
      text += tail_();
    }
    Status s = WriteFileAtomically(path_, text, 0644);
    if (!s.ok() && !failing) {
      fprintf(stderr, "npushare-arbiter: cannot write metrics: %s\n", s.ToString().c_str());
    }
    failing = !s.ok();
    lock.lock();
    ++writes_;
  }
}

}  // namespace npushare::softslice
