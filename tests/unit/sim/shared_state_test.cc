#include "state/shared_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "unit/sim/sim_test_util.h"

namespace npushare::sim {
namespace {

using testing::InitState;
using testing::MakeTempDir;

constexpr char kNode[] = "model: 910B3\ncards: 2\n";

void Patch(const std::string& dir, off_t offset, const void* bytes, size_t n) {
  int fd = open((dir + "/state.bin").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, bytes, n, offset), static_cast<ssize_t>(n));
  close(fd);
}

TEST(SharedStateTest, CreateThenOpenSeesTheChips) {
  std::string dir = MakeTempDir();
  InitState(dir, kNode);
  auto state = SharedState::Open(dir);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ((*state)->Unlocked().chip_count, 2u);
  struct stat st {};
  ASSERT_EQ(stat((dir + "/state.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(SharedStateTest, MissingStateIsNotFound) {
  auto state = SharedState::Open(MakeTempDir());
  EXPECT_EQ(state.status().code(), StatusCode::kNotFound);
}

TEST(SharedStateTest, CorruptMagicIsFailedPrecondition) {
  std::string dir = MakeTempDir();
  InitState(dir, kNode);
  Patch(dir, 0, "GARBAGE!", 8);
  EXPECT_EQ(SharedState::Open(dir).status().code(), StatusCode::kFailedPrecondition);
}

TEST(SharedStateTest, OtherVersionIsFailedPrecondition) {
  std::string dir = MakeTempDir();
  InitState(dir, kNode);
  uint32_t version = NPUSIM_STATE_VERSION + 1;
  Patch(dir, 8, &version, sizeof(version));
  EXPECT_EQ(SharedState::Open(dir).status().code(), StatusCode::kFailedPrecondition);
}

TEST(SharedStateTest, TruncatedFileIsFailedPrecondition) {
  std::string dir = MakeTempDir();
  InitState(dir, kNode);
  ASSERT_EQ(truncate((dir + "/state.bin").c_str(), 4096), 0);
  EXPECT_EQ(SharedState::Open(dir).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_EQ(truncate((dir + "/state.bin").c_str(), 3), 0);
  EXPECT_EQ(SharedState::Open(dir).status().code(), StatusCode::kFailedPrecondition);
}

TEST(SharedStateTest, WorldWritableDirectoryIsRejected) {
  std::string dir = MakeTempDir();
  ASSERT_EQ(chmod(dir.c_str(), 0777), 0);
  EXPECT_EQ(PrepareStateDir(dir).code(), StatusCode::kPermissionDenied);
  ASSERT_EQ(chmod(dir.c_str(), 0700), 0);
  EXPECT_TRUE(PrepareStateDir(dir).ok());
}

TEST(SharedStateTest, ExitedProcessSlotIsReclaimedEvenAsZombie) {
  std::string dir = MakeTempDir();
  InitState(dir, kNode);
  auto state = SharedState::Open(dir);
  ASSERT_TRUE(state.ok());
  pid_t child = fork();
  if (child == 0) {
    _exit(0);
  }
  ASSERT_GT(child, 0);
  {
    StateLock lock(**state);
    lock->procs[5].pid = child;
    lock->procs[5].used_bytes[1] = 1 << 30;
    EXPECT_EQ(ChipUsedBytes(*lock, 1), 1u << 30);
  }
  // Not reaped yet: the child is a zombie, which must already count as dead. Poll (bounded)
  // until the kernel has delivered the exit.
  bool reclaimed = false;
  for (int i = 0; i < 2000 && !reclaimed; ++i) {
    StateLock lock(**state, /*force_sweep=*/true);
    reclaimed = ChipUsedBytes(*lock, 1) == 0;
    if (!reclaimed) {
      usleep(1000);
    }
  }
  EXPECT_TRUE(reclaimed);
  int status = 0;
  waitpid(child, &status, 0);
}

TEST(SharedStateTest, DeadLockHolderDoesNotWedgeTheState) {
  std::string dir = MakeTempDir();
  InitState(dir, kNode);
  pid_t child = fork();
  if (child == 0) {
    auto s = SharedState::Open(dir);
    if (!s.ok()) {
      _exit(2);
    }
    auto* lock = new StateLock(**s);  // never released: dies holding the mutex
    (*lock)->procs[0].pid = getpid();
    (*lock)->procs[0].used_bytes[0] = 4096;
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto state = SharedState::Open(dir);
  ASSERT_TRUE(state.ok());
  StateLock lock(**state);  // EOWNERDEAD path: must not block, must sweep
  EXPECT_EQ(lock->procs[0].pid, 0);
  EXPECT_EQ(ChipUsedBytes(*lock, 0), 0u);
}

TEST(SharedStateTest, UtilizationReflectsBusyCoreTime) {
  NpuSimState* state = new NpuSimState();
  std::memset(state, 0, sizeof(*state));
  state->chip_count = 1;
  state->chips[0].aicore = 10;
  const uint64_t t0 = 50 * NPUSIM_UTIL_BUCKET_NS;
  // 5 of 10 cores busy for the whole last second.
  AddUtilization(state->chips[0], 5, t0 - 10 * NPUSIM_UTIL_BUCKET_NS, t0);
  EXPECT_EQ(ChipUtilizationPercent(*state, 0, t0), 50u);
  // Nothing in the window two seconds later.
  EXPECT_EQ(ChipUtilizationPercent(*state, 0, t0 + 20 * NPUSIM_UTIL_BUCKET_NS), 0u);
  delete state;
}

}  // namespace
}  // namespace npushare::sim
