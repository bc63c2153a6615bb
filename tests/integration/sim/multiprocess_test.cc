// Multi-process behaviour of npu-sim, driving the real npu-sim-workload binary (public ACL
// API only) and observing through libdcmi.so like a device plugin would.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "dcmi_interface_api.h"
#include "unit/sim/run_process.h"
#include "unit/sim/sim_test_util.h"

namespace npushare::sim {
namespace {

using testing::BinPath;
using testing::Child;
using testing::ReadLine;
using testing::Spawn;
using testing::Wait;

// One 910B4: 32768 MB, 3072 MB reserved -> 29696 MB allocatable.
constexpr uint64_t kCapacityMb = 29696;

class MultiProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    unsetenv("ASCEND_VISIBLE_DEVICES");
    testing::UseNewState("model: 910B4\ncards: 1\n");
    ASSERT_EQ(dcmi_init(), DCMI_OK);
  }

  static uint64_t BytesOf(pid_t pid, int* procs_out = nullptr) {
    dcmi_proc_mem_info procs[MAX_PROC_NUM_IN_DEVICE];
    int n = 0;
    EXPECT_EQ(dcmi_get_device_resource_info(0, 0, procs, &n), DCMI_OK);
    uint64_t total = 0;
    for (int i = 0; i < n; ++i) {
      if (pid == 0 || procs[i].proc_id == pid) {
        total += procs[i].proc_mem_usage;
      }
    }
    if (procs_out != nullptr) {
      *procs_out = n;
    }
    return total;
  }

  static uint64_t Field(const std::string& line, const std::string& key) {
    size_t pos = line.find(key + "=");
    if (pos == std::string::npos) {
      return ~0ull;
    }
    return std::strtoull(line.c_str() + pos + key.size() + 1, nullptr, 10);
  }
};

TEST_F(MultiProcessTest, CapacityHoldsAcrossEightConcurrentProcesses) {
  std::vector<Child> children;
  for (int i = 0; i < 8; ++i) {
    children.push_back(
        Spawn({BinPath("npu-sim-workload"), "--oom-probe", "--chunk-mb", "512", "--hold"}));
    ASSERT_GT(children.back().pid, 0);
  }
  uint64_t sum_mb = 0;
  for (Child& c : children) {
    std::string oom = ReadLine(c.out_fd);
    EXPECT_EQ(Field(oom, "oom_code"), 207001u) << oom;
    sum_mb += Field(oom, "alloc_mb");
    EXPECT_EQ(ReadLine(c.out_fd).rfind("READY", 0), 0u);
  }
  // Every process stopped at the first 207001, and together they filled the chip: at most one
  // chunk (plus padding) per process is left over.
  EXPECT_LE(sum_mb, kCapacityMb);
  EXPECT_GT(sum_mb + 8 * 512, kCapacityMb);
  EXPECT_EQ(BytesOf(0) >> 20, sum_mb);  // padding is below 1 MB in total
  for (Child& c : children) {
    close(c.in_fd);
    EXPECT_EQ(Wait(c.pid), 0);
    close(c.out_fd);
  }
  EXPECT_EQ(BytesOf(0), 0u);
}

TEST_F(MultiProcessTest, EightProcessesOfFourGigabytesOnlySevenFit) {
  std::vector<Child> children;
  for (int i = 0; i < 8; ++i) {
    children.push_back(Spawn({BinPath("npu-sim-workload"), "--weights-mb", "4096", "--hold"}));
    ASSERT_GT(children.back().pid, 0);
  }
  int ready = 0;
  int oom = 0;
  std::vector<pid_t> failed;
  for (Child& c : children) {
    std::string line = ReadLine(c.out_fd);
    if (line.rfind("READY", 0) == 0) {
      ++ready;
    } else if (Field(line, "error") == 207001u) {
      ++oom;
      failed.push_back(c.pid);
    }
  }
  EXPECT_EQ(ready, 7);  // 7 x 4 GiB = 28 GiB fits in 29 GiB, 8 do not
  EXPECT_EQ(oom, 1);
  int procs = 0;
  EXPECT_EQ(BytesOf(0, &procs), 7 * ((4096ull << 20) + 32));
  EXPECT_EQ(procs, 7);
  for (Child& c : children) {
    close(c.in_fd);
    int code = Wait(c.pid);
    bool was_oom = !failed.empty() && failed[0] == c.pid;
    EXPECT_EQ(code, was_oom ? 3 : 0);
    close(c.out_fd);
  }
  EXPECT_EQ(BytesOf(0), 0u);
}

TEST_F(MultiProcessTest, SigkillReleasesMemoryLikeADriver) {
  Child c = Spawn({BinPath("npu-sim-workload"), "--weights-mb", "4096", "--hold"});
  ASSERT_GT(c.pid, 0);
  ASSERT_EQ(ReadLine(c.out_fd).rfind("READY", 0), 0u);
  EXPECT_EQ(BytesOf(c.pid), (4096ull << 20) + 32);  // aclrtMalloc padding
  ASSERT_EQ(kill(c.pid, SIGKILL), 0);
  // Not reaped yet (a zombie): the memory must still be released. Bounded poll on the state.
  bool released = false;
  for (int i = 0; i < 200 && !released; ++i) {
    released = BytesOf(c.pid) == 0;
    if (!released) {
      usleep(5000);
    }
  }
  EXPECT_TRUE(released);
  EXPECT_EQ(Wait(c.pid), 128 + SIGKILL);
  close(c.in_fd);
  close(c.out_fd);
  // The whole chip is allocatable again.
  auto r = testing::RunBinary({BinPath("npu-sim-workload"), "--oom-probe", "--chunk-mb", "1024"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Field(r.out, "alloc_mb"), 28672u) << r.out;  // 28 x 1 GiB (+padding) fit in 29696
}

TEST_F(MultiProcessTest, NormalExitReleasesMemoryImmediately) {
  auto r = testing::RunBinary(
      {BinPath("npu-sim-workload"), "--weights-mb", "1024", "--kernels", "1", "--kernel-us", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(BytesOf(0), 0u);
}

}  // namespace
}  // namespace npushare::sim
