// File: softslice/arbiter/metrics_writer.h
//
// MetricsWriter: writes npushare-arbiter's metrics file on a thread of its own. The scheduling
// loop must never wait for the disk: WriteFileAtomically fsyncs the file and its directory,
// which can take hundreds of milliseconds on a busy disk, and a stalled loop neither hands chips
// over nor refreshes its heartbeat (the tenant holding a grant keeps the chip for the whole
// stall: measured as a 40 % tenant getting 50–66 % in a 2 s run, about one run in twenty).
// Publish hands over the latest text and returns at once; a text not yet written when a newer
// one arrives is replaced, so the file always shows a complete, recent snapshot. Lines that take
// I/O to produce (the containers' memory lines, read from their ledgers) come from `tail`,
// which this thread calls before each write, so that the loop does not do that I/O either.
//
// Thread safety: Publish may be called from any thread.
#pragma once

#include <stdint.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/thread_annotations.h"

namespace npushare::softslice {

class MetricsWriter {
 public:
  // Starts the writer thread for `path` (written with mode 0644). `tail`, if set, produces
  // text appended to every published text when it is written (on this thread).
  explicit MetricsWriter(std::string path, std::function<std::string()> tail = {});
  // Writes the text still pending, if any, then stops the thread.
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

  // Publish: `text` becomes the next contents of the file. Never blocks on I/O.
  void Publish(std::string text);

  // writes: files written so far (successful or not), for tests and logs.
  uint64_t writes() const NPUSHARE_EXCLUDES(mu_);

 private:
  void Run();

  const std::string path_;
  const std::function<std::string()> tail_;
  mutable Mutex mu_;
  CondVar cv_;
  std::optional<std::string> pending_ NPUSHARE_GUARDED_BY(mu_);
  bool stop_ NPUSHARE_GUARDED_BY(mu_) = false;
  uint64_t writes_ NPUSHARE_GUARDED_BY(mu_) = 0;
  std::thread thread_;  // last: starts after the fields above exist
};

}  // namespace npushare::softslice
