#include "softslice/interceptor/ledger.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "softslice/interceptor/log.h"
#include "softslice/interceptor/mapping_guard.h"
#include "support/temp_dir.h"

namespace npushare::vnpu {
namespace {

constexpr uint64_t kMb = 1 << 20;

class VnpuLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogQuiet(true);
    root_ = temp_.path();
    ASSERT_FALSE(root_.empty()) << "cannot make a temporary directory";
    dir_ = root_ + "/state";
    for (uint64_t& q : quota_) {
      q = 10 * kMb;
    }
  }
  std::string File() const { return dir_ + "/" VNPU_LEDGER_FILE_NAME; }

  npushare::testing::ScopedTempDir temp_{"vnpu-ledger"};
  std::string root_;
  std::string dir_;
  uint64_t quota_[VNPU_MAX_DEVICES];
};

TEST_F(VnpuLedgerTest, CreatesOwnerOnlyDirectoryAndFile) {
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(File().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), sizeof(VnpuLedger));
  EXPECT_EQ(l.Quota(0), 10 * kMb);
  EXPECT_EQ(l.Quota(VNPU_MAX_DEVICES), 0u);
  l.Close();
}

TEST_F(VnpuLedgerTest, RefusesUnsafeDirectoryOrFile) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  ASSERT_EQ(chmod(dir_.c_str(), 0777), 0);
  Ledger l;
  EXPECT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kIo);
  ASSERT_EQ(chmod(dir_.c_str(), 0700), 0);
  ASSERT_EQ(symlink("/etc/passwd", File().c_str()), 0);
  EXPECT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kIo);
  EXPECT_FALSE(l.is_open());
}

TEST_F(VnpuLedgerTest, RefusesAFileOfAnotherFormat) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  int fd = open(File().c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "garbage", 7), 7);
  Ledger l;
  EXPECT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kBadFormat);
  // Right size, wrong magic.
  ASSERT_EQ(ftruncate(fd, sizeof(VnpuLedger)), 0);
  EXPECT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kBadFormat);
  // Right magic, wrong version.
  ASSERT_EQ(pwrite(fd, VNPU_LEDGER_MAGIC, 8, 0), 8);
  uint32_t version = 99;
  ASSERT_EQ(pwrite(fd, &version, 4, 8), 4);
  EXPECT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kBadFormat);
  close(fd);
}

TEST_F(VnpuLedgerTest, InitialisesAFileWhoseCreatorDiedBeforeFinishing) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  int fd = open(File().c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, sizeof(VnpuLedger)), 0);  // sized, magic never written
  close(fd);
  Ledger l;
  EXPECT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  l.Close();
}

TEST_F(VnpuLedgerTest, LaterOpenersUseTheQuotasInTheFile) {
  Ledger a;
  ASSERT_EQ(a.Open(dir_.c_str(), quota_), LedgerError::kOk);
  uint64_t other[VNPU_MAX_DEVICES] = {1};
  Ledger b;
  ASSERT_EQ(b.Open(dir_.c_str(), other), LedgerError::kOk);
  EXPECT_EQ(b.Quota(0), 10 * kMb);
  a.Close();
  b.Close();
}

TEST_F(VnpuLedgerTest, ReserveStopsExactlyAtTheQuota) {
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, 4 * kMb), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, 4 * kMb), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, 4 * kMb), LedgerError::kOverQuota);
  EXPECT_EQ(l.Reserve(0, 2 * kMb), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, 1), LedgerError::kOverQuota);
  EXPECT_EQ(l.Used(0), 10 * kMb);
  EXPECT_EQ(l.Used(1), 0u);
  l.Unreserve(0, 2 * kMb);
  EXPECT_EQ(l.Reserve(0, 2 * kMb), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, ~uint64_t{0}), LedgerError::kOverQuota);
  EXPECT_EQ(l.raw()->denied_allocs, 2u);  // oversized requests are refused before counting
  l.Unreserve(0, 100 * kMb);              // saturates at zero
  EXPECT_EQ(l.Used(0), 0u);
  l.Close();
}

