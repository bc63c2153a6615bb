// Tests of the defensive Prometheus text reader (src/dashboard/prometheus_parser.h).
#include "dashboard/prometheus_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace npushare::dashboard {
namespace {

TEST(PrometheusParserTest, ReadsSamplesLabelsEscapesAndTimestamps) {
  const std::string text =
      "# HELP hami_vgpu_memory_used_bytes Device memory.\n"
      "# TYPE hami_vgpu_memory_used_bytes gauge\n"
      "hami_vgpu_memory_used_bytes{node=\"n1\",namespace=\"ns\",pod=\"p\\\"q\\\\r\\n\","
      "container=\"c\",vdevice_index=\"0\",} 1.5e9 1700000000000\r\n"
      "  up 1\n"
      "x_total{a=\"1\"}\t+3\n";
  Result<ParsedMetrics> r = ParsePrometheusText(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->samples.size(), 3u);
  EXPECT_EQ(r->skipped_lines, 0u);
  const MetricSample& s = r->samples[0];
  EXPECT_EQ(s.name, "hami_vgpu_memory_used_bytes");
  EXPECT_EQ(s.Label("pod"), "p\"q\\r\n");
  EXPECT_EQ(s.Label("vdevice_index"), "0");
  EXPECT_EQ(s.Label("absent"), "");
  EXPECT_DOUBLE_EQ(s.value, 1.5e9);
  EXPECT_EQ(r->samples[1].name, "up");
  EXPECT_DOUBLE_EQ(r->samples[2].value, 3);
}

TEST(PrometheusParserTest, SkipsEveryKindOfMalformedLineAndKeepsTheRest) {
  const char* bad[] = {
      "1bad_name 1",            // name starts with a digit
      "m{a=\"unterminated} 1",  // quote never closed
      "m{a=\"x\\t\"} 1",        // unknown escape
      "m{a=\"1\",a=\"2\"} 1",   // duplicate label
      "m{a=1} 1",               // unquoted value
      "m{:a=\"1\"} 1",          // colon in a label name
      "m{a=\"1\"",              // no closing brace, no value
      "m",                      // no value
      "m 1 2 3",                // trailing junk
      "m 1 12x",                // bad timestamp
      "m abc",                  // bad value
      "m NaN",                  // not chartable
      "m +Inf",                 // not chartable
      "m 0x10",                 // hex is not a Prometheus value
      "m{a=\"1\"}1",            // no space before the value
      "m 1e999",                // overflows a double
  };
  std::string text = "good 1\n";
  for (const char* b : bad) {
    text += b;
    text += "\n";
  }
  text += "good 2";  // no trailing newline
  Result<ParsedMetrics> r = ParsePrometheusText(text);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->samples.size(), 2u);
  EXPECT_DOUBLE_EQ(r->samples[1].value, 2);
  EXPECT_EQ(r->skipped_lines, sizeof(bad) / sizeof(bad[0]));
}

TEST(PrometheusParserTest, LimitsRefuseOversizedBodiesAndSampleFloods) {
  ParseLimits limits;
  limits.max_bytes = 10;
  EXPECT_EQ(ParsePrometheusText("m 1\nm 2\nm 3\n", limits).status().code(),
            StatusCode::kResourceExhausted);
  limits = ParseLimits();
  limits.max_samples = 2;
  EXPECT_EQ(ParsePrometheusText("m 1\nm 2\nm 3\n", limits).status().code(),
            StatusCode::kResourceExhausted);
  // Unwanted samples do not count against max_samples.
  Result<ParsedMetrics> r = ParsePrometheusText("other 1\nother 2\nother 3\nm 1\n", limits,
                                                [](std::string_view n) { return n == "m"; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->samples.size(), 1u);
}

TEST(PrometheusParserTest, LongLinesManyLabelsAndLongValuesAreSkipped) {
  ParseLimits limits;
  limits.max_line_bytes = 200;
  limits.max_labels = 3;
  limits.max_label_value_bytes = 8;
  const std::string text = "m{a=\"" + std::string(300, 'x') + "\"} 1\n" +
                           "m{a=\"1\",b=\"2\",c=\"3\",d=\"4\"} 1\n" + "m{a=\"123456789\"} 1\n" +
                           "m{a=\"12345678\"} 7\n";
  Result<ParsedMetrics> r = ParsePrometheusText(text, limits);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->samples.size(), 1u);
  EXPECT_DOUBLE_EQ(r->samples[0].value, 7);
  EXPECT_EQ(r->skipped_lines, 3u);
}

TEST(PrometheusParserTest, RandomBytesNeverCrashAndStayWithinLimits) {
  std::mt19937 rng(1234);  // fixed seed: deterministic
  const std::string alphabet = "m{}=\",\\ \n\t#0123456789.e+-abcNIf\x01\xff";
  ParseLimits limits;
  limits.max_samples = 50;
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const size_t len = rng() % 400;
    for (size_t i = 0; i < len; ++i) {
      text += alphabet[rng() % alphabet.size()];
    }
    Result<ParsedMetrics> r = ParsePrometheusText(text, limits);
    if (r.ok()) {
      EXPECT_LE(r->samples.size(), 50u);
      for (const MetricSample& s : r->samples) {
        EXPECT_FALSE(s.name.empty());
        EXPECT_TRUE(std::isfinite(s.value));
      }
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
    }
  }
}

}  // namespace
}  // namespace npushare::dashboard
