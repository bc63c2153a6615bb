// npu-smi outputs and exit codes against golden files (tests/unit/sim/golden/). Each case runs
// the real npu-smi binary on a state initialised from a node YAML in the same directory.
// Set NPUSIM_UPDATE_GOLDEN=1 to rewrite the golden files from the current output.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "unit/sim/run_process.h"
#include "unit/sim/sim_test_util.h"

namespace npushare::sim {
namespace {

using testing::BinPath;
using testing::RunBinary;

struct Step {
  std::vector<std::string> args;
  std::string input;
  int exit_code;
  std::string golden;  // file name, or "" for no output check
};

std::string GoldenDir() { return std::string(NPUSHARE_SOURCE_DIR) + "/tests/unit/sim/golden/"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void RunSteps(const std::string& node, const std::vector<Step>& steps) {
  testing::UseNewState(ReadFile(GoldenDir() + node));
  unsetenv("ASCEND_VISIBLE_DEVICES");
  const bool update = getenv("NPUSIM_UPDATE_GOLDEN") != nullptr;
  for (const Step& step : steps) {
    std::vector<std::string> argv = {BinPath("npu-smi")};
    argv.insert(argv.end(), step.args.begin(), step.args.end());
    auto r = RunBinary(argv, step.input);
    std::string what = node + ": npu-smi";
    for (const auto& a : step.args) {
      what += " " + a;
    }
    EXPECT_EQ(r.exit_code, step.exit_code) << what << "\n" << r.out;
    if (step.golden.empty()) {
      continue;
    }
    if (update) {
      std::ofstream(GoldenDir() + step.golden) << r.out;
    } else {
      EXPECT_EQ(r.out, ReadFile(GoldenDir() + step.golden)) << what;
    }
  }
}

TEST(NpuSmiGoldenTest, Ascend910B3Node) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "set/create need root, as on real hosts";
  }
  RunSteps("node_910b3.yaml",
           {
               {{"info"}, "", 0, "910b3_info.txt"},
               {{"info", "-l"}, "", 0, "910b3_info_l.txt"},
               {{"info", "-t", "board", "-i", "0"}, "", 0, "910b3_board.txt"},
               {{"info", "-t", "template-info"}, "", 0, "910b3_template_info.txt"},
               {{"set", "-t", "create-vnpu", "-i", "7", "-c", "0", "-f", "vir10_3c_32g"}, "", 0,
                "910b3_create_vnpu.txt"},
               {{"set", "-t", "create-vnpu", "-i", "7", "-c", "0", "-f", "vir10_3c_32g"}, "", 0,
                ""},
               {{"set", "-t", "create-vnpu", "-i", "7", "-c", "0", "-f", "vir05_1c_16g"}, "",
                217, ""},
               {{"info", "-t", "info-vnpu", "-i", "7", "-c", "0"}, "", 0, "910b3_info_vnpu.txt"},
               {{"set", "-t", "destroy-vnpu", "-i", "7", "-c", "0", "-v", "212"}, "", 0,
                "910b3_destroy_vnpu.txt"},
               {{"set", "-t", "destroy-vnpu", "-i", "7", "-c", "0", "-v", "212"}, "", 215, ""},
               {{"set", "-t", "device-share", "-i", "0", "-c", "0", "-d", "1"}, "N\n", 200,
                "910b3_share_refused.txt"},
               {{"set", "-t", "device-share", "-i", "0", "-c", "0", "-d", "1"}, "", 200, ""},
               {{"set", "-t", "device-share", "-i", "0", "-c", "0", "-d", "1"}, "Y\n", 0,
                "910b3_share_chip.txt"},
               {{"set", "-t", "device-share", "-i", "1", "-d", "1"}, "y\n", 0,
                "910b3_share_card.txt"},
               {{"info", "-t", "device-share", "-i", "0"}, "", 0, "910b3_share_query.txt"},
               {{"set", "-t", "device-share", "-i", "0", "-c", "0"}, "", 215, ""},
               {{"set", "-t", "device-share", "-i", "9", "-d", "0"}, "", 208, ""},
               {{"info", "-t", "nonsense"}, "", 211, ""},
           });
}

TEST(NpuSmiGoldenTest, Ascend310P3Node) {
  RunSteps("node_310p3.yaml", {
                                  {{"info"}, "", 0, "310p3_info.txt"},
                                  {{"info", "-l"}, "", 0, "310p3_info_l.txt"},
                                  {{"info", "-t", "template-info", "-i", "32"}, "", 0,
                                   "310p3_template_info.txt"},
                              });
}

TEST(NpuSmiGoldenTest, Ascend910CNode) {
  RunSteps("node_910c.yaml",
           {
               {{"info"}, "", 0, "910c_info.txt"},
               {{"info", "-t", "board", "-i", "0", "-c", "1"}, "", 0, "910c_board_chip.txt"},
               {{"set", "-t", "create-vnpu", "-i", "0", "-c", "0", "-f", "vir10_3c_32g"}, "", 217,
                ""},
           });
}

TEST(NpuSmiGoldenTest, MissingStateFailsWithTheDcmiCode) {
  std::string empty = testing::MakeTempDir();
  setenv("NPU_SIM_STATE", empty.c_str(), 1);
  auto r = testing::RunBinary({BinPath("npu-smi"), "info"});
  EXPECT_EQ(r.exit_code, (-8008) & 0xFF);
}

}  // namespace
}  // namespace npushare::sim
