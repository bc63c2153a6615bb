// Tests of the Prometheus text helper (src/common/prometheus_text.h).
#include "common/prometheus_text.h"

#include <gtest/gtest.h>

#include <limits>

namespace npushare {
namespace {

TEST(PrometheusTextTest, FamilySampleAndEscaping) {
  PrometheusText t;
  t.Family("x_total", "counter", "Help with \\ and\nnewline.");
  t.Sample("x_total", {{"a", "q\"uo\\te\n"}, {"b", "2"}}, 3);
  t.Sample("x_total", {}, 0.25);
  EXPECT_EQ(t.Take(),
            "# HELP x_total Help with \\\\ and\\nnewline.\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"q\\\"uo\\\\te\\n\",b=\"2\"} 3\n"
            "x_total 0.25\n");
}

TEST(PrometheusTextTest, HistogramBucketsAreCumulative) {
  LatencyHistogram h({0.001, 0.01});
  h.Observe(0.0005);
  h.Observe(0.005);
  h.Observe(0.005);
  h.Observe(3);
  PrometheusText t;
  t.Histogram("lat_seconds", {{"route", "/f"}}, h.Snapshot());
  const std::string out = t.Take();
  EXPECT_NE(out.find("lat_seconds_bucket{route=\"/f\",le=\"0.001\"} 1\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("lat_seconds_bucket{route=\"/f\",le=\"0.01\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("lat_seconds_bucket{route=\"/f\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(out.find("lat_seconds_count{route=\"/f\"} 4\n"), std::string::npos);
  EXPECT_NE(out.find("lat_seconds_sum{route=\"/f\"} 3.0105"), std::string::npos);
}

TEST(PrometheusTextTest, FormatValue) {
  EXPECT_EQ(PrometheusText::FormatValue(1048576.0 * 65536), "68719476736");
  EXPECT_EQ(PrometheusText::FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(PrometheusText::FormatValue(0.5), "0.5");
}

}  // namespace
}  // namespace npushare
