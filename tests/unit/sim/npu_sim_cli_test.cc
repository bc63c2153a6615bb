// npu-sim init / fault / status, observed through libdcmi.so.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "dcmi_interface_api.h"
#include "unit/sim/run_process.h"
#include "unit/sim/sim_test_util.h"

namespace npushare::sim {
namespace {

using testing::BinPath;
using testing::RunBinary;

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// One process, one DCMI context: the state directory is chosen once for the whole suite.
class NpuSimCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir() + "/state");
    setenv("NPU_SIM_STATE", dir_->c_str(), 1);
    unsetenv("ASCEND_VISIBLE_DEVICES");
    std::string yaml = WriteFile(testing::MakeTempDir(), "node.yaml", R"(
model: 910B3
cards:
  - id: 0
  - id: 1
    chips: [{health: critical, error_codes: [0x80E01801], recover_after_ms: 300}]
)");
    auto r = RunBinary({BinPath("npu-sim"), "init", yaml});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    ASSERT_EQ(dcmi_init(), DCMI_OK);
  }
  static std::string* dir_;
};
std::string* NpuSimCliTest::dir_ = nullptr;

TEST_F(NpuSimCliTest, FaultInjectionIsVisibleThroughDcmi) {
  ASSERT_EQ(RunBinary({BinPath("npu-sim"), "fault", "--chip", "0", "--health", "critical",
                       "--errorcode", "0x80CB8009"})
                .exit_code,
            0);
  unsigned health = 0;
  ASSERT_EQ(dcmi_get_device_health(0, 0, &health), DCMI_OK);
  EXPECT_EQ(health, 3u);
  int count = 0;
  unsigned codes[128];
  ASSERT_EQ(dcmi_get_device_errorcode_v2(0, 0, &count, codes, 128), DCMI_OK);
  ASSERT_EQ(count, 1);
  EXPECT_EQ(codes[0], 0x80CB8009u);
  ASSERT_EQ(RunBinary({BinPath("npu-sim"), "fault", "--chip", "0", "--health", "ok"}).exit_code, 0);
  ASSERT_EQ(dcmi_get_device_health(0, 0, &health), DCMI_OK);
  EXPECT_EQ(health, 0u);
  ASSERT_EQ(dcmi_get_device_errorcode_v2(0, 0, &count, codes, 128), DCMI_OK);
  EXPECT_EQ(count, 0);
}

TEST_F(NpuSimCliTest, ChipUnhealthyAtStartRecoversAsScheduled) {
  unsigned health = 0;
  bool recovered = false;
  // Bounded poll: the YAML schedules recovery 300 ms after init.
  for (int i = 0; i < 400 && !recovered; ++i) {
    ASSERT_EQ(dcmi_get_device_health(1, 0, &health), DCMI_OK);
    recovered = health == 0;
    if (!recovered) {
      EXPECT_EQ(health, 3u);
      usleep(10'000);
    }
  }
  EXPECT_TRUE(recovered);
}

TEST_F(NpuSimCliTest, UsageAndInputErrorsHaveDistinctExitCodes) {
  EXPECT_EQ(RunBinary({BinPath("npu-sim")}).exit_code, 2);
  EXPECT_EQ(RunBinary({BinPath("npu-sim"), "fault", "--chip", "0"}).exit_code, 2);
  EXPECT_EQ(RunBinary({BinPath("npu-sim"), "fault", "--chip", "x", "--health", "ok"}).exit_code, 2);
  EXPECT_EQ(RunBinary({BinPath("npu-sim"), "fault", "--chip", "0", "--health", "meh"}).exit_code,
            2);
  EXPECT_EQ(RunBinary({BinPath("npu-sim"), "fault", "--chip", "9", "--health", "ok"}).exit_code, 1);
  std::string tmp = testing::MakeTempDir();
  EXPECT_EQ(
      RunBinary({BinPath("npu-sim"), "init", WriteFile(tmp, "bad.yaml", "cards: [")}).exit_code, 1);
  EXPECT_EQ(RunBinary({BinPath("npu-sim"), "init", tmp + "/missing.yaml"}).exit_code, 1);
  EXPECT_EQ(RunBinary({BinPath("npu-sim"), "status"}).exit_code, 0);
}

}  // namespace
}  // namespace npushare::sim
