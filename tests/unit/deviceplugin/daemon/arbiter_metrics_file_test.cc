// Reading npushare-arbiter's metrics file for the device plugin's per-container series.
#include "deviceplugin/daemon/arbiter_metrics_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace npushare::deviceplugin::daemon {
namespace {

constexpr char kUid[] = "0f3c2a9e-1111-2222-3333-444455556666";

// A file as npushare-arbiter writes it (Arbiter::MetricsText, then LedgerMetricsText).
std::string SampleFile() {
  const std::string t = std::string(kUid) + "_main";
  return "tenant=" + t +
         " index=0 dev=0 chip=4 weight=40 granted_ns=3000000000 charged_ns=2500000000 "
         "device_ns=1500000000\n"
         "tenant=" +
         t +
         " index=0 dev=1 chip=5 weight=40 granted_ns=10 charged_ns=20 device_ns=30\n"
         "tenant=" +
         t +
         " mem_dev=0 quota_bytes=8589934592 used_bytes=1073741824 live_procs=2 "
         "reclaimed_procs=0 denied_allocs=1\n"
         "tenant=memonly mem_dev=0 quota_bytes=4096 used_bytes=0 live_procs=0 "
         "reclaimed_procs=0 denied_allocs=0\n";
}

TEST(ArbiterMetricsFile, ParsesCoreAndMemoryLinesPerContainer) {
  Result<ArbiterMetrics> m = ParseArbiterMetrics(SampleFile());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->skipped_lines, 0u);
  ASSERT_EQ(m->containers.size(), 2u);
  const ArbiterContainer& c = m->containers[0];  // sorted: the uid tenant before "memonly"
  EXPECT_EQ(c.tenant, std::string(kUid) + "_main");
  EXPECT_EQ(c.pod_uid, kUid);
  EXPECT_EQ(c.container, "main");
  ASSERT_EQ(c.devices.size(), 2u);
  const ArbiterDevice& d0 = c.devices.at(0);
  EXPECT_TRUE(d0.has_core);
  EXPECT_TRUE(d0.has_memory);
  EXPECT_EQ(d0.chip, 4);
  EXPECT_EQ(d0.weight, 40u);
  EXPECT_EQ(d0.granted_ns, 3000000000u);
  EXPECT_EQ(d0.charged_ns, 2500000000u);
  EXPECT_EQ(d0.device_ns, 1500000000u);
  EXPECT_EQ(d0.quota_bytes, 8589934592u);
  EXPECT_EQ(d0.used_bytes, 1073741824u);
  const ArbiterDevice& d1 = c.devices.at(1);
  EXPECT_TRUE(d1.has_core);
  EXPECT_FALSE(d1.has_memory);
  EXPECT_EQ(d1.chip, 5);
  const ArbiterContainer& other = m->containers[1];
  EXPECT_EQ(other.tenant, "memonly");
  EXPECT_EQ(other.pod_uid, "");  // not "<uid>_<container>"
  EXPECT_FALSE(other.devices.at(0).has_core);
  EXPECT_EQ(other.devices.at(0).quota_bytes, 4096u);
}

TEST(ArbiterMetricsFile, SkipsMalformedLinesAndCountsThem) {
  const std::string good =
      "tenant=a_b dev=0 chip=1 weight=10 granted_ns=1 charged_ns=2 device_ns=3 future=7\n";
  const std::string text =
      "garbage\n"
      "tenant=a_b dev=x chip=1 weight=10 granted_ns=1 charged_ns=2 device_ns=3\n"
      "tenant=a_b dev=16 chip=1 weight=10 granted_ns=1 charged_ns=2 device_ns=3\n"
      "tenant=a_b dev=0 chip=1 weight=101 granted_ns=1 charged_ns=2 device_ns=3\n"
      "tenant=a_b dev=0 dev=1 chip=1 weight=10 granted_ns=1 charged_ns=2 device_ns=3\n"
      "tenant=a_b dev=0 chip=1 weight=10 granted_ns=1 charged_ns=2\n"
      "tenant=a_b mem_dev=0 quota_bytes=-1 used_bytes=0\n"
      "tenant=a_b mem_dev=0 quota_bytes=99999999999999999999 used_bytes=0\n"
      "dev=0 chip=1 weight=10 granted_ns=1 charged_ns=2 device_ns=3\n"
      "\n   \n" +
      good;
  Result<ArbiterMetrics> m = ParseArbiterMetrics(text);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->skipped_lines, 9u);
  ASSERT_EQ(m->containers.size(), 1u);
  EXPECT_EQ(m->containers[0].devices.at(0).device_ns, 3u);  // unknown key ignored
}

TEST(ArbiterMetricsFile, TextOverTheLimitIsRefusedNotTruncated) {
  EXPECT_TRUE(ParseArbiterMetrics(std::string(kMaxArbiterMetricsBytes, '\n')).ok());
  Result<ArbiterMetrics> big = ParseArbiterMetrics(std::string(kMaxArbiterMetricsBytes + 1, '\n'));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
}

TEST(ArbiterMetricsFile, ReadsTheFileDefensively) {
  npushare::testing::ScopedTempDir dir("npushare-arbiter-metrics");
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/arbiter.metrics";

  Result<ArbiterMetrics> missing = ReadArbiterMetricsFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  std::ofstream(path) << SampleFile();
  Result<ArbiterMetrics> m = ReadArbiterMetricsFile(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->containers.size(), 2u);

  Result<ArbiterMetrics> directory = ReadArbiterMetricsFile(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), StatusCode::kFailedPrecondition);

  const std::string link = dir.path() + "/link";
  ASSERT_EQ(symlink(path.c_str(), link.c_str()), 0);
  Result<ArbiterMetrics> via_link = ReadArbiterMetricsFile(link);
  ASSERT_FALSE(via_link.ok());
  EXPECT_EQ(via_link.status().code(), StatusCode::kFailedPrecondition);

  const std::string big = dir.path() + "/big";
  std::ofstream(big) << std::string(kMaxArbiterMetricsBytes + 1, '\n');
  Result<ArbiterMetrics> too_big = ReadArbiterMetricsFile(big);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(too_big.status().message().find("exceeds"), std::string::npos);
}

}  // namespace
}  // namespace npushare::deviceplugin::daemon