TEST_F(VnpuLedgerTest, ConcurrentThreadsReachButNeverExceedTheQuota) {
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  std::atomic<uint64_t> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      while (l.Reserve(0, 64 * 1024) == LedgerError::kOk) {
        granted += 64 * 1024;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(granted.load(), 10 * kMb);
  EXPECT_EQ(l.Used(0), 10 * kMb);
  l.Close();
}

TEST_F(VnpuLedgerTest, RecordAndForgetRoundTrip) {
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  ASSERT_EQ(l.Record(0x7f0000001000, 3, 12345), LedgerError::kOk);
  uint32_t dev = 99;
  uint64_t bytes = 99;
  EXPECT_EQ(l.Forget(0x7f0000002000, &dev, &bytes), LedgerError::kNotFound);
  EXPECT_EQ(dev, 99u);
  ASSERT_EQ(l.Forget(0x7f0000001000, &dev, &bytes), LedgerError::kOk);
  EXPECT_EQ(dev, 3u);
  EXPECT_EQ(bytes, 12345u);
  EXPECT_EQ(l.Forget(0x7f0000001000, &dev, &bytes), LedgerError::kNotFound);  // double free
  EXPECT_EQ(l.Record(VNPU_ALLOC_KEY_TOMBSTONE, 0, 1), LedgerError::kTableFull);
  EXPECT_EQ(l.Record(0x1000, VNPU_MAX_DEVICES, 1), LedgerError::kTableFull);
  l.Close();
}

TEST_F(VnpuLedgerTest, RecordFailsCleanlyWhenTheTableIsFull) {
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  std::vector<uint64_t> recorded;
  std::vector<uint64_t> refused;
  for (uint64_t i = 0; i < 2 * VNPU_MAX_ALLOCS_PER_PROC; ++i) {
    uint64_t key = 0x100000000ull + i * 4096;
    (l.Record(key, 0, i + 1) == LedgerError::kOk ? recorded : refused).push_back(key);
  }
  EXPECT_LE(recorded.size(), VNPU_MAX_ALLOCS_PER_PROC);
  EXPECT_FALSE(refused.empty());
  uint32_t dev;
  uint64_t bytes;
  for (uint64_t key : refused) {
    ASSERT_EQ(l.Forget(key, &dev, &bytes), LedgerError::kNotFound);
  }
  for (uint64_t key : recorded) {
    ASSERT_EQ(l.Forget(key, &dev, &bytes), LedgerError::kOk);
    ASSERT_EQ(bytes, (key - 0x100000000ull) / 4096 + 1);
  }
  // Tombstones are reused: the table accepts new keys again.
  EXPECT_EQ(l.Record(0x200000000ull, 1, 7), LedgerError::kOk);
  l.Close();
}

// A child process that claims a slot, charges `mb` MiB on device 0, reports, then waits.
pid_t SpawnHolder(const std::string& dir, const uint64_t* quota, uint64_t mb, int* report_fd) {
  int p[2];
  if (pipe(p) != 0) {
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    Ledger c;
    char ok = c.Open(dir.c_str(), quota) == LedgerError::kOk && c.ClaimSlot() == LedgerError::kOk &&
                      c.Reserve(0, mb * kMb) == LedgerError::kOk
                  ? '1'
                  : '0';
    if (write(p[1], &ok, 1) != 1) {
      _exit(1);
    }
    pause();
    _exit(0);
  }
  close(p[1]);
  *report_fd = p[0];
  return pid;
}

TEST_F(VnpuLedgerTest, ChargesOfADeadProcessAreReclaimedAndOnlyThen) {
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  int fd = -1;
  pid_t child = SpawnHolder(dir_, quota_, 6, &fd);
  ASSERT_GT(child, 0);
  char ok = 0;
  ASSERT_EQ(read(fd, &ok, 1), 1);
  ASSERT_EQ(ok, '1');
  // Alive: its 6 MiB count, and a sweep reclaims nothing.
  EXPECT_EQ(l.Reserve(0, 6 * kMb), LedgerError::kOverQuota);
  EXPECT_EQ(l.Sweep(0), 0);
  EXPECT_EQ(l.Used(0), 6 * kMb);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(l.Used(0), 6 * kMb);                       // nothing polls in the background
  EXPECT_EQ(l.Reserve(0, 6 * kMb), LedgerError::kOk);  // the refusal path sweeps
  EXPECT_EQ(l.Used(0), 6 * kMb);
  EXPECT_EQ(l.raw()->reclaimed_procs, 1u);
  close(fd);
  l.Close();
}

TEST_F(VnpuLedgerTest, MutexHeldByADeadProcessIsRecovered) {
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  pid_t child = fork();
  if (child == 0) {
    auto* raw = const_cast<VnpuLedger*>(l.raw());
    pthread_mutex_lock(&raw->lock.mutex);
    _exit(0);  // dies holding the ledger mutex
  }
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(l.Reserve(0, kMb), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, kMb), LedgerError::kOk);  // and it stays usable
  l.Close();
}

TEST_F(VnpuLedgerTest, ForkChildGetsItsOwnSlotAndTheParentStaysAlive) {
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  ASSERT_EQ(l.Reserve(0, 4 * kMb), LedgerError::kOk);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t child = fork();
  if (child == 0) {
    int parent_slot = l.slot();
    l.AfterForkChild();
    char r = l.ClaimSlot() == LedgerError::kOk && l.slot() != parent_slot &&
                     l.Reserve(0, 6 * kMb) == LedgerError::kOk &&
                     l.Reserve(0, 1) == LedgerError::kOverQuota
                 ? '1'
                 : '0';
    if (write(p[1], &r, 1) != 1) {
      _exit(1);
    }
    _exit(0);  // no release: the parent's sweep must reclaim the child, not the parent
  }
  close(p[1]);
  char r = 0;
  ASSERT_EQ(read(p[0], &r, 1), 1);
  EXPECT_EQ(r, '1');
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(l.Sweep(0), 1);
  EXPECT_EQ(l.Used(0), 4 * kMb);  // the parent's own charge survived
  close(p[0]);
  l.Close();
}

