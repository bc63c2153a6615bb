// npu-sim init / fault / status, observed through libdcmi.so.
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "dcmi_interface_api.h"
#include "unit/sim/run_process.h"
#include "unit/sim/sim_test_util.h"

namespace npushare::sim {
namespace {

using testing::BinPath;
using testing::RunBinary;

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Card 1's chip starts critical and recovers this long after `npu-sim init` (CLOCK_MONOTONIC,
// as npu-sim schedules it). Long enough that the test sees the chip before it recovers even on
// a loaded machine; the test waits for the recovery itself, so this is also its duration.
constexpr uint64_t kRecoverAfterMs = 3'000;

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
    std::string yaml = WriteFile(testing::MakeTempDir(), "node.yaml",
                                 R"(
model: 910B3
cards:
  - id: 0
  - id: 1
    chips: [{health: critical, error_codes: [0x80E01801], recover_after_ms: )" +
                                     std::to_string(kRecoverAfterMs) + R"(}]
)");
    init_start_ns_ = MonotonicNs();
    auto r = RunBinary({BinPath("npu-sim"), "init", yaml});
    init_end_ns_ = MonotonicNs();
    ASSERT_EQ(r.exit_code, 0) << r.out;
    ASSERT_EQ(dcmi_init(), DCMI_OK);
  }
  static std::string* dir_;
  // Around `npu-sim init`: the recovery is due between init_start_ns_ and init_end_ns_, plus
  // kRecoverAfterMs.
  static uint64_t init_start_ns_;
  static uint64_t init_end_ns_;
};
std::string* NpuSimCliTest::dir_ = nullptr;
uint64_t NpuSimCliTest::init_start_ns_ = 0;
uint64_t NpuSimCliTest::init_end_ns_ = 0;

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

// Not vacuous: the chip must be seen critical before its recovery is due and healthy after,
// never healthy early. (It used to poll from whenever the test started: a run that reached it
// more than 300 ms after init saw "healthy" at once and checked nothing.)
TEST_F(NpuSimCliTest, ChipUnhealthyAtStartRecoversAsScheduled) {
  const uint64_t due_earliest = init_start_ns_ + kRecoverAfterMs * 1'000'000;
  const uint64_t due_latest = init_end_ns_ + kRecoverAfterMs * 1'000'000;
  unsigned health = 0;
  uint64_t before = MonotonicNs();
  ASSERT_EQ(dcmi_get_device_health(1, 0, &health), DCMI_OK);
  uint64_t after = MonotonicNs();
  ASSERT_LT(after, due_earliest) << "the test started after the chip's recovery was due (the "
                                    "machine is too loaded to observe it): nothing checked";
  EXPECT_EQ(health, 3u) << "critical until the scheduled recovery";
  // Wait for the recovery (a generous deadline past the due time).
  const uint64_t deadline = due_latest + 60'000'000'000ull;
  while (health != 0 && before < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the shared state
    before = MonotonicNs();
    ASSERT_EQ(dcmi_get_device_health(1, 0, &health), DCMI_OK);
    after = MonotonicNs();
    if (health != 0) {
      EXPECT_EQ(health, 3u);
      EXPECT_LT(before, due_latest) << "still critical after the recovery was due";
    }
  }
  EXPECT_EQ(health, 0u) << "never recovered";
  EXPECT_GE(after, due_earliest) << "recovered before it was due";
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
