// File: sim/container/log_file.h
//
// OpenLogFile: the container's stdout/stderr file, opened for appending (created 0640; a
// missing parent directory is created 0750). The descriptor is close-on-exec; spawn helpers
// dup it onto 1 and 2.
//
// Thread safety: safe to call concurrently.
#pragma once

#include <string>

#include "common/status.h"

namespace npushare::container_sim {

// LogFd: an owned file descriptor.
class LogFd {
 public:
  explicit LogFd(int fd = -1) : fd_(fd) {}
  ~LogFd();
  LogFd(LogFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  LogFd& operator=(LogFd&& o) noexcept;
  LogFd(const LogFd&) = delete;
  LogFd& operator=(const LogFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<LogFd> OpenLogFile(const std::string& path);

}  // namespace npushare::container_sim
