// The device plugin's --log-format json lines.
#include "deviceplugin/daemon/log_format.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace npushare::deviceplugin::daemon {
namespace {

TEST(LogFormat, JsonEscapeCoversQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonEscape("plain text"), "plain text");
  EXPECT_EQ(JsonEscape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(JsonEscape("l1\nl2\r\t\b\f"), "l1\\nl2\\r\\t\\b\\f");
  EXPECT_EQ(JsonEscape(std::string("nul\0x", 5)), "nul\\u0000x");
  EXPECT_EQ(JsonEscape("\x01\x1f\x7f"), "\\u0001\\u001f\\u007f");
  EXPECT_EQ(JsonEscape("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 passes through
}

TEST(LogFormat, JsonLineHasTsLevelMsgAndParsesBack) {
  const auto ts = std::chrono::system_clock::time_point(std::chrono::microseconds(
      int64_t{1787293239} * 1000000 + 123456));  // 2026-08-21T06:20:39.123456Z
  const std::string msg = std::string("pod \"a\"\nfailed: \\x\t\x02 caf\xc3\xa9");
  const std::string line = FormatJsonLogLine(ts, "warning", msg);
  EXPECT_EQ(line,
            "{\"ts\":\"2026-08-21T06:20:39.123456Z\",\"level\":\"warning\",\"msg\":\"pod "
            "\\\"a\\\"\\nfailed: \\\\x\\t\\u0002 caf\xc3\xa9\"}\n");
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"].get<std::string>(), msg);
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j.size(), 3u);
}

TEST(LogFormat, LoggerWritesOneJsonObjectPerLine) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("json-test", sink);
  ASSERT_TRUE(ApplyLogFormat(logger, "json").ok());
  logger.warn("allocate {} failed: {}", "default/p", "bad \"annotation\"");
  logger.info("second");
  std::istringstream lines(out.str());
  std::string first;
  std::string second;
  ASSERT_TRUE(std::getline(lines, first));
  ASSERT_TRUE(std::getline(lines, second));
  const nlohmann::json a = nlohmann::json::parse(first);
  EXPECT_EQ(a["level"], "warning");
  EXPECT_EQ(a["msg"], "allocate default/p failed: bad \"annotation\"");
  EXPECT_EQ(a["ts"].get<std::string>().back(), 'Z');
  EXPECT_EQ(nlohmann::json::parse(second)["msg"], "second");
}

TEST(LogFormat, KlogIsTheDefaultAndOtherFormatsAreRefused) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("klog-test", sink);
  ASSERT_TRUE(ApplyLogFormat(logger, "klog").ok());
  logger.info("hello");
  // klog's header: Lmmdd hh:mm:ss.uuuuuu threadid] message
  EXPECT_EQ(out.str().front(), 'I');
  EXPECT_NE(out.str().find("] hello\n"), std::string::npos) << out.str();
  EXPECT_FALSE(ApplyLogFormat(logger, "xml").ok());
}

}  // namespace
}  // namespace npushare::deviceplugin::daemon
