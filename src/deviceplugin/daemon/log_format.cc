#include "deviceplugin/daemon/log_format.h"

#include <cstdio>
#include <ctime>

namespace npushare::deviceplugin::daemon {

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string FormatJsonLogLine(std::chrono::system_clock::time_point ts, std::string_view level,
                              std::string_view msg) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(ts.time_since_epoch()).count();
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  if (frac < 0) {  // before 1970: keep the fraction positive
    frac += 1000000;
    --secs;
  }
  const time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char when[64];
  snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           static_cast<long long>(frac));
  std::string line = "{\"ts\":\"";
  line += when;
  line += "\",\"level\":\"";
  line += JsonEscape(level);
  line += "\",\"msg\":\"";
  line += JsonEscape(msg);
  line += "\"}\n";
  return line;
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const auto& level = spdlog::level::to_string_view(msg.level);
  const std::string line =
      FormatJsonLogLine(std::chrono::time_point_cast<std::chrono::system_clock::duration>(msg.time),
                        std::string_view(level.data(), level.size()),
                        std::string_view(msg.payload.data(), msg.payload.size()));
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

Status ApplyLogFormat(spdlog::logger& logger, const std::string& format) {
  if (format == "klog") {
    logger.set_pattern("%L%m%d %H:%M:%S.%f %6t] %v");
    return OkStatus();
  }
  if (format == "json") {
    logger.set_formatter(std::make_unique<JsonLogFormatter>());
    return OkStatus();
  }
  return InvalidArgumentError("log format must be klog or json, not \"" + format + "\"");
}

}  // namespace npushare::deviceplugin::daemon
