// File: softslice/interceptor/log.h
//
// Logging for libvnpu.so: one line per call to stderr through a fixed stack buffer and
// write(2) (no stdio locks, no allocation), prefixed "[vnpu pid] ". At most kMaxLogLines lines
// per process so that a hot failing path cannot flood the application's stderr.
// NPUSHARE_VNPU_QUIET=1 in the environment silences it (checked at setup).
//
// Thread safety: safe from any thread; async-signal-safe apart from vsnprintf.
#pragma once

namespace npushare::vnpu {

inline constexpr int kMaxLogLines = 64;

// Log: formats with printf semantics (truncated at 256 bytes) and writes one line.
void Log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// SetLogQuiet: stop (true) or resume (false) writing.
void SetLogQuiet(bool quiet);

}  // namespace npushare::vnpu
