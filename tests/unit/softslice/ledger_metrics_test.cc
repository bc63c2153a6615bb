// The arbiter's memory metrics, read from real container ledgers written by the interceptor's
// Ledger (the same code libvnpu.so runs).
#include "softslice/arbiter/ledger_metrics.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "softslice/interceptor/ledger.h"
#include "softslice/interceptor/log.h"
#include "support/temp_dir.h"

namespace npushare::softslice {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class LedgerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vnpu::SetLogQuiet(true);
    root_ = temp_.path();
    ASSERT_FALSE(root_.empty()) << "cannot make a temporary directory";
  }
  std::string Dir(const std::string& name) const { return root_ + "/" + name; }

  npushare::testing::ScopedTempDir temp_{"vnpu-ledger-metrics"};
  std::string root_;
};

TEST_F(LedgerMetricsTest, ReportsQuotaAndUseOfEveryContainer) {
  uint64_t quota[VNPU_MAX_DEVICES] = {};
  for (uint64_t& q : quota) {
    q = 4096 * kMiB;  // as a single-value NPUSHARE_VNPU_MEM_MB gives every device
  }
  quota[2] = 1024 * kMiB;
  vnpu::Ledger a;
  ASSERT_EQ(a.Open(Dir("pod-a").c_str(), quota), vnpu::LedgerError::kOk);
  ASSERT_EQ(a.ClaimSlot(), vnpu::LedgerError::kOk);
  ASSERT_EQ(a.Reserve(0, 300 * kMiB), vnpu::LedgerError::kOk);
  ASSERT_EQ(a.Reserve(2, 1024 * kMiB), vnpu::LedgerError::kOk);
  EXPECT_EQ(a.Reserve(2, 1), vnpu::LedgerError::kOverQuota);
  ASSERT_EQ(a.Reserve(7, 1 * kMiB), vnpu::LedgerError::kOk);
  uint64_t no_quota[VNPU_MAX_DEVICES] = {};
  vnpu::Ledger b;
  ASSERT_EQ(b.Open(Dir("pod-b").c_str(), no_quota), vnpu::LedgerError::kOk);  // nothing used

  auto usage = ReadLedgerUsage(Dir("pod-a") + "/" VNPU_LEDGER_FILE_NAME);
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_EQ(usage->quota_bytes[0], 4096 * kMiB);
  EXPECT_EQ(usage->used_bytes[0], 300 * kMiB);
  EXPECT_EQ(usage->used_bytes[2], 1024 * kMiB);
  EXPECT_EQ(usage->live_procs, 1u);
  EXPECT_EQ(usage->denied_allocs, 1u);

  std::string text = LedgerMetricsText(root_);
  EXPECT_EQ(text,
            "tenant=pod-a mem_dev=0 quota_bytes=4294967296 used_bytes=314572800 live_procs=1 "
            "reclaimed_procs=0 denied_allocs=1\n"
            "tenant=pod-a mem_dev=2 quota_bytes=1073741824 used_bytes=1073741824 live_procs=1 "
            "reclaimed_procs=0 denied_allocs=1\n"
            "tenant=pod-a mem_dev=7 quota_bytes=4294967296 used_bytes=1048576 live_procs=1 "
            "reclaimed_procs=0 denied_allocs=1\n");
  a.Unreserve(7, 1 * kMiB);
  a.Unreserve(0, 300 * kMiB);
  a.Unreserve(2, 1024 * kMiB);
}

TEST_F(LedgerMetricsTest, GarbageShortOrSymlinkedLedgersAreSkipped) {
  ASSERT_EQ(mkdir(Dir("garbage").c_str(), 0700), 0);
  std::ofstream(Dir("garbage") + "/" VNPU_LEDGER_FILE_NAME) << std::string(100000, 'x');
  ASSERT_EQ(truncate((Dir("garbage") + "/" VNPU_LEDGER_FILE_NAME).c_str(), sizeof(VnpuLedger)), 0);
  auto garbage = ReadLedgerUsage(Dir("garbage") + "/" VNPU_LEDGER_FILE_NAME);
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);

  ASSERT_EQ(mkdir(Dir("short").c_str(), 0700), 0);
  std::ofstream(Dir("short") + "/" VNPU_LEDGER_FILE_NAME) << "VNPULDG1";
  EXPECT_EQ(ReadLedgerUsage(Dir("short") + "/" VNPU_LEDGER_FILE_NAME).status().code(),
            StatusCode::kFailedPrecondition);

  uint64_t quota[VNPU_MAX_DEVICES] = {};
  quota[0] = 64 * kMiB;
  vnpu::Ledger real;
  ASSERT_EQ(real.Open(Dir("real").c_str(), quota), vnpu::LedgerError::kOk);
  ASSERT_EQ(mkdir(Dir("link").c_str(), 0700), 0);
  ASSERT_EQ(symlink((Dir("real") + "/" VNPU_LEDGER_FILE_NAME).c_str(),
                    (Dir("link") + "/" VNPU_LEDGER_FILE_NAME).c_str()),
            0);
  EXPECT_EQ(ReadLedgerUsage(Dir("link") + "/" VNPU_LEDGER_FILE_NAME).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadLedgerUsage(Dir("none") + "/" VNPU_LEDGER_FILE_NAME).status().code(),
            StatusCode::kNotFound);

  // Only the valid ledger is reported.
  EXPECT_EQ(LedgerMetricsText(root_),
            "tenant=real mem_dev=0 quota_bytes=67108864 used_bytes=0 live_procs=0 "
            "reclaimed_procs=0 denied_allocs=0\n");
}

TEST_F(LedgerMetricsTest, TheScanIsBounded) {
  uint64_t quota[VNPU_MAX_DEVICES] = {};
  quota[0] = kMiB;
  for (const char* name : {"c", "a", "b"}) {
    vnpu::Ledger l;
    ASSERT_EQ(l.Open(Dir(name).c_str(), quota), vnpu::LedgerError::kOk);
  }
  std::string text = LedgerMetricsText(root_, 2);
  EXPECT_NE(text.find("tenant=a "), std::string::npos);
  EXPECT_NE(text.find("tenant=b "), std::string::npos);
  EXPECT_EQ(text.find("tenant=c "), std::string::npos);
  EXPECT_EQ(LedgerMetricsText(root_ + "/missing"), "");
}

}  // namespace
}  // namespace npushare::softslice
