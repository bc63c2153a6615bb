// Compute shares on npu-sim: npushare-arbiter plus npu-sim-workload processes (public ACL API
// only) running under libvnpu.so with core percentages. Throughput in kernels/s is the
// measure: every kernel takes the whole chip for 1 ms, so the chip runs about 1000 kernels/s in
// total and a tenant's share is its fraction of the kernels. Labelled "timing".
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "softslice/interceptor/fence_ring.h"
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

// kBusyChip: kernels/s two or more busy tenants (or one work-conserving tenant) must keep the
// chip above. Alone a tenant runs ~965/s; a regression these tests guard against (chip time
// granted to a tenant that cannot use it, a tenant left ungated, a share that idles) costs a
// third of the chip or more. Hand-offs cost more on a loaded 2-vCPU CI machine (870/s seen
// there), so the floor sits between the two; bench/softslice reports the real figure.
constexpr double kBusyChip = 800.0;

class ComputeShareTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseFreshSim(1); }
  void SetUp() override {
    root_ = sim::testing::MakeTempDir();
    grant_dir_ = root_ + "/arbiter";
    tenants_dir_ = root_ + "/tenants";
    ASSERT_EQ(mkdir(tenants_dir_.c_str(), 0700), 0);
  }
  void TearDown() override {
    if (arbiter_.pid > 0) {
      StopArbiter(SIGTERM);
    }
  }

  // StartArbiter: in trust mode, or with `shares_dir` (node-written shares, issue 5).
  void StartArbiter(const std::string& shares_dir = "") {
    std::vector<std::string> argv = {BinPath("npushare-arbiter"),
                                     "--grant-dir",
                                     grant_dir_,
                                     "--tenants-dir",
                                     tenants_dir_,
                                     "--metrics-file",
                                     root_ + "/metrics.txt"};
    if (!shares_dir.empty()) {
      argv.insert(argv.end(), {"--shares-dir", shares_dir});
    }
    arbiter_ = SpawnEnv(argv, {});
    ASSERT_GT(arbiter_.pid, 0);
    ASSERT_EQ(ReadLine(arbiter_.out_fd), "READY");
  }
  int StopArbiter(int sig) {
    kill(arbiter_.pid, sig);
    int rc = Wait(arbiter_.pid);
    close(arbiter_.in_fd);
    close(arbiter_.out_fd);
    arbiter_ = Child{};
    return rc;
  }

  std::vector<std::string> TenantEnv(const std::string& name, const std::string& pct) const {
    return {"LD_PRELOAD=" + LibPath("libvnpu.so"), "NPUSHARE_VNPU_QUIET=1",
            "NPUSHARE_VNPU_STATE_DIR=" + tenants_dir_ + "/" + name,
            "NPUSHARE_VNPU_ARBITER_DIR=" + grant_dir_, "NPUSHARE_VNPU_CORE_PCT=" + pct};
  }

  Child Workload(const std::string& name, const std::string& pct, const std::string& seconds,
                 bool hard_cap = false, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> env = TenantEnv(name, pct);
    if (hard_cap) {
      env.push_back("NPUSHARE_VNPU_CORE_CAP=1");
    }
    std::vector<std::string> argv = {
        BinPath("npu-sim-workload"), "--kernel-us", "1000", "--seconds", seconds, "--batch", "4"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Child c = SpawnEnv(argv, env);
    EXPECT_GT(c.pid, 0);
    close(c.in_fd);
    return c;
  }

  // Result: kernels run by a finished workload (and its exit status).
  static uint64_t Kernels(Child& c, double* wall_s = nullptr, double* device_ms = nullptr) {
    auto f = Fields(ReadLine(c.out_fd));
    close(c.out_fd);
    EXPECT_EQ(Wait(c.pid), 0);
    if (wall_s != nullptr) {
      *wall_s = std::stod(f.count("wall_s") ? f["wall_s"] : "0");
    }
    if (device_ms != nullptr) {
      *device_ms = std::stod(f.count("device_ms") ? f["device_ms"] : "0");
    }
    return U64(f, "kernels");
  }

  // WriteGarbagePage: scribbles over (or creates) the tenant page of `name`, as a container
  // could do to its own state.
  void WriteGarbagePage(const std::string& name) const {
    int fd = open((tenants_dir_ + "/" + name + "/" VNPU_TENANT_FILE_NAME).c_str(),
                  O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    std::string garbage(sizeof(VnpuTenantPage), '\xA5');
    ASSERT_EQ(write(fd, garbage.data(), garbage.size()), static_cast<ssize_t>(garbage.size()));
    close(fd);
  }

  // TenantPage: a copy of a tenant's page as the arbiter or metrics would read it.
  VnpuTenantPage TenantPage(const std::string& name) const {
    VnpuTenantPage page = {};
    std::ifstream(tenants_dir_ + "/" + name + "/" VNPU_TENANT_FILE_NAME, std::ios::binary)
        .read(reinterpret_cast<char*>(&page), sizeof(page));
    return page;
  }

  // GrantedNs: granted_ns of a tenant from the arbiter's metrics file, 0 if absent, -1 (all
  // ones) if the file does not list the tenant at all.
  uint64_t GrantedNs(const std::string& tenant) const {
    std::ifstream in(root_ + "/metrics.txt");
    std::string line;
    while (std::getline(in, line)) {
      auto f = Fields(line);
      if (f["tenant"] == tenant && f["dev"] == "0") {
        return U64(f, "granted_ns");
      }
    }
    return ~uint64_t{0};
  }

  // AwaitGranted: waits (bounded) until the arbiter reports time granted to `tenant` above
  // `min_ns`. The metrics file is rewritten every second.
  bool AwaitGranted(const std::string& tenant, uint64_t min_ns) const {
    return AwaitMetrics(tenant, min_ns, false);
  }
  // AwaitAdopted: waits (bounded) until the arbiter lists `tenant` in its metrics.
  bool AwaitAdopted(const std::string& tenant) const { return AwaitMetrics(tenant, 0, true); }

  bool AwaitMetrics(const std::string& tenant, uint64_t min_ns, bool listed_is_enough) const {
    for (int i = 0; i < 400; ++i) {
      uint64_t g = GrantedNs(tenant);
      if (g != ~uint64_t{0} && (listed_is_enough || g > min_ns)) {
        return true;
      }
      usleep(10'000);  // polling a file that has no change notification
    }
    return false;
  }

  std::string root_;
  std::string grant_dir_;
  std::string tenants_dir_;
  Child arbiter_;
};

// Measured over 10 s, as issue 5 asks. The goal (2 pp over 10 s) is reported from
// bench/softslice/handoff_bench.cc; the test allows 3 pp for a loaded CI machine.
TEST_F(ComputeShareTest, FortySixtyBusyTenantsGetFortySixty) {
  StartArbiter();
  Child a = Workload("a", "40", "10");
  Child b = Workload("b", "60", "10");
  double ka = static_cast<double>(Kernels(a));
  double kb = static_cast<double>(Kernels(b));
  double share = ka / (ka + kb);
  EXPECT_NEAR(share, 0.40, 0.03) << "a=" << ka << " b=" << kb;
  // Time slicing costs little: together they keep the chip nearly as busy as one tenant.
  EXPECT_GT((ka + kb) / 10.0, kBusyChip);
}

TEST_F(ComputeShareTest, TwentyThirtyFiftyBusyTenants) {
  StartArbiter();
  Child a = Workload("a", "20", "10");
  Child b = Workload("b", "30", "10");
  Child c = Workload("c", "50", "10");
  double ka = static_cast<double>(Kernels(a));
  double kb = static_cast<double>(Kernels(b));
  double kc = static_cast<double>(Kernels(c));
  double total = ka + kb + kc;
  EXPECT_NEAR(ka / total, 0.20, 0.03) << ka << "/" << kb << "/" << kc;
  EXPECT_NEAR(kb / total, 0.30, 0.03) << ka << "/" << kb << "/" << kc;
  EXPECT_NEAR(kc / total, 0.50, 0.03) << ka << "/" << kb << "/" << kc;
}

TEST_F(ComputeShareTest, IdleTenantLeavesTheWholeChipToABusyOne) {
  StartArbiter();
  // b registers (its tenant page exists and is adopted) and then stays idle.
  Child idle = Workload("b", "60", "0.05");
  Kernels(idle);
  ASSERT_TRUE(AwaitAdopted("b"));
  Child a = Workload("a", "40", "2");
  double wall = 0;
  double ka = static_cast<double>(Kernels(a, &wall));
  EXPECT_GT(ka / wall, kBusyChip) << "a 40% tenant alone must be work-conserving";
}

TEST_F(ComputeShareTest, HardCappedTenantStaysAtItsPercentOnAnIdleChip) {
  StartArbiter();
  Child a = Workload("a", "40", "2", /*hard_cap=*/true);
  double wall = 0;
  double rate = static_cast<double>(Kernels(a, &wall)) / wall;
  VnpuTenantPage pa = TenantPage("a");
  std::printf(
      "[ figures  ] hard-capped 40 %% alone: %.0f kernels/s (overrun %.0f ms, device "
      "%.0f ms, granted %.0f ms over %.2f s)\n",
      rate, pa.devices[0].overrun_ns / 1e6, pa.devices[0].device_ns / 1e6, GrantedNs("a") / 1e6,
      wall);
  // One tenant alone runs ~965 kernels/s with this batching; 40 % of that is ~386.
  EXPECT_NEAR(rate, 386.0, 60.0);
  // Never more than its percent: the chip runs at most 1000 of these 1 ms kernels a second.
  // (Overrun that overlapped a later grant of its own used to be truncated there, so a tail
  // spanning a short re-grant went uncharged: 420-430 kernels/s.)
  EXPECT_LE(rate, 0.40 * 1000.0 * 1.04);
}

TEST_F(ComputeShareTest, TenantsRunUngatedWithoutAnArbiter) {
  Child a = Workload("a", "40", "1");
  Child b = Workload("b", "60", "1");
  double wall_a = 0;
  double wall_b = 0;
  uint64_t ka = Kernels(a, &wall_a);
  uint64_t kb = Kernels(b, &wall_b);
  EXPECT_LT(wall_a, 1.5);
  EXPECT_LT(wall_b, 1.5);
  EXPECT_GT(ka + kb, 800u);  // the chip is shared as npu-sim shares it, about half each
}

TEST_F(ComputeShareTest, ArbiterKilledAndRestartedUnderLoadNeverHangsTenants) {
  StartArbiter();
  Child a = Workload("a", "40", "3");
  Child b = Workload("b", "60", "3");
  ASSERT_TRUE(AwaitGranted("a", 0));
  ASSERT_TRUE(AwaitGranted("b", 0));
  EXPECT_EQ(StopArbiter(SIGKILL), 128 + SIGKILL);
  // Tenants notice the stale heartbeat and run on; a new arbiter takes over the same page.
  unlink((root_ + "/metrics.txt").c_str());
  StartArbiter();
  ASSERT_TRUE(AwaitGranted("a", 0)) << "restarted arbiter re-adopted a";
  ASSERT_TRUE(AwaitGranted("b", 0)) << "restarted arbiter re-adopted b";
  double wall_a = 0;
  double wall_b = 0;
  Kernels(a, &wall_a);
  Kernels(b, &wall_b);
  EXPECT_LT(wall_a, 3.5);
  EXPECT_LT(wall_b, 3.5);
}

TEST_F(ComputeShareTest, GarbageInOneTenantPageHurtsOnlyThatTenant) {
  StartArbiter();
  Child c = Workload("c", "50", "0.05");  // creates and registers c's page
  Kernels(c);
  ASSERT_TRUE(AwaitAdopted("c"));
  ASSERT_NO_FATAL_FAILURE(WriteGarbagePage("c"));
  Child a = Workload("a", "40", "2");
  Child b = Workload("b", "60", "2");
  double ka = static_cast<double>(Kernels(a));
  double kb = static_cast<double>(Kernels(b));
  EXPECT_NEAR(ka / (ka + kb), 0.40, 0.05);
  EXPECT_GT((ka + kb) / 2.0, kBusyChip) << "c's garbage demand must not take chip time";
  // The same, without a clock: c was granted no more than its own 50 ms run (a grant to its
  // garbage demand would be a third of the 2 s). All ones: the arbiter dropped c.
  uint64_t granted_c = GrantedNs("c");
  EXPECT_TRUE(granted_c == ~uint64_t{0} || granted_c < 250'000'000u) << granted_c;
  EXPECT_EQ(kill(arbiter_.pid, 0), 0) << "arbiter survived";
}

// Issue 5: a tenant the arbiter never adopts must not run ungated while others hold the chip:
// c1 scribbled garbage over its tenant page before its first launch (the library cannot use
// it), c2's state directory is outside the arbiter's --tenants-dir. Both crawl (one launch per
// adoption wait) but finish; a and b keep their 40/60 and nearly the whole chip.
TEST_F(ComputeShareTest, Issue5TenantsNeverAdoptedDoNotEscapeTheGate) {
  StartArbiter();
  ASSERT_EQ(mkdir((tenants_dir_ + "/c1").c_str(), 0700), 0);
  ASSERT_NO_FATAL_FAILURE(WriteGarbagePage("c1"));
  Child a = Workload("a", "40", "3");
  Child b = Workload("b", "60", "3");
  ASSERT_TRUE(AwaitAdopted("a"));
  ASSERT_TRUE(AwaitAdopted("b"));
  Child c1 = Workload("c1", "50", "2");
  Child c2 = Workload("../outside-c2", "50", "2");
  double kc1 = static_cast<double>(Kernels(c1));  // also: it exited, it did not hang
  double kc2 = static_cast<double>(Kernels(c2));
  double ka = static_cast<double>(Kernels(a));
  double kb = static_cast<double>(Kernels(b));
  EXPECT_LT(kc1, 60.0) << "garbage-page tenant ran " << kc1 << " kernels in 2 s";
  EXPECT_LT(kc2, 60.0) << "unadopted tenant ran " << kc2 << " kernels in 2 s";
  EXPECT_NEAR(ka / (ka + kb), 0.40, 0.05);
  EXPECT_GT((ka + kb) / 3.0, kBusyChip);
}

// Issue 5: a tenant that declares 100 % in its own page (its environment) while the node-side
// share file says 20 gets ~20 % against an 80 % neighbour.
TEST_F(ComputeShareTest, Issue5TenantCannotRaiseItsOwnShareWithASharesDir) {
  std::string shares = root_ + "/shares";
  ASSERT_EQ(mkdir(shares.c_str(), 0700), 0);
  std::ofstream(shares + "/a.share") << "0 20\n";
  std::ofstream(shares + "/b.share") << "0 80\n";
  StartArbiter(shares);
  Child a = Workload("a", "100", "3");
  Child b = Workload("b", "80", "3");
  double ka = static_cast<double>(Kernels(a));
  double kb = static_cast<double>(Kernels(b));
  EXPECT_NEAR(ka / (ka + kb), 0.20, 0.04) << "a=" << ka << " b=" << kb;
  EXPECT_GT((ka + kb) / 3.0, kBusyChip);
}

// Issue 5 (launch gate): a tenant that never synchronises queues its launches as deep as the
// runtime lets it. Event fences bound its queued work and charge what runs past its grants,
// so it gets its 40 % against a synchronising 60 % neighbour.
TEST_F(ComputeShareTest, Issue5NonSyncingTenantGetsItsShareAgainstASyncingOne) {
  StartArbiter();
  Child a = Workload("a", "40", "5", false, {"--no-sync"});
  Child b = Workload("b", "60", "5");
  double ka = static_cast<double>(Kernels(a));
  double kb = static_cast<double>(Kernels(b));
  double share = ka / (ka + kb);
  VnpuTenantPage pa = TenantPage("a");
  VnpuTenantPage pb = TenantPage("b");
  std::printf("[ figures  ] no-sync a=%.0f sync b=%.0f share a=%.3f overrun_ms a=%.1f b=%.1f\n", ka,
              kb, share, pa.devices[0].overrun_ns / 1e6, pb.devices[0].overrun_ns / 1e6);
  // 5 pp: its overrun is charged after the fact, and on a loaded CI machine the syncing
  // neighbour overruns too (0.45 seen there); a runaway non-syncing tenant takes 0.6 or more.
  EXPECT_NEAR(share, 0.40, 0.05) << "a=" << ka << " b=" << kb
                                 << " overrun_ms a=" << pa.devices[0].overrun_ns / 1e6
                                 << " b=" << pb.devices[0].overrun_ns / 1e6
                                 << " device_ms a=" << pa.devices[0].device_ns / 1e6
                                 << " b=" << pb.devices[0].device_ns / 1e6;
  EXPECT_GT((ka + kb) / 5.0, kBusyChip) << "the chip stays busy";
  EXPECT_GT(pa.devices[0].overrun_ns, 0u) << "queued work that ran past a's grants is reported";
}

// Issue 5: the non-syncing tenant's queued work is bounded. After its deadline it has at most
// about (kMaxQueuedLaunches + kLaunchCredit) 1 ms kernels queued, which may interleave with the
// neighbour's work, so its final synchronize returns within a few tens of milliseconds. Without
// the bound it queues thousands of kernels while it holds the chip (seconds of drain).
TEST_F(ComputeShareTest, Issue5NonSyncingTenantQueuesBoundedWork) {
  StartArbiter();
  Child a = Workload("a", "40", "2", false, {"--no-sync"});
  Child b = Workload("b", "60", "2");
  double wall_a = 0;
  uint64_t ka = Kernels(a, &wall_a);
  Kernels(b);
  double queued_s = 2.0 * (kMaxQueuedLaunches + kLaunchCredit) * 1e-3;  // 2: interleaving
  std::printf("[ figures  ] no-sync a: kernels=%llu drain after deadline %.3f s\n",
              static_cast<unsigned long long>(ka), wall_a - 2.0);
  EXPECT_LT(wall_a - 2.0, queued_s + 0.1) << "kernels=" << ka;
  EXPECT_LT(static_cast<double>(ka), 0.6 * 2.0 * 1000.0) << "a cannot run ahead of its share";
}

// Issue 5: the bound holds per process and device, across threads and streams: two threads
// launching on two streams without synchronising still drain quickly after their deadline.
TEST_F(ComputeShareTest, Issue5NonSyncingTenantWithTwoStreamsQueuesBoundedWork) {
  StartArbiter();
  Child a = Workload("a", "40", "2", false, {"--no-sync", "--streams", "2"});
  Child b = Workload("b", "60", "2");
  double wall_a = 0;
  double ka = static_cast<double>(Kernels(a, &wall_a));
  double kb = static_cast<double>(Kernels(b));
  // Per thread: up to kLaunchCredit unfenced launches on top of the fenced bound.
  double queued_s = 2.0 * (kMaxQueuedLaunches + 2 * kLaunchCredit) * 1e-3;
  VnpuTenantPage pa = TenantPage("a");
  std::printf(
      "[ figures  ] no-sync 2 streams: share a=%.3f drain %.3f s (a: overrun %.0f ms, "
      "granted %.0f ms)\n",
      ka / (ka + kb), wall_a - 2.0, pa.devices[0].overrun_ns / 1e6, GrantedNs("a") / 1e6);
  EXPECT_LT(wall_a - 2.0, queued_s + 0.1);
  EXPECT_NEAR(ka / (ka + kb), 0.40, 0.05)
      << "a=" << ka << " b=" << kb << " overrun_ms a=" << pa.devices[0].overrun_ns / 1e6
      << " device_ms a=" << pa.devices[0].device_ns / 1e6
      << " granted_ms a=" << GrantedNs("a") / 1e6 << " b=" << GrantedNs("b") / 1e6;
}

// Issue 5: the queue bound is per process, so a tenant of two non-syncing processes can queue
// twice as much; its overrun is charged all the same (each process reports the part of its own
// work past the tenant's grants), so the tenant still gets its share, and each process drains
// quickly after its deadline.
TEST_F(ComputeShareTest, Issue5TenantOfTwoNonSyncingProcessesGetsItsShare) {
  StartArbiter();
  Child a1 = Workload("a", "40", "2", false, {"--no-sync"});
  Child a2 = Workload("a", "40", "2", false, {"--no-sync"});
  Child b = Workload("b", "60", "2");
  double wall1 = 0;
  double wall2 = 0;
  double ka = static_cast<double>(Kernels(a1, &wall1) + Kernels(a2, &wall2));
  double kb = static_cast<double>(Kernels(b));
  VnpuTenantPage pa = TenantPage("a");
  double queued_s = 2.0 * (kMaxQueuedLaunches + kLaunchCredit) * 1e-3;  // per process
  std::printf(
      "[ figures  ] two no-sync processes: share a=%.3f drain %.3f / %.3f s (a: overrun "
      "%.0f ms)\n",
      ka / (ka + kb), wall1 - 2.0, wall2 - 2.0, pa.devices[0].overrun_ns / 1e6);
  EXPECT_LT(wall1 - 2.0, 2 * queued_s + 0.1);
  EXPECT_LT(wall2 - 2.0, 2 * queued_s + 0.1);
  EXPECT_NEAR(ka / (ka + kb), 0.40, 0.05) << "a=" << ka << " b=" << kb;
}

// Issue 5: the queue bound and the in-flight budget do not starve the device: a non-syncing
// tenant alone keeps the chip as busy as a synchronising one.
TEST_F(ComputeShareTest, Issue5NonSyncingTenantAloneKeepsTheChipBusy) {
  StartArbiter();
  Child a = Workload("a", "40", "2", false, {"--no-sync"});
  double wall = 0;
  double ka = static_cast<double>(Kernels(a, &wall));
  std::printf("[ figures  ] no-sync alone: %.0f kernels/s\n", ka / wall);
  EXPECT_GT(ka / wall, kBusyChip);
}

// Issue 5: device_ns in the tenant page is measured with event fences; for a tenant alone on
// the chip it matches the device time the workload measures itself (begin/end events).
TEST_F(ComputeShareTest, Issue5DeviceTimeInTheTenantPageMatchesTheWorkloads) {
  StartArbiter();
  Child warm = Workload("a", "40", "0.05");  // creates the page; the arbiter adopts it
  Kernels(warm);
  ASSERT_TRUE(AwaitAdopted("a"));
  uint64_t before = TenantPage("a").devices[0].device_ns;
  Child a = Workload("a", "40", "2");
  double device_ms = 0;
  Kernels(a, nullptr, &device_ms);
  double measured_ms = static_cast<double>(TenantPage("a").devices[0].device_ns - before) / 1e6;
  ASSERT_GT(device_ms, 1500.0);
  std::printf("[ figures  ] device_ns %.1f ms, workload device_ms %.1f\n", measured_ms, device_ms);
  // Unfenced: the launches after the last fence (< kLaunchCredit kernels).
  EXPECT_NEAR(measured_ms, device_ms, 0.03 * device_ms);
}

// Issue 5: a node-pinned chip in the grant page overrides the container's own device mapping.
// The page is written here (no arbiter): chip 0, the container's own mapping, belongs to
// another tenant; the pinned chip 5 is granted to ours. A gate that ignored the pin would
// wait for chip 0 until the heartbeat stops (3 s) and then run ungated.
TEST_F(ComputeShareTest, Issue5GateLaunchesAgainstTheNodePinnedChip) {
  Child warm = Workload("a", "40", "0.01");  // creates the tenant page (ungated: no arbiter)
  Kernels(warm);
  uint64_t tenant_id = TenantPage("a").tenant_id;
  ASSERT_NE(tenant_id, 0u);
  ASSERT_EQ(mkdir(grant_dir_.c_str(), 0755), 0);
  std::string path = grant_dir_ + "/" VNPU_GRANT_FILE_NAME;
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, sizeof(VnpuGrantPage)), 0);
  void* map = mmap(nullptr, sizeof(VnpuGrantPage), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  ASSERT_NE(map, MAP_FAILED);
  auto* g = static_cast<VnpuGrantPage*>(map);
  auto now_ns = [] {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
  };
  g->version = VNPU_GRANT_VERSION;
  g->header_size = offsetof(VnpuGrantPage, chips);
  g->file_size = sizeof(VnpuGrantPage);
  g->generation = 1;
  g->heartbeat_ns = now_ns();
  g->tenants[0].tenant_id = tenant_id;
  g->tenants[0].pinned_chip_plus1[0] = 5 + 1;
  g->tenants[2].tenant_id = tenant_id + 1;           // another tenant ...
  g->chips[0].grant_word = (uint64_t{1} << 16) | 3;  // ... owns chip 0
  g->chips[5].grant_word = (uint64_t{1} << 16) | 1;  // we own the pinned chip 5
  g->chips[5].granted_at_ns = g->chips[0].granted_at_ns = now_ns();
  g->chips[5].slice_end_ns = g->chips[0].slice_end_ns = now_ns() + 3'600'000'000'000ull;
  memcpy(g->magic, VNPU_GRANT_MAGIC, 8);
  std::atomic<bool> stop{false};
  std::thread heartbeat([&] {
    uint64_t until = now_ns() + 3'000'000'000ull;
    while (!stop.load() && now_ns() < until) {
      __atomic_store_n(&g->heartbeat_ns, now_ns(), __ATOMIC_RELEASE);
      usleep(5'000);  // the heartbeat has a period, like the arbiter's tick
    }
  });
  Child a = Workload("a", "40", "0.3");
  double wall = 0;
  uint64_t kernels = Kernels(a, &wall);
  stop.store(true);
  heartbeat.join();
  EXPECT_GT(kernels, 100u);
  EXPECT_LT(wall, 1.5) << "the gate waited for chip 0, not the pinned chip";
  EXPECT_EQ(TenantPage("a").devices[0].chip, 5);
  EXPECT_GT(TenantPage("a").devices[0].device_ns, 0u) << "gated launches are fenced";
  munmap(map, sizeof(VnpuGrantPage));
}

}  // namespace
}  // namespace npushare::vnpu
