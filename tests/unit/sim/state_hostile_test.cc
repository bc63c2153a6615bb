// Issue 14, "tools and stand-ins that must not crash on bad input": an npu-sim state file
// with garbage after a valid header, garbage in the lock area, a symlinked or loosely
// permitted state.bin. SharedState::Open refuses each with a clear status, and the tools
// (npu-sim status, npu-smi, npu-sim-workload) exit with a message instead of a signal.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "state/state_validation.h"
#include "unit/sim/run_process.h"
#include "unit/sim/sim_test_util.h"

namespace npushare::sim {
namespace {

using testing::BinPath;
using testing::InitState;
using testing::MakeTempDir;

constexpr char kNode[] = "model: 910B3\ncards: 2\n";
constexpr char k310P[] = "model: 310P3\ncards: 1\n";

void Patch(const std::string& dir, size_t offset, const void* bytes, size_t n) {
  int fd = open((dir + "/state.bin").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, bytes, n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
  close(fd);
}

template <typename T>
void PatchValue(const std::string& dir, size_t offset, T value) {
  Patch(dir, offset, &value, sizeof(value));
}

// RandomTail: fixed-seed random bytes from `offset` to the end of the state.
void RandomTail(const std::string& dir, size_t offset, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> bytes(sizeof(NpuSimState) - offset);
  for (auto& b : bytes) {
    b = static_cast<unsigned char>(rng());
  }
  Patch(dir, offset, bytes.data(), bytes.size());
}

constexpr size_t kChip0 = offsetof(NpuSimState, chips);
constexpr size_t kChipSize = sizeof(NpuSimChip);

StatusCode OpenCode(const std::string& dir) {
  return SharedState::Open(dir).status().code();
}

TEST(StateHostileTest, Issue14RandomBytesAfterTheHeaderAreRefused) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::string dir = MakeTempDir();
    InitState(dir, kNode);
    // Everything after the header words, lock area excluded (tested separately).
    RandomTail(dir, offsetof(NpuSimState, last_sweep_ns), seed);
    EXPECT_EQ(OpenCode(dir), StatusCode::kFailedPrecondition) << "seed " << seed;
  }
}

TEST(StateHostileTest, Issue14EachIndexFieldIsValidated) {
  struct Field {
    const char* name;
    size_t offset;
    uint32_t value;
  };
  const Field fields[] = {
      {"chip_count", offsetof(NpuSimState, chip_count), NPUSIM_MAX_CHIPS + 1},
      {"card_count", offsetof(NpuSimState, card_count), 3},
      {"model_index", kChip0 + offsetof(NpuSimChip, model_index), 1000},
      {"phy_id", kChip0 + kChipSize + offsetof(NpuSimChip, phy_id), 0},
      {"device_index", kChip0 + offsetof(NpuSimChip, device_index), 7},
      {"aicore 0", kChip0 + offsetof(NpuSimChip, aicore), 0},
      {"aicore > max", kChip0 + offsetof(NpuSimChip, aicore), NPUSIM_MAX_CORES + 1},
      {"health", kChip0 + offsetof(NpuSimChip, health), 9},
      {"error_count", kChip0 + offsetof(NpuSimChip, error_count), 1u << 30},
      {"device_share", kChip0 + offsetof(NpuSimChip, device_share), 2},
  };
  for (const Field& f : fields) {
    std::string dir = MakeTempDir();
    InitState(dir, kNode);
    PatchValue(dir, f.offset, f.value);
    EXPECT_EQ(OpenCode(dir), StatusCode::kFailedPrecondition) << f.name;
  }
  std::string dir = MakeTempDir();
  InitState(dir, kNode);
  PatchValue(dir, offsetof(NpuSimState, procs) + offsetof(NpuSimProc, pid), int32_t{-1});
  EXPECT_EQ(OpenCode(dir), StatusCode::kFailedPrecondition) << "negative pid";
  dir = MakeTempDir();
  InitState(dir, kNode);
  const char no_nul[32] = {'1', '1', '1', '1', '1', '1', '1', '1', '1', '1', '1',
                           '1', '1', '1', '1', '1', '1', '1', '1', '1', '1', '1',
                           '1', '1', '1', '1', '1', '1', '1', '1', '1', '1'};
  Patch(dir, offsetof(NpuSimState, driver_version), no_nul, sizeof(no_nul));
  EXPECT_EQ(OpenCode(dir), StatusCode::kFailedPrecondition) << "driver_version";
}

TEST(StateHostileTest, Issue14VnpuFieldsAreValidated) {
  const size_t v0 = kChip0 + offsetof(NpuSimChip, vnpus);
  struct Vnpu {
    const char* name;
    NpuSimVnpu v;
  };
  // A well-formed slice on chip 0 of a 310P3 node (vNPU ids 100..115, the 310P3 template
  // table), and one broken field at a time.
  auto slice = [](uint32_t id, uint32_t template_index, uint32_t aicore, uint32_t core_offset) {
    NpuSimVnpu v{};
    v.id = id;
    v.template_index = template_index;
    v.aicore = aicore;
    v.core_offset = core_offset;
    v.memory_mb = 1024;
    return v;
  };
  const Vnpu bad[] = {
      {"id outside the chip's range", slice(300, 0, 1, 0)},
      {"template_index", slice(100, 99, 1, 0)},
      {"core range past the chip", slice(100, 0, NPUSIM_MAX_CORES, 1)},
      {"core_offset overflow", slice(100, 0, 2, 0xFFFFFFFFu)},
  };
  for (const Vnpu& b : bad) {
    std::string dir = MakeTempDir();
    InitState(dir, k310P);
    Patch(dir, v0, &b.v, sizeof(b.v));
    EXPECT_EQ(OpenCode(dir), StatusCode::kFailedPrecondition) << b.name;
  }
  std::string dir = MakeTempDir();
  InitState(dir, k310P);
  const NpuSimVnpu good = slice(100, 0, 1, 0);
  Patch(dir, v0, &good, sizeof(good));
  EXPECT_TRUE(SharedState::Open(dir).ok()) << "a well-formed vNPU must still be accepted";
}

TEST(StateHostileTest, Issue14GarbageInTheLockAreaIsRefused) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    std::string dir = MakeTempDir();
    InitState(dir, kNode);
    std::mt19937 rng(seed);
    unsigned char lock[sizeof(NpuSimMutex)];
    for (auto& b : lock) {
      b = static_cast<unsigned char>(rng());
    }
    Patch(dir, offsetof(NpuSimState, lock), lock, sizeof(lock));
    EXPECT_EQ(OpenCode(dir), StatusCode::kFailedPrecondition) << "seed " << seed;
  }
}

