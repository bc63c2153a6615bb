// Issue 15 on the real binaries (npushare-arbiter, npu-sim-workload and vnpu_probe under
// libvnpu.so): no way out of the gate (a zero, malformed or absent share is best effort, and
// the node-written files gate whatever the environment says) and faults survived (a grant
// page truncated, shrunk or replaced under running tenants; a tenant truncating or scribbling
// over its own tenant page or ledger). Every kernel of npu-sim-workload takes the whole chip
// for 1 ms, so a tenant's share is its fraction of the kernels. Labelled "timing".
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/read_only_mount.h"
#include "vnpu_test_util.h"

namespace npushare::vnpu {
namespace {

using testing::BinPath;
using testing::Child;
using testing::Fields;
using testing::LibPath;
using testing::ReadLine;
using testing::SpawnEnv;
using testing::U64;
using testing::Wait;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// WaitFor: the exit status of `pid` (as Wait), or -1 after killing it when it has not exited
// within `deadline_ms` (a hung process).
int WaitFor(pid_t pid, int deadline_ms) {
  for (int waited = 0; waited < deadline_ms; waited += 10) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    usleep(10'000);  // polling a child's exit: no other notification without a SIGCHLD handler
  }
  kill(pid, SIGKILL);
  Wait(pid);
  return -1;
}

// StderrTo: a pre-exec step sending the child's stderr to `path` (libvnpu's log lines).
std::string StderrTo(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || dup2(fd, 2) < 0) {
    return "cannot redirect stderr";
  }
  return "";
}

class GateHardeningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseFreshSim(1); }
  void SetUp() override {
    root_ = sim::testing::MakeTempDir();
    grant_dir_ = root_ + "/arbiter";
    tenants_dir_ = root_ + "/tenants";
    shares_dir_ = root_ + "/shares";
    ASSERT_EQ(mkdir(tenants_dir_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir(shares_dir_.c_str(), 0755), 0);
  }
  void TearDown() override {
    if (arbiter_.pid > 0) {
      kill(arbiter_.pid, SIGCONT);
      StopArbiter();
    }
  }

  // StartArbiter: trust mode, or with the shares directory; its stderr goes to arbiter.err.
  void StartArbiter(bool with_shares) {
    std::vector<std::string> argv = {BinPath("npushare-arbiter"), "--grant-dir", grant_dir_,
                                     "--tenants-dir", tenants_dir_};
    if (with_shares) {
      argv.insert(argv.end(), {"--shares-dir", shares_dir_});
    }
    std::string err = root_ + "/arbiter.err";
    arbiter_ = SpawnEnv(argv, {}, [err] { return StderrTo(err); });
    ASSERT_GT(arbiter_.pid, 0);
    ASSERT_EQ(ReadLine(arbiter_.out_fd), "READY");
  }
  int StopArbiter() {
    kill(arbiter_.pid, SIGTERM);
    int rc = Wait(arbiter_.pid);
    close(arbiter_.in_fd);
    close(arbiter_.out_fd);
    arbiter_ = Child{};
    return rc;
  }
  std::string ArbiterErr() const { return ReadFile(root_ + "/arbiter.err"); }

  void WriteShare(const std::string& tenant, const std::string& text) const {
    std::ofstream(shares_dir_ + "/" + tenant + ".share") << text;
    chmod((shares_dir_ + "/" + tenant + ".share").c_str(), 0644);
  }

  // Env: a tenant's environment; `core` is the whole NPUSHARE_VNPU_CORE_PCT entry (or any
  // other variables), so that a test can leave it out.
  std::vector<std::string> Env(const std::string& name,
                               const std::vector<std::string>& core) const {
    std::vector<std::string> env = {"LD_PRELOAD=" + LibPath("libvnpu.so"),
                                    "NPUSHARE_VNPU_STATE_DIR=" + tenants_dir_ + "/" + name,
                                    "NPUSHARE_VNPU_ARBITER_DIR=" + grant_dir_};
    env.insert(env.end(), core.begin(), core.end());
    return env;
  }

  // Workload: busy 1 ms kernels in batches of 4 for `seconds`; stderr to <root>/<name>.err
  // unless `pre_exec` replaces that step (it must redirect stderr itself if it wants it).
  Child Workload(const std::string& name, const std::vector<std::string>& core,
                 const std::string& seconds, std::function<std::string()> pre_exec = {}) {
    std::string err = root_ + "/" + name + ".err";
    if (!pre_exec) {
      pre_exec = [err] { return StderrTo(err); };
    }
    Child c = SpawnEnv(
        {BinPath("npu-sim-workload"), "--kernel-us", "1000", "--seconds", seconds, "--batch", "4"},
        Env(name, core), pre_exec);
    EXPECT_GT(c.pid, 0);
    close(c.in_fd);
    return c;
  }
  std::string TenantErr(const std::string& name) const {
    return ReadFile(root_ + "/" + name + ".err");
  }

  // Kernels: kernels run by a finished workload; *status its exit status (-1 hung, killed).
  static uint64_t Kernels(Child& c, int* status, int deadline_ms = 30'000) {
    std::string line = ReadLine(c.out_fd);
    close(c.out_fd);
    *status = WaitFor(c.pid, deadline_ms);
    if (line.rfind("SKIP ", 0) == 0) {
      std::printf("[ skipped  ] %s\n", line.c_str());
      return ~uint64_t{0};
    }
    return U64(Fields(line), "kernels");
  }

  // AwaitTenantPage: waits (bounded) until `name`'s tenant page exists with its full size.
  bool AwaitTenantPage(const std::string& name) const {
    for (int i = 0; i < 500; ++i) {
      struct stat st;
      if (stat((tenants_dir_ + "/" + name + "/" VNPU_TENANT_FILE_NAME).c_str(), &st) == 0 &&
          st.st_size == sizeof(VnpuTenantPage)) {
        return true;
      }
      usleep(10'000);  // polling a file another process creates
    }
    return false;
  }

  // AwaitLaunching: waits (bounded) until `name` has launched through the gate's slow path
  // (its page publishes the device's chip and a demand time), so it has mapped the grant page.
  bool AwaitLaunching(const std::string& name) const {
    if (!AwaitTenantPage(name)) {
      return false;
    }
    for (int i = 0; i < 500; ++i) {
      VnpuTenantPage page = {};
      std::ifstream(tenants_dir_ + "/" + name + "/" VNPU_TENANT_FILE_NAME, std::ios::binary)
          .read(reinterpret_cast<char*>(&page), sizeof(page));
      if (page.devices[0].chip >= 0 && page.devices[0].last_demand_ns != 0) {
        return true;
      }
      usleep(10'000);  // polling a page another process writes
    }
    return false;
  }

  // ValidGrantPageOnDisk: the grant file at the path has a valid header (read, not mapped).
  bool ValidGrantPageOnDisk() const {
    std::string page = ReadFile(grant_dir_ + "/" VNPU_GRANT_FILE_NAME);
    return page.size() == sizeof(VnpuGrantPage) && page.compare(0, 8, VNPU_GRANT_MAGIC) == 0;
  }
  bool AwaitValidGrantPage() const {
    for (int i = 0; i < 500; ++i) {
      if (ValidGrantPageOnDisk()) {
        return true;
      }
      usleep(10'000);  // polling a file the arbiter rebuilds
    }
    return false;
  }

  std::string root_;
  std::string grant_dir_;
  std::string tenants_dir_;
  std::string shares_dir_;
  Child arbiter_;
};

// --- No way out of the gate -------------------------------------------------------------------

// NPUSHARE_VNPU_CORE_PCT=0 is best effort, weight 1: against an 80 % tenant it gets about
// 1/81 of the chip. Before issue 15 it ran ungated and took about half.
TEST_F(GateHardeningTest, ZeroShareIsBestEffortNotUngated) {
  StartArbiter(false);
  Child a = Workload("a", {"NPUSHARE_VNPU_CORE_PCT=80"}, "3");
  Child b = Workload("b", {"NPUSHARE_VNPU_CORE_PCT=0"}, "3");
  int sa = 0;
  int sb = 0;
  double ka = static_cast<double>(Kernels(a, &sa));
  double kb = static_cast<double>(Kernels(b, &sb));
  EXPECT_EQ(sa, 0);
  EXPECT_EQ(sb, 0);
  // 1/81 = 1.2 %; 10 % leaves room for the loaded machine, and is far from ungated (~50 %).
  EXPECT_LT(kb / (ka + kb), 0.10) << "a=" << ka << " b=" << kb;
}

// Malformed shares are best effort with a log line, never ungated.
TEST_F(GateHardeningTest, MalformedSharesAreBestEffortWithALogLine) {
  StartArbiter(false);
  int i = 0;
  for (const std::string value : {"abc", "-5", "1000", ""}) {
    SCOPED_TRACE("NPUSHARE_VNPU_CORE_PCT=" + value);
    std::string name = "m" + std::to_string(i++);
    Child a = Workload("a" + name, {"NPUSHARE_VNPU_CORE_PCT=80"}, "1.5");
    Child b = Workload(name, {"NPUSHARE_VNPU_CORE_PCT=" + value}, "1.5");
    int sa = 0;
    int sb = 0;
    double ka = static_cast<double>(Kernels(a, &sa));
    double kb = static_cast<double>(Kernels(b, &sb));
    EXPECT_EQ(sa, 0);
    EXPECT_EQ(sb, 0);
    EXPECT_LT(kb / (ka + kb), 0.15) << "a=" << ka << " b=" << kb;
    EXPECT_TRUE(Contains(TenantErr(name), "NPUSHARE_VNPU_CORE_PCT")) << TenantErr(name);
  }
}

// The production path: the node wrote the tenant's quota file (mounted read-only at
// /run/npushare/vnpu) and share file (20 %). Unsetting or zeroing the environment's share
// does not ungate the container: it gets its 20 % against an 80 % neighbour.
TEST_F(GateHardeningTest, NodeWrittenFilesGateWhateverTheEnvironmentSays) {
  StartArbiter(true);
  const std::vector<std::vector<std::string>> environments = {
      {}, {"NPUSHARE_VNPU_CORE_PCT=0"}, {"NPU_PRIORITY=0"}};
  int i = 0;
  for (const auto& core : environments) {
    SCOPED_TRACE(core.empty() ? "no share variable" : core[0]);
    std::string name = "n" + std::to_string(i++);
    WriteShare(name, "0 20\n");
    WriteShare("a" + name, "0 80\n");
    std::string err = root_ + "/" + name + ".err";
    auto node_mounts = [err] {
      std::string why = npushare::testing::EnterPrivateMountNamespace();
      if (why.empty()) {
        why = npushare::testing::MountReadOnlyFile("/run", "npushare/vnpu", "quota", "0\n");
      }
      return why.empty() ? StderrTo(err) : why;
    };
    Child a = Workload("a" + name, {"NPUSHARE_VNPU_CORE_PCT=80"}, "2");
    Child b = Workload(name, core, "2", node_mounts);
    int sa = 0;
    int sb = 0;
    double ka = static_cast<double>(Kernels(a, &sa));
    uint64_t kb_raw = Kernels(b, &sb);
    if (kb_raw == ~uint64_t{0}) {
      GTEST_SKIP() << "needs a private mount namespace";
    }
    double kb = static_cast<double>(kb_raw);
    EXPECT_EQ(sa, 0);
    EXPECT_EQ(sb, 0);
    // 20 % asked; ungated it would take ~50 %.
    EXPECT_NEAR(kb / (ka + kb), 0.20, 0.08) << "a=" << ka << " b=" << kb;
  }
}

// --- Faults survived: the grant page ------------------------------------------------------------

enum class PageFault { kTruncateToZero, kShrinkToOnePage, kOverwriteInPlace, kReplaceByRename };

void Damage(const std::string& path, PageFault fault) {
  switch (fault) {
    case PageFault::kTruncateToZero:
      ASSERT_EQ(truncate(path.c_str(), 0), 0);
      break;
    case PageFault::kShrinkToOnePage:
      ASSERT_EQ(truncate(path.c_str(), 4096), 0);
      break;
    case PageFault::kOverwriteInPlace: {  // what `cp garbage grants.v2` does: O_TRUNC, write
      std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(100, '\xA5');
      break;
    }
    case PageFault::kReplaceByRename: {
      std::string tmp = path + ".other";
      std::ofstream(tmp, std::ios::binary) << std::string(sizeof(VnpuGrantPage), '\xA5');
      ASSERT_EQ(rename(tmp.c_str(), path.c_str()), 0);
      break;
    }
  }
}

class GrantPageFaultTest : public GateHardeningTest,
                           public ::testing::WithParamInterface<PageFault> {};

// Two tenants run 40/60 while the grant page is damaged under them: neither dies (of SIGBUS
// or anything else), the arbiter logs, rebuilds the page and keeps scheduling, and the shares
// still hold roughly over the run.
TEST_P(GrantPageFaultTest, TenantsSurviveAndTheArbiterRebuildsThePage) {
  StartArbiter(false);
  Child a = Workload("a", {"NPUSHARE_VNPU_CORE_PCT=40"}, "3");
  Child b = Workload("b", {"NPUSHARE_VNPU_CORE_PCT=60"}, "3");
  // Into the run: both tenants hold the page mapped and launch through it.
  ASSERT_TRUE(AwaitLaunching("a"));
  ASSERT_TRUE(AwaitLaunching("b"));
  Damage(grant_dir_ + "/" VNPU_GRANT_FILE_NAME, GetParam());
  int sa = 0;
  int sb = 0;
  double ka = static_cast<double>(Kernels(a, &sa));
  double kb = static_cast<double>(Kernels(b, &sb));
  EXPECT_EQ(sa, 0) << "7+128 = SIGBUS";
  EXPECT_EQ(sb, 0);
  EXPECT_GT(ka, 0);
  EXPECT_GT(kb, 0);
  std::printf("[ figures  ] after damage: a=%.0f b=%.0f share a=%.3f\n", ka, kb, ka / (ka + kb));
  // Gated through the whole run (ungated the pair would split ~50/50): 40 % asked; 7 pp, as the
  // run includes the damage and the rebuild (one rescan, 20 ms).
  EXPECT_NEAR(ka / (ka + kb), 0.40, 0.07) << "a=" << ka << " b=" << kb;
  EXPECT_EQ(waitpid(arbiter_.pid, nullptr, WNOHANG), 0) << "the arbiter died: " << ArbiterErr();
  EXPECT_TRUE(ValidGrantPageOnDisk());
  EXPECT_TRUE(Contains(ArbiterErr(), "rebuilt")) << ArbiterErr();
  // Still scheduling after the rebuild: a new tenant is gated against an old one's share.
  Child c = Workload("c", {"NPUSHARE_VNPU_CORE_PCT=20"}, "1.5");
  Child d = Workload("d", {"NPUSHARE_VNPU_CORE_PCT=80"}, "1.5");
  int sc = 0;
  int sd = 0;
  double kc = static_cast<double>(Kernels(c, &sc));
  double kd = static_cast<double>(Kernels(d, &sd));
  EXPECT_NEAR(kc / (kc + kd), 0.20, 0.08) << "c=" << kc << " d=" << kd;
}

std::string FaultName(const ::testing::TestParamInfo<PageFault>& p) {
  static const char* const kNames[] = {"TruncateToZero", "ShrinkToOnePage", "OverwriteInPlace",
                                       "ReplaceByRename"};
  return kNames[static_cast<int>(p.param)];
}

INSTANTIATE_TEST_SUITE_P(Faults, GrantPageFaultTest,
                         ::testing::Values(PageFault::kTruncateToZero, PageFault::kShrinkToOnePage,
                                           PageFault::kOverwriteInPlace,
                                           PageFault::kReplaceByRename),
                         FaultName);

// With the arbiter stopped (so nothing rebuilds it), a truncated grant page throttles the
// tenant that maps it (one launch per 100 ms) instead of killing it or letting it run free;
// once the arbiter resumes and rebuilds the page, the tenant runs at full speed again.
TEST_F(GateHardeningTest, TruncatedGrantPageThrottlesUntilItIsRebuilt) {
  StartArbiter(false);
  Child a = Workload("a", {"NPUSHARE_VNPU_CORE_PCT=50"}, "3");
  ASSERT_TRUE(AwaitLaunching("a"));
  kill(arbiter_.pid, SIGSTOP);
  ASSERT_EQ(truncate((grant_dir_ + "/" VNPU_GRANT_FILE_NAME).c_str(), 0), 0);
  // The scenario, not a synchronisation: the page stays gone for 1.5 s, during which the
  // tenant is throttled (at most ~15 launches instead of ~1500 kernels).
  usleep(1'500'000);
  kill(arbiter_.pid, SIGCONT);
  int sa = 0;
  double ka = static_cast<double>(Kernels(a, &sa));
  EXPECT_EQ(sa, 0);
  // Alone and gated it runs ~1000 kernels/s; throttled for 1.5 of its 3 s it runs about half
  // that. Ungated (a stale page read as "no arbiter") it would run ~3000.
  EXPECT_LT(ka, 2200) << "not throttled while the page was gone";
  EXPECT_GT(ka, 500) << "did not resume after the rebuild";
  EXPECT_TRUE(Contains(TenantErr("a"), "truncated or corrupt")) << TenantErr("a");
  EXPECT_TRUE(AwaitValidGrantPage());
}

// --- Faults survived: the tenant's own files ---------------------------------------------------

// A tenant that truncates or scribbles over its own tenant page is throttled (the arbiter can no
// longer adopt it), never hung and never killed by SIGBUS; its neighbour keeps the chip.
TEST_F(GateHardeningTest, TenantDamagingItsOwnPageIsThrottledNeverHung) {
  StartArbiter(false);
  for (bool truncate_it : {true, false}) {
    SCOPED_TRACE(truncate_it ? "truncated" : "scribbled");
    std::string name = truncate_it ? "t" : "s";
    Child a = Workload("a" + name, {"NPUSHARE_VNPU_CORE_PCT=50"}, "3");
    Child b = Workload(name, {"NPUSHARE_VNPU_CORE_PCT=50"}, "3");
    ASSERT_TRUE(AwaitLaunching(name));
    std::string page = tenants_dir_ + "/" + name + "/" VNPU_TENANT_FILE_NAME;
    if (truncate_it) {
      ASSERT_EQ(truncate(page.c_str(), 0), 0);
    } else {
      int fd = open(page.c_str(), O_WRONLY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      std::string garbage(sizeof(VnpuTenantPage), '\xA5');
      ASSERT_EQ(pwrite(fd, garbage.data(), garbage.size(), 0),
                static_cast<ssize_t>(garbage.size()));
      close(fd);
    }
    int sa = 0;
    int sb = 0;
    double ka = static_cast<double>(Kernels(a, &sa));
    double kb = static_cast<double>(Kernels(b, &sb, 15'000));
    EXPECT_EQ(sa, 0);
    EXPECT_EQ(sb, 0) << "-1 = hung, 135 = SIGBUS";
    // Half the chip until the damage (early in the run), then throttled: well under its 50 %.
    EXPECT_LT(kb / (ka + kb), 0.35) << "a=" << ka << " b=" << kb;
  }
}

// A process whose container ledger is truncated under it (or scribbled over) gets 207001 for
// its next allocation on a limited device instead of SIGBUS or an unlimited quota.
TEST_F(GateHardeningTest, TenantDamagingItsOwnLedgerGetsNoMoreMemoryAndNoSigbus) {
  for (bool truncate_it : {true, false}) {
    SCOPED_TRACE(truncate_it ? "truncated" : "scribbled");
    std::string name = truncate_it ? "lt" : "ls";
    std::string err = root_ + "/" + name + ".err";
    Child c = SpawnEnv({BinPath("vnpu_probe"), "churn", "--chunk-mb", "256"},
                       Env(name, {"NPUSHARE_VNPU_MEM_MB=1024"}), [err] { return StderrTo(err); });
    ASSERT_GT(c.pid, 0);
    EXPECT_EQ(U64(Fields(ReadLine(c.out_fd)), "alloc_mb"), 1024u);
    ASSERT_EQ(ReadLine(c.out_fd), "READY");
    std::string ledger = tenants_dir_ + "/" + name + "/" VNPU_LEDGER_FILE_NAME;
    if (truncate_it) {
      ASSERT_EQ(truncate(ledger.c_str(), 0), 0);
    } else {
      int fd = open(ledger.c_str(), O_WRONLY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      std::string garbage(512, '\xA5');  // the header: magic, quotas and the mutex
      ASSERT_EQ(pwrite(fd, garbage.data(), garbage.size(), 0),
                static_cast<ssize_t>(garbage.size()));
      close(fd);
    }
    // churn frees and re-allocates one chunk forever; it exits 4 at the first refusal.
    EXPECT_EQ(WaitFor(c.pid, 10'000), 4) << "-1 = still allocating (or hung), 135 = SIGBUS";
    close(c.in_fd);
    close(c.out_fd);
    EXPECT_TRUE(Contains(ReadFile(err), "truncated or corrupt")) << ReadFile(err);
  }
}

}  // namespace
}  // namespace npushare::vnpu
