// Issue 14, "DCMI results in npu-smi checked": with a DCMI whose health, temperature and board
// queries fail (a preloaded shim), `npu-smi info` prints "NA" in those fields instead of the
// zero-initialised values it used to print as if read, and `npu-smi info -t board` fails with
// a message instead of printing a board of zeros.
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "unit/sim/run_process.h"
#include "unit/sim/sim_test_util.h"

namespace npushare::sim {
namespace {

struct ToolRun {
  int exit_code;  // -1 when killed by a signal
  std::string output;
};

ToolRun RunSmi(const std::vector<std::string>& args, const std::string& state_dir, bool shim) {
  testing::SpawnOptions options;
  std::vector<std::string> env = {"NPU_SIM_STATE=" + state_dir, "PATH=/usr/bin:/bin"};
  if (shim) {
    env.push_back(std::string("LD_PRELOAD=") + NPUSHARE_DCMI_FAILURE_SHIM);
    // Under NPUSHARE_SANITIZE the shim (not instrumented) is preloaded before ASan's runtime.
    env.push_back("ASAN_OPTIONS=verify_asan_link_order=0");
  }
  options.env = env;
  options.pre_exec = [] { dup2(1, 2); };
  std::vector<std::string> argv = {testing::BinPath("npu-smi")};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Child c = testing::Spawn(argv, options);
  if (c.pid < 0) {
    return {-2, ""};
  }
  close(c.in_fd);
  std::string out = testing::ReadAll(c.out_fd);
  close(c.out_fd);
  int status = 0;
  if (waitpid(c.pid, &status, 0) != c.pid) {
    return {-2, out};
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class NpuSmiDcmiFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir();
    testing::InitState(dir_, "model: 910B3\ncards: 1\n");
  }
  std::string dir_;
};

TEST_F(NpuSmiDcmiFailureTest, Issue14FailedFieldQueriesPrintNA) {
  const ToolRun normal = RunSmi({"info"}, dir_, /*shim=*/false);
  ASSERT_EQ(normal.exit_code, 0) << normal.output;
  ASSERT_NE(normal.output.find(" OK "), std::string::npos) << normal.output;

  const ToolRun failing = RunSmi({"info"}, dir_, /*shim=*/true);
  ASSERT_EQ(failing.exit_code, 0) << failing.output;
  EXPECT_EQ(failing.output.find(" OK "), std::string::npos) << failing.output;
  // The chip row: health "NA", power read, temperature "NA".
  EXPECT_NE(failing.output.find("| NA            |"), std::string::npos) << failing.output;
}

TEST_F(NpuSmiDcmiFailureTest, Issue14FailedBoardQueryIsAnErrorWithAMessage) {
  const ToolRun normal = RunSmi({"info", "-t", "board", "-i", "0"}, dir_, /*shim=*/false);
  ASSERT_EQ(normal.exit_code, 0) << normal.output;

  const ToolRun failing = RunSmi({"info", "-t", "board", "-i", "0"}, dir_, /*shim=*/true);
  EXPECT_GT(failing.exit_code, 0) << failing.output;
  EXPECT_NE(failing.output.find("board information failed"), std::string::npos) << failing.output;
  EXPECT_EQ(failing.output.find("Board ID"), std::string::npos) << failing.output;
}

}  // namespace
}  // namespace npushare::sim
