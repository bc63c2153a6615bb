// File: softslice/interceptor/log.cc
#include "softslice/interceptor/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>

namespace npushare::vnpu {
namespace {

// Constant-initialised (no global constructor).
constinit std::atomic<int> g_lines{0};
constinit std::atomic<bool> g_quiet{false};

}  // namespace

void SetLogQuiet(bool quiet) {
  g_quiet.store(quiet, std::memory_order_relaxed);
}

void Log(const char* fmt, ...) {
  if (g_quiet.load(std::memory_order_relaxed) ||
      g_lines.fetch_add(1, std::memory_order_relaxed) >= kMaxLogLines) {
    return;
  }
  char buf[256];
  int n = snprintf(buf, sizeof(buf), "[vnpu %d] ", static_cast<int>(getpid()));
  if (n < 0) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(buf + n, sizeof(buf) - static_cast<size_t>(n) - 1, fmt, ap);
  va_end(ap);
  if (m < 0) {
    return;
  }
  size_t len = static_cast<size_t>(n) + static_cast<size_t>(m);
  if (len > sizeof(buf) - 2) {
    len = sizeof(buf) - 2;
  }
  buf[len++] = '\n';
  ssize_t ignored = write(2, buf, len);
  (void)ignored;
}

}  // namespace npushare::vnpu
