// libvnpu.so memory quotas on npu-sim with real processes: vnpu_probe runs with LD_PRELOAD and
// a per-device quota, and the test observes its output and the container ledger file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/read_only_mount.h"
#include "vnpu_test_util.h"

namespace npushare::vnpu {
namespace {

using testing::BinPath;
using testing::Child;
using testing::Fields;
using testing::LedgerView;
using testing::LibPath;
using testing::ReadLine;
using testing::SpawnEnv;
using testing::U64;
using testing::Wait;

constexpr uint64_t kQuotaMb = 4096;
constexpr uint64_t kChipMb = 29696;  // 910B4: 32768 MB minus the 3072 MB device reservation
constexpr uint64_t kMb = 1 << 20;

class MemoryQuotaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseFreshSim(1); }
  void SetUp() override { dir_ = sim::testing::MakeTempDir() + "/vnpu"; }

  std::vector<std::string> Env(uint64_t quota_mb = kQuotaMb) const {
    std::vector<std::string> env = {"LD_PRELOAD=" + LibPath("libvnpu.so"),
                                    "NPUSHARE_VNPU_STATE_DIR=" + dir_};
    if (quota_mb != 0) {
      env.push_back("NPUSHARE_VNPU_MEM_MB=" + std::to_string(quota_mb));
    }
    return env;
  }

  Child Probe(const std::vector<std::string>& args, const std::vector<std::string>& env) const {
    std::vector<std::string> argv = {BinPath("vnpu_probe")};
    argv.insert(argv.end(), args.begin(), args.end());
    Child c = SpawnEnv(argv, env);
    EXPECT_GT(c.pid, 0);
    return c;
  }

  // FirstLineOrSkip: the first output line of a child spawned with a pre-exec step; "" (the
  // child reaped, its reason printed) when that step could not run on this machine.
  static std::string FirstLineOrSkip(Child& c) {
    EXPECT_GT(c.pid, 0);
    std::string line = ReadLine(c.out_fd);
    if (line.rfind("SKIP ", 0) != 0) {
      return line;
    }
    close(c.in_fd);
    close(c.out_fd);
    EXPECT_EQ(Wait(c.pid), testing::kSkipExit);
    std::printf("[ skipped  ] %s\n", line.c_str());
    return "";
  }

  // Finish: closes stdin, expects "freed=" and a clean exit.
  static void Finish(Child& c) {
    close(c.in_fd);
    EXPECT_EQ(ReadLine(c.out_fd).rfind("freed=", 0), 0u);
    close(c.out_fd);
    EXPECT_EQ(Wait(c.pid), 0);
  }

  // ExpectQuotaReachedThenReturned: `c` runs "fill" under the default quota: it stops exactly
  // at the quota with the RTS allocation error, the ledger holds the quota, and its exit
  // returns all of it.
  void ExpectQuotaReachedThenReturned(Child& c) const {
    auto f = Fields(ReadLine(c.out_fd));
    EXPECT_EQ(U64(f, "alloc_mb"), kQuotaMb);
    EXPECT_EQ(U64(f, "code"), 207001u);
    LedgerView ledger(dir_);
    ASSERT_TRUE(ledger.ok());
    EXPECT_EQ(ledger.Used(0), kQuotaMb * kMb);
    Finish(c);
    EXPECT_EQ(ledger.Used(0), 0u);
  }

  std::string dir_;
};

