// libvnpu.so inside applications that do awkward but legal things (issue 5, "Robust inside real
// applications"): load the runtime with dlopen after start, use threads started before and
// after that, take a storm of signals, or never touch the NPU at all. vnpu_app is the
// application; it is not linked against the runtime.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "vnpu_test_util.h"

namespace npushare::vnpu {
namespace {

using testing::BinPath;
using testing::Child;
using testing::Fields;
using testing::LibPath;
using testing::ReadLine;
using testing::SpawnEnv;
using testing::U64;
using testing::Wait;

class RobustnessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseFreshSim(1); }
  void SetUp() override { dir_ = sim::testing::MakeTempDir() + "/vnpu"; }

  std::vector<std::string> Env(uint64_t quota_mb) const {
    return {"LD_PRELOAD=" + LibPath("libvnpu.so"), "NPUSHARE_VNPU_QUIET=1",
            "NPUSHARE_VNPU_STATE_DIR=" + dir_, "NPUSHARE_VNPU_MEM_MB=" + std::to_string(quota_mb)};
  }
  // Run: runs vnpu_app to completion; returns its report line.
  std::string Run(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::vector<std::string> argv = {BinPath("vnpu_app")};
    argv.insert(argv.end(), args.begin(), args.end());
    Child c = SpawnEnv(argv, env);
    EXPECT_GT(c.pid, 0);
    close(c.in_fd);
    std::string line = ReadLine(c.out_fd);
    close(c.out_fd);
    EXPECT_EQ(Wait(c.pid), 0) << line;
    return line;
  }

  std::string dir_;
};

TEST_F(RobustnessTest, ThreadsStartedBeforeAndAfterALateRuntimeDlopenShareTheQuotaExactly) {
  auto f = Fields(Run({"threads", "--before", "4", "--after", "4", "--chunk-mb", "64"}, Env(4096)));
  EXPECT_EQ(U64(f, "total_mb"), 4096u);  // all eight threads together reach the quota exactly
  EXPECT_EQ(U64(f, "first_error"), 207001u);
  EXPECT_EQ(U64(f, "used_after_free_mb"), 0u);
  EXPECT_EQ(U64(f, "refill_mb"), 4096u);  // every free was returned to the container
}

TEST_F(RobustnessTest, ASignalStormDoesNotBreakAllocationOrAccounting) {
  auto f = Fields(Run({"signals", "--chunk-mb", "16", "--millis", "500"}, Env(1024)));
  EXPECT_GT(U64(f, "signals"), 0u);  // the storm happened
  EXPECT_GT(U64(f, "ops"), 0u);
  EXPECT_EQ(U64(f, "errors"), 0u);
  EXPECT_EQ(U64(f, "used_mb"), 0u);
}

TEST_F(RobustnessTest, ALimitedProcessThatNeverTouchesTheNpuCreatesNoFile) {
  std::vector<std::string> env = Env(4096);
  env.push_back("NPUSHARE_VNPU_CORE_PCT=50");
  Child c = SpawnEnv({"/bin/sh", "-c", "exit 7"}, env);
  ASSERT_GT(c.pid, 0);
  close(c.in_fd);
  close(c.out_fd);
  EXPECT_EQ(Wait(c.pid), 7);
  struct stat st;
  EXPECT_NE(stat(dir_.c_str(), &st), 0) << dir_ << " was created";
}

}  // namespace
}  // namespace npushare::vnpu
