// File: deviceplugin/daemon/log_format.h
//
// The device plugin's log line formats (--log-format):
//   klog  klog's header, as HAMi's plugin logs: "Lmmdd hh:mm:ss.uuuuuu threadid] message"
//   json  one JSON object per line, for log pipelines that parse JSON:
//           {"ts":"2026-12-03T14:56:17.668123Z","level":"info","msg":"..."}
//         ts is UTC (RFC 3339, microseconds); level is spdlog's name (trace, debug, info,
//         warning, error, critical); msg is escaped per RFC 8259 (", \, control characters as
//         \n \t ... or \u00XX). Bytes >= 0x80 are passed through: messages are UTF-8 text.
//
// Usage (main.cc):
//   auto logger = spdlog::stderr_logger_mt("npushare-device-plugin");
//   NPUSHARE_RETURN_IF_ERROR(ApplyLogFormat(*logger, options.log_format));
//
// Thread safety: FormatJsonLogLine is pure; JsonLogFormatter is used by spdlog under its sink
// lock (each sink has its own clone).
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace npushare::deviceplugin::daemon {

// JsonEscape: `s` as the contents of a JSON string (without the quotes).
std::string JsonEscape(std::string_view s);

// FormatJsonLogLine: one line, ending in '\n'.
std::string FormatJsonLogLine(std::chrono::system_clock::time_point ts, std::string_view level,
                              std::string_view msg);

// JsonLogFormatter: spdlog formatter writing FormatJsonLogLine.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// ApplyLogFormat: sets `logger`'s format to "klog" or "json"; kInvalidArgument otherwise.
Status ApplyLogFormat(spdlog::logger& logger, const std::string& format);

}  // namespace npushare::deviceplugin::daemon