TEST_F(MemoryQuotaTest, EightConcurrentProcessesReachButNeverExceedTheQuota) {
  std::vector<Child> children;
  for (int i = 0; i < 8; ++i) {
    children.push_back(Probe({"fill", "--chunk-mb", "64", "--wait-go"}, Env()));
  }
  for (Child& c : children) {
    ASSERT_EQ(write(c.in_fd, "\n", 1), 1);  // start all racing at once
  }
  uint64_t sum_mb = 0;
  for (Child& c : children) {
    auto f = Fields(ReadLine(c.out_fd));
    EXPECT_EQ(U64(f, "code"), 207001u);
    sum_mb += U64(f, "alloc_mb");
  }
  // The quota is a multiple of the chunk: exactly reached, never exceeded.
  EXPECT_EQ(sum_mb, kQuotaMb);
  LedgerView ledger(dir_);
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(ledger.Used(0), kQuotaMb * kMb);
  EXPECT_GE(ledger.get()->denied_allocs, 8u);
  for (Child& c : children) {
    Finish(c);
  }
  EXPECT_EQ(ledger.Used(0), 0u);  // frees and normal exits return everything
}

class EntryPointTest : public MemoryQuotaTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(EntryPointTest, AllocationsThroughEachEntryPointAreCharged) {
  Child c = Probe({"fill", "--chunk-mb", "256", "--api", GetParam()}, Env());
  ExpectQuotaReachedThenReturned(c);
}

// "dlsym": the application dlopens libruntime.so and resolves rtMalloc/rtFree from that handle.
INSTANTIATE_TEST_SUITE_P(Apis, EntryPointTest,
                         ::testing::Values("rt", "cached", "rts", "managed", "physical", "acl",
                                           "dlsym"));

TEST_F(MemoryQuotaTest, MemoryInfoReportsTheQuotaView) {
  Child c = Probe({"meminfo", "--mb", "1024"}, Env());
  auto f = Fields(ReadLine(c.out_fd));
  EXPECT_EQ(f["rc"], "0,0,0");
  for (const char* api : {"rt", "info", "acl"}) {
    EXPECT_EQ(U64(f, std::string(api) + "_total"), kQuotaMb * kMb) << api;
    EXPECT_EQ(U64(f, std::string(api) + "_free"), (kQuotaMb - 1024) * kMb) << api;
  }
  EXPECT_EQ(Wait(c.pid), 0);
}

TEST_F(MemoryQuotaTest, UnconfiguredProcessIsAPurePassThrough) {
  Child c = Probe({"fill", "--chunk-mb", "1024"}, Env(/*quota_mb=*/0));
  auto f = Fields(ReadLine(c.out_fd));
  EXPECT_EQ(U64(f, "alloc_mb"), kChipMb);  // the whole chip, refused by npu-sim itself
  EXPECT_EQ(U64(f, "code"), 207001u);
  Finish(c);
  Child m = Probe({"meminfo"}, Env(0));
  auto g = Fields(ReadLine(m.out_fd));
  EXPECT_EQ(U64(g, "rt_total"), kChipMb * kMb);
  EXPECT_EQ(Wait(m.pid), 0);
  struct stat st;
  EXPECT_NE(stat(dir_.c_str(), &st), 0) << "no state may be created without configuration";
}

TEST_F(MemoryQuotaTest, HamiEnvironmentIsAccepted) {
  Child c = Probe({"fill", "--chunk-mb", "256"},
                  {"LD_PRELOAD=" + LibPath("libvnpu.so"), "NPUSHARE_VNPU_STATE_DIR=" + dir_,
                   "NPU_MEM_QUOTA=2048", "NPU_PRIORITY=40"});
  auto f = Fields(ReadLine(c.out_fd));
  EXPECT_EQ(U64(f, "alloc_mb"), 2048u);
  EXPECT_EQ(U64(f, "code"), 207001u);
  Finish(c);
}

