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
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.NotifyOne();
  thread_.join();
}

void MetricsWriter::Publish(std::string text) {
  {
    MutexLock lock(&mu_);
    pending_ = std::move(text);
  }
  cv_.NotifyOne();
}

uint64_t MetricsWriter::writes() const {
  MutexLock lock(&mu_);
  return writes_;
}

void MetricsWriter::Run() {
  bool failing = false;  // one log line per failure streak, not one per second
  MutexLock lock(&mu_);
  while (true) {
    cv_.Wait(&mu_, [this]() NPUSHARE_REQUIRES(mu_) { return stop_ || pending_.has_value(); });
    if (!pending_.has_value()) {
      return;  // stopping, nothing left to write
    }
    std::string text = std::move(*pending_);
    pending_.reset();
    lock.Unlock();
    if (tail_) {
      text += tail_();
    }
    Status s = WriteFileAtomically(path_, text, 0644);
    if (!s.ok() && !failing) {
      fprintf(stderr, "npushare-arbiter: cannot write metrics: %s\n", s.ToString().c_str());
    }
    failing = !s.ok();
    lock.Lock();
    ++writes_;
  }
}

}  // namespace npushare::softslice