TEST_F(VnpuLedgerTest, PrivateLedgerWorksWithoutAStateDirectory) {
  Ledger l;
  ASSERT_EQ(l.OpenPrivate(quota_), LedgerError::kOk);
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, 10 * kMb), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, 1), LedgerError::kOverQuota);
  l.Close();
}

TEST_F(VnpuLedgerTest, AllSlotsTakenIsReportedNotFatal) {
  std::vector<Ledger> ledgers(VNPU_MAX_PROCS + 1);
  for (uint32_t i = 0; i < VNPU_MAX_PROCS; ++i) {
    ASSERT_EQ(ledgers[i].Open(dir_.c_str(), quota_), LedgerError::kOk);
    ASSERT_EQ(ledgers[i].ClaimSlot(), LedgerError::kOk);
  }
  Ledger& last = ledgers.back();
  ASSERT_EQ(last.Open(dir_.c_str(), quota_), LedgerError::kOk);
  EXPECT_EQ(last.ClaimSlot(), LedgerError::kNoSlot);
  ledgers[5].ReleaseSlot();
  EXPECT_EQ(last.ClaimSlot(), LedgerError::kOk);
  EXPECT_EQ(last.slot(), 5);
  for (Ledger& l : ledgers) {
    l.Close();
  }
}

// Issue 5: a process with quotas from the node's quota file enforces them even when another
// process of the container has rewritten the shared ledger's quotas.
TEST_F(VnpuLedgerTest, Issue5PinnedQuotasIgnoreTheLedgersQuotas) {
  uint64_t huge[VNPU_MAX_DEVICES];
  for (uint64_t& q : huge) {
    q = 1000 * kMb;
  }
  Ledger creator;  // the first opener declared a huge quota in its environment
  ASSERT_EQ(creator.Open(dir_.c_str(), huge), LedgerError::kOk);
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  EXPECT_EQ(l.Quota(0), 1000 * kMb);
  l.PinQuotas(quota_);
  EXPECT_EQ(l.Quota(0), 10 * kMb);
  EXPECT_EQ(l.raw()->quota_bytes[0], 10 * kMb);                         // published for metrics
  const_cast<VnpuLedger*>(creator.raw())->quota_bytes[0] = 1000 * kMb;  // scribbled again
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, 10 * kMb), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, 1), LedgerError::kOverQuota);
  l.Close();
  creator.Close();
}

// Issue 15: a container that scribbles over its own ledger's header gets no more memory on
// limited devices (and keeps its quota, not the garbage's), instead of a quota lifted by the
// garbage or an allocation hung on a garbage mutex.
TEST_F(VnpuLedgerTest, ScribbledLedgerRefusesReservationsAndKeepsItsQuota) {
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, kMb), LedgerError::kOk);
  EXPECT_FALSE(l.Broken());
  int fd = open(File().c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string garbage(512, '\xA5');  // magic, quotas and the mutex
  ASSERT_EQ(pwrite(fd, garbage.data(), garbage.size(), 0), 512);
  close(fd);
  EXPECT_TRUE(l.Broken());
  EXPECT_EQ(l.Quota(0), 10 * kMb);
  EXPECT_EQ(l.Reserve(0, kMb), LedgerError::kBadFormat);
  l.Close();
}

// Issue 15: a ledger truncated under the process does not kill it with SIGBUS: the fault is
// absorbed (mapping_guard.h) and the ledger refuses from then on.
TEST_F(VnpuLedgerTest, TruncatedLedgerIsAbsorbedNotSigbus) {
  Ledger l;
  ASSERT_EQ(l.Open(dir_.c_str(), quota_), LedgerError::kOk);
  ASSERT_EQ(l.ClaimSlot(), LedgerError::kOk);
  EXPECT_EQ(l.Reserve(0, kMb), LedgerError::kOk);
  ASSERT_EQ(truncate(File().c_str(), 0), 0);
  uint64_t absorbed = SigbusesAbsorbed();
  EXPECT_EQ(l.Reserve(0, kMb), LedgerError::kBadFormat);  // the first access faults
  EXPECT_GT(SigbusesAbsorbed(), absorbed);
  EXPECT_TRUE(l.Broken());
  EXPECT_EQ(l.Quota(0), 10 * kMb);
  l.Close();
}

}  // namespace
}  // namespace npushare::vnpu