TEST_F(MemoryQuotaTest, ForkAndExecChildrenShareTheQuota) {
  Child c = Probe({"forkexec", "--parent-mb", "1024", "--chunk-mb", "64"}, Env());
  close(c.in_fd);
  // The fork child sees the parent's 1024 MiB charged; it dies with _exit (no destructor),
  // so the exec child finds its charges only after reclaiming the dead slot.
  auto child = Fields(ReadLine(c.out_fd));
  EXPECT_EQ(U64(child, "child_alloc_mb"), kQuotaMb - 1024);
  EXPECT_EQ(U64(child, "code"), 207001u);
  auto exec_child = Fields(ReadLine(c.out_fd));
  EXPECT_EQ(U64(exec_child, "alloc_mb"), kQuotaMb - 1024);
  EXPECT_EQ(ReadLine(c.out_fd).rfind("freed=", 0), 0u);
  EXPECT_EQ(ReadLine(c.out_fd), "parent_done=1");
  EXPECT_EQ(Wait(c.pid), 0);
  LedgerView ledger(dir_);
  ASSERT_TRUE(ledger.ok());
  EXPECT_GE(ledger.get()->reclaimed_procs, 1u);
}

TEST_F(MemoryQuotaTest, RtldNextLookupsKeepTheApplicationAsCaller) {
  Child c = Probe({"rtldnext"}, Env());
  EXPECT_EQ(ReadLine(c.out_fd), "rtld_next_vnpu=1");
  EXPECT_EQ(Wait(c.pid), 0);
  // A configured process that never touched the NPU created nothing.
  struct stat st;
  EXPECT_NE(stat(dir_.c_str(), &st), 0);
}

// dlvsym follows the dlsym rule. The stub runtime's symbols carry version kStubVersion; the
// stub's own rtMalloc fails with 999, so reaching the quota shows the application got our hook.
constexpr char kStubVersion[] = "VNPU_TEST_RT_1.0";

TEST_F(MemoryQuotaTest, DlvsymOfAVersionedRuntimeReturnsTheHookAndIsLimited) {
  Child c = Probe({"fill", "--chunk-mb", "256", "--api", "dlvsym", "--lib",
                   LibPath("libvnpu_versioned_rt_stub.so"), "--version", kStubVersion},
                  Env());
  ExpectQuotaReachedThenReturned(c);
}

// A lookup that finds nothing stays NULL: a hooked name the library lacks, an unknown name, a
// version the library does not define, and any version in npu-sim's unversioned libruntime.so
// (glibc's dlvsym finds nothing there; the hook must not invent a result).
TEST_F(MemoryQuotaTest, DlvsymLookupsThatFindNothingStayNull) {
  const std::vector<std::string> args = {"dlvsym", "--lib", LibPath("libvnpu_versioned_rt_stub.so"),
                                         "--version", kStubVersion};
  Child c = Probe(args, Env());
  EXPECT_EQ(ReadLine(c.out_fd), "malloc=global absent_hook=0 missing=0 wrong_version=0 runtime=0");
  EXPECT_EQ(Wait(c.pid), 0);
  // Without libvnpu the same lookup finds the stub's own rtMalloc: the versioned lookup is real.
  Child plain = Probe(args, {});
  EXPECT_EQ(ReadLine(plain.out_fd),
            "malloc=other absent_hook=0 missing=0 wrong_version=0 runtime=0");
  EXPECT_EQ(Wait(plain.pid), 0);
}

// dlvsym(RTLD_NEXT) searches after the application. The stub is preloaded ahead of libvnpu, so
// only a lookup made on the application's behalf finds its rtMalloc@kStubVersion (after libvnpu
// there is only the unversioned libruntime.so).
TEST_F(MemoryQuotaTest, DlvsymRtldNextLookupsKeepTheApplicationAsCaller) {
  std::vector<std::string> env = Env();
  env[0] = "LD_PRELOAD=" + LibPath("libvnpu_versioned_rt_stub.so") + ":" + LibPath("libvnpu.so");
  Child c = Probe({"rtldnextv", "--version", kStubVersion}, env);
  EXPECT_EQ(ReadLine(c.out_fd), "rtld_next_v=1");
  EXPECT_EQ(Wait(c.pid), 0);
}