TEST(StateHostileTest, Issue14SymlinkedStateIsNotFollowed) {
  std::string real = MakeTempDir();
  InitState(real, kNode);
  std::string dir = MakeTempDir();
  ASSERT_EQ(symlink((real + "/state.bin").c_str(), (dir + "/state.bin").c_str()), 0);
  EXPECT_EQ(OpenCode(dir), StatusCode::kFailedPrecondition);
}

TEST(StateHostileTest, Issue14LooseModesAreRefused) {
  for (mode_t mode : {0666, 0620, 0602}) {
    std::string dir = MakeTempDir();
    InitState(dir, kNode);
    ASSERT_EQ(chmod((dir + "/state.bin").c_str(), mode), 0);
    EXPECT_EQ(OpenCode(dir), StatusCode::kPermissionDenied) << std::oct << mode;
  }
  std::string dir = MakeTempDir();
  InitState(dir, kNode);
  ASSERT_EQ(chmod((dir + "/state.bin").c_str(), 0640), 0);
  EXPECT_TRUE(SharedState::Open(dir).ok()) << "group-readable is not group-writable";
}

TEST(StateHostileTest, NonRegularStateIsRefused) {
  std::string dir = MakeTempDir();
  ASSERT_EQ(mkfifo((dir + "/state.bin").c_str(), 0600), 0);
  // O_RDWR on a FIFO does not block; fstat then shows it is not a regular file.
  EXPECT_EQ(OpenCode(dir), StatusCode::kFailedPrecondition);
}

TEST(StateHostileTest, HeaderValidation) {
  NpuSimState s{};
  std::memcpy(s.magic, NPUSIM_STATE_MAGIC, 8);
  s.version = NPUSIM_STATE_VERSION;
  s.header_size = sizeof(NpuSimState);
  s.file_size = sizeof(NpuSimState);
  EXPECT_TRUE(ValidateStateHeader(&s, kStateHeaderBytes, sizeof(s)).ok());
  EXPECT_EQ(ValidateStateHeader(&s, 10, sizeof(s)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ValidateStateHeader(&s, kStateHeaderBytes, sizeof(s) + 1).code(),
            StatusCode::kFailedPrecondition);
  s.file_size = 1;
  EXPECT_EQ(ValidateStateHeader(&s, kStateHeaderBytes, sizeof(s)).code(),
            StatusCode::kFailedPrecondition);
}

// The tools on a state with random bytes after the header: a message and exit status 1 (npu-sim),
// the DCMI init failure code (npu-smi), or the ACL error exit (npu-sim-workload); never a signal.
struct ToolRun {
  int exit_code;  // -1 when killed by a signal
  std::string output;
};

ToolRun RunTool(const std::vector<std::string>& argv, const std::string& state_dir) {
  testing::SpawnOptions options;
  options.env = std::vector<std::string>{"NPU_SIM_STATE=" + state_dir, "PATH=/usr/bin:/bin"};
  options.pre_exec = [] { dup2(1, 2); };
  testing::Child c = testing::Spawn(argv, options);
  if (c.pid < 0) {
    return {-1, ""};
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

TEST(StateHostileTest, Issue14ToolsReportACorruptStateInsteadOfCrashing) {
  std::string dir = MakeTempDir();
  InitState(dir, kNode);
  RandomTail(dir, offsetof(NpuSimState, last_sweep_ns), 7);
  {
    ToolRun r = RunTool({BinPath("npu-sim"), "status"}, dir);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("corrupt npu-sim state"), std::string::npos) << r.output;
  }
  {
    ToolRun r = RunTool({BinPath("npu-smi"), "info"}, dir);
    EXPECT_GT(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("corrupt npu-sim state"), std::string::npos) << r.output;
  }
  {
    ToolRun r = RunTool({BinPath("npu-sim-workload"), "--kernels", "1"}, dir);
    EXPECT_EQ(r.exit_code, 3) << r.output;
  }
}

TEST(StateHostileTest, Issue14ToolsReportGarbageInTheLockArea) {
  std::string dir = MakeTempDir();
  InitState(dir, kNode);
  unsigned char lock[sizeof(NpuSimMutex)];
  std::memset(lock, 0xA5, sizeof(lock));
  Patch(dir, offsetof(NpuSimState, lock), lock, sizeof(lock));
  ToolRun r = RunTool({BinPath("npu-sim"), "status"}, dir);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("lock"), std::string::npos) << r.output;
  r = RunTool({BinPath("npu-smi"), "info"}, dir);
  EXPECT_GT(r.exit_code, 0) << r.output;
}

}  // namespace
}  // namespace npushare::sim
