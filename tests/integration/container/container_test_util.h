// Test helpers for the container runtimes: a runtime per kind in a private root directory,
// file reading, polling a condition with a deadline.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "common/file_reader.h"
#include "sim/container/container_runtime.h"

namespace npushare::container_sim::testing {

inline std::string ReadOr(const std::string& path, const std::string& fallback = "") {
  Result<std::string> r = ReadFileLimited(path, 4 << 20);
  return r.ok() ? *r : fallback;
}

// Eventually: polls `cond` until true or the (generous) deadline passes.
inline bool Eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

inline std::string BinDir() {
  return NPUSHARE_BIN_DIR;
}
inline std::string LibDir() {
  return std::string(NPUSHARE_BIN_DIR) + "/../lib";
}

inline bool ProcessGone(int pid) {
  return kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace npushare::container_sim::testing