TEST_F(MemoryQuotaTest, SigkillMidAllocationIsReclaimedWithinOneSecond) {
  for (int round = 0; round < 4; ++round) {
    Child churn = Probe({"churn", "--chunk-mb", "64"}, Env());
    auto f = Fields(ReadLine(churn.out_fd));
    ASSERT_EQ(U64(f, "alloc_mb"), kQuotaMb);
    ASSERT_EQ(ReadLine(churn.out_fd), "READY");
    ASSERT_EQ(kill(churn.pid, SIGKILL), 0);
    // Not reaped yet: detection must not depend on the parent collecting the zombie.
    Child grab = Probe({"grab", "--mb", std::to_string(kQuotaMb), "--deadline-ms", "1000"}, Env());
    EXPECT_EQ(ReadLine(grab.out_fd), "grab=ok") << "round " << round;
    EXPECT_EQ(Wait(grab.pid), 0);
    EXPECT_EQ(Wait(churn.pid), 128 + SIGKILL);
    close(churn.in_fd);
    close(churn.out_fd);
    close(grab.in_fd);
    close(grab.out_fd);
  }
  LedgerView ledger(dir_);
  ASSERT_TRUE(ledger.ok());
  EXPECT_GE(ledger.get()->reclaimed_procs, 4u);
  EXPECT_EQ(ledger.Used(0), 0u);
}

// Issue 5: the node-written quota file (fixed path, read-only mount, as the device plugin
// mounts it) wins over the environment, and a first opener that declared a larger quota in its
// environment does not raise it for a process that has the file. The probe runs in a private
// mount namespace whose /run is a read-only tmpfs holding /run/npushare/vnpu/quota.
TEST_F(MemoryQuotaTest, Issue5QuotaFileWinsOverTheEnvironmentAndTheLedger) {
  Child first = Probe({"fill", "--chunk-mb", "1024"}, Env(/*quota_mb=*/8192));
  auto f = Fields(ReadLine(first.out_fd));
  EXPECT_EQ(U64(f, "alloc_mb"), 8192u);  // env-declared (cooperative) and written in the ledger
  Finish(first);
  auto mount_quota = [] {
    std::string why = npushare::testing::EnterPrivateMountNamespace();
    return why.empty()
               ? npushare::testing::MountReadOnlyFile("/run", "npushare/vnpu", "quota", "2048\n")
               : why;
  };
  Child c = SpawnEnv({BinPath("vnpu_probe"), "fill", "--chunk-mb", "256"}, Env(8192), mount_quota);
  std::string line = FirstLineOrSkip(c);
  if (line.empty()) {
    GTEST_SKIP() << "needs a private mount namespace (see the line above)";
  }
  auto g = Fields(line);
  EXPECT_EQ(U64(g, "alloc_mb"), 2048u);
  EXPECT_EQ(U64(g, "code"), 207001u);
  Finish(c);
}

// The same file on a writable mount is ignored (the container could have written it).
TEST_F(MemoryQuotaTest, Issue5QuotaFileOnAWritableMountIsIgnored) {
  auto writable_quota = [] {
    std::string why = npushare::testing::EnterPrivateMountNamespace();
    if (!why.empty()) {
      return why;
    }
    if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") != 0 ||
        mkdir("/run/npushare", 0755) != 0 || mkdir("/run/npushare/vnpu", 0755) != 0) {
      return std::string("cannot prepare /run");
    }
    int fd = open("/run/npushare/vnpu/quota", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write(fd, "65536\n", 6) == 6;
    if (fd >= 0) {
      close(fd);
    }
    return ok ? std::string() : std::string("cannot write the quota file");
  };
  Child c =
      SpawnEnv({BinPath("vnpu_probe"), "fill", "--chunk-mb", "1024"}, Env(2048), writable_quota);
  std::string line = FirstLineOrSkip(c);
  if (line.empty()) {
    GTEST_SKIP() << "needs a private mount namespace (see the line above)";
  }
  auto g = Fields(line);
  EXPECT_EQ(U64(g, "alloc_mb"), 2048u);  // the environment's quota, not the file's 65536
  Finish(c);
}

}  // namespace
}  // namespace npushare::vnpu
