// Behaviour checks of the simulator's timing model with real processes and the wall clock
// (ctest label "timing"; generous tolerances, run on an otherwise idle machine for best
// results).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "unit/sim/run_process.h"
#include "unit/sim/sim_test_util.h"

namespace npushare::sim {
namespace {

using testing::BinPath;

double Field(const std::string& line, const std::string& key) {
  size_t pos = line.find(key + "=");
  return pos == std::string::npos ? -1 : std::strtod(line.c_str() + pos + key.size() + 1, nullptr);
}

class TimingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    unsetenv("ASCEND_VISIBLE_DEVICES");
    testing::UseNewState("model: 910B3\ncards: 1\n");
  }
};

TEST_F(TimingTest, OneSecondOfKernelsTakesOneSecond) {
  auto r = testing::RunBinary(
      {BinPath("npu-sim-workload"), "--kernels", "1000", "--kernel-us", "1000", "--batch", "100"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  double wall = Field(r.out, "wall_s");
  EXPECT_GE(wall, 0.95) << r.out;
  EXPECT_LE(wall, 1.05) << r.out;
  // Device time of the stream (events) can never be below the work queued.
  EXPECT_GE(Field(r.out, "device_ms"), 1000.0) << r.out;
}

TEST_F(TimingTest, TwoProcessesOnAFullChipEachGetAboutHalf) {
  std::vector<std::string> argv = {
      BinPath("npu-sim-workload"), "--seconds", "1", "--kernel-us", "1000", "--batch", "8"};
  testing::Child a = testing::Spawn(argv);
  testing::Child b = testing::Spawn(argv);
  close(a.in_fd);
  close(b.in_fd);
  std::string out_a = testing::ReadAll(a.out_fd);
  std::string out_b = testing::ReadAll(b.out_fd);
  ASSERT_EQ(testing::Wait(a.pid), 0) << out_a;
  ASSERT_EQ(testing::Wait(b.pid), 0) << out_b;
  double ka = Field(out_a, "kernels_per_s");
  double kb = Field(out_b, "kernels_per_s");
  // Alone, a process reaches ~1000 kernels/s; sharing the chip, each gets about half.
  EXPECT_GT(ka, 300) << out_a;
  EXPECT_LT(ka, 650) << out_a;
  EXPECT_GT(kb, 300) << out_b;
  EXPECT_LT(kb, 650) << out_b;
  EXPECT_GT(ka + kb, 800) << out_a << out_b;  // the chip stayed busy (~965 alone)
}

TEST_F(TimingTest, KernelsThatFitSideBySideDoNotSlowEachOther) {
  std::vector<std::string> argv = {BinPath("npu-sim-workload"),
                                   "--seconds",
                                   "1",
                                   "--kernel-us",
                                   "1000",
                                   "--cores",
                                   "10",
                                   "--batch",
                                   "8"};
  testing::Child a = testing::Spawn(argv);
  testing::Child b = testing::Spawn(argv);
  close(a.in_fd);
  close(b.in_fd);
  std::string out_a = testing::ReadAll(a.out_fd);
  std::string out_b = testing::ReadAll(b.out_fd);
  ASSERT_EQ(testing::Wait(a.pid), 0);
  ASSERT_EQ(testing::Wait(b.pid), 0);
  EXPECT_GT(Field(out_a, "kernels_per_s"), 800) << out_a;
  EXPECT_GT(Field(out_b, "kernels_per_s"), 800) << out_b;
}

}  // namespace
}  // namespace npushare::sim
