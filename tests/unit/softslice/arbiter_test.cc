// Arbiter ticks over real tenant and grant page files, with chosen timestamps.
#include "softslice/arbiter/arbiter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "softslice/interceptor/compute_pages.h"
#include "softslice/interceptor/log.h"
#include "support/temp_dir.h"

namespace npushare::softslice {
namespace {

constexpr uint64_t kMs = 1'000'000;

class ArbiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vnpu::SetLogQuiet(true);
    root_ = temp_.path();
    ASSERT_FALSE(root_.empty()) << "cannot make a temporary directory";
    options_.grant_dir = root_ + "/grants";
    options_.tenants_dir = root_ + "/tenants";
    ASSERT_EQ(mkdir(options_.tenants_dir.c_str(), 0700), 0);
  }

  // Tenant: creates a tenant page as libvnpu would, with `pct` on device 0 mapped to chip 0.
  VnpuTenantPage* Tenant(const std::string& name, uint32_t pct) {
    vnpu::Config cfg = {};
    for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
      cfg.core_percent[d] = pct;
      cfg.chip_of_device[d] = static_cast<int32_t>(d);
    }
    VnpuTenantPage* page = nullptr;
    EXPECT_EQ(vnpu::OpenTenantPage((options_.tenants_dir + "/" + name).c_str(), cfg, &page),
              vnpu::PageError::kOk);
    page->devices[0].chip = 0;
    return page;
  }

  // Start: the arbiter over options_ after its first tick, at 100 ms, which adopts the tenants
  // created so far; nullptr (and a test failure) when it cannot be created.
  std::unique_ptr<Arbiter> Start() {
    auto arb = Arbiter::Create(options_);
    EXPECT_TRUE(arb.ok()) << arb.status().ToString();
    if (!arb.ok()) {
      return nullptr;
    }
    (*arb)->Tick(100 * kMs);
    return std::move(*arb);
  }

  std::string File(const std::string& name) const {
    return options_.tenants_dir + "/" + name + "/" VNPU_TENANT_FILE_NAME;
  }

  static int32_t Owner(const VnpuGrantPage& g, uint32_t chip) {
    return static_cast<int32_t>(g.chips[chip].grant_word & 0xffff) - 1;
  }
  static int32_t IndexOf(const VnpuGrantPage& g, const VnpuTenantPage* t) {
    for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
      if (g.tenants[i].tenant_id == t->tenant_id) {
        return static_cast<int32_t>(i);
      }
    }
    return -1;
  }

  npushare::testing::ScopedTempDir temp_{"vnpu-arbiter"};
  std::string root_;
  ArbiterOptions options_;
};

TEST_F(ArbiterTest, AdoptsTenantsAndGrantsTheOneWithDemand) {
  VnpuTenantPage* a = Tenant("a", 40);
  VnpuTenantPage* b = Tenant("b", 60);
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  const VnpuGrantPage& g = arb->grants().page();
  int32_t ia = IndexOf(g, a);
  int32_t ib = IndexOf(g, b);
  ASSERT_GE(ia, 0);
  ASSERT_GE(ib, 0);
  EXPECT_NE(ia, ib);
  EXPECT_EQ(Owner(g, 0), -1);  // nobody asked
  uint32_t seq = g.chips[0].seq;
  b->devices[0].waiters = 1;
  arb->Tick(101 * kMs);
  EXPECT_EQ(Owner(g, 0), ib);
  EXPECT_GT(g.chips[0].seq, seq);
  EXPECT_EQ(g.chips[0].granted_at_ns, 101 * kMs);
  EXPECT_EQ(g.heartbeat_ns, 101 * kMs);
  // a starts waiting too; after b's slice the chip alternates by weight.
  a->devices[0].waiters = 1;
  for (uint64_t t = 102; t < 1102; ++t) {
    arb->Tick(t * kMs);
  }
  double ga = static_cast<double>(g.tenants[ia].granted_ns[0]);
  double gb = static_cast<double>(g.tenants[ib].granted_ns[0]);
  EXPECT_NEAR(ga / (ga + gb), 0.40, 0.02);
  std::string metrics = arb->MetricsText();
  EXPECT_NE(metrics.find("tenant=a "), std::string::npos);
  EXPECT_NE(metrics.find("weight=60"), std::string::npos);
}

// A busy tenant alone is chosen again at each slice end without a new epoch; its grant's
// slice_end_ns must move on (the gate bounds queued work by it).
TEST_F(ArbiterTest, AnOwnerKeptPastItsSliceSeesTheNewSliceEnd) {
  VnpuTenantPage* a = Tenant("a", 40);
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  const VnpuGrantPage& g = arb->grants().page();
  a->devices[0].waiters = 1;
  arb->Tick(101 * kMs);
  ASSERT_EQ(Owner(g, 0), IndexOf(g, a));
  uint64_t word = g.chips[0].grant_word;
  uint32_t seq = g.chips[0].seq;
  uint64_t first_end = g.chips[0].slice_end_ns;
  EXPECT_EQ(first_end, 111 * kMs);
  for (uint64_t t = 102; t <= 135; ++t) {
    arb->Tick(t * kMs);
  }
  EXPECT_EQ(g.chips[0].grant_word, word) << "the same grant: no new epoch";
  EXPECT_EQ(g.chips[0].seq, seq) << "nobody woken";
  EXPECT_GT(g.chips[0].slice_end_ns, 135 * kMs) << "was " << first_end;
}

TEST_F(ArbiterTest, GarbageOrTruncatedTenantPagesAreIgnored) {
  VnpuTenantPage* a = Tenant("a", 50);
  VnpuTenantPage* b = Tenant("b", 50);
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  const VnpuGrantPage& g = arb->grants().page();
  int32_t ia = IndexOf(g, a);
  b->devices[0].waiters = 1;
  memset(b, 0xA5, sizeof(*b));  // b scribbles over its own page (demand included)
  a->devices[0].waiters = 1;
  for (uint64_t t = 101; t < 200; ++t) {
    arb->Tick(t * kMs);
    ASSERT_EQ(Owner(g, 0), ia) << "b's garbage never wins the chip";
  }
  ASSERT_EQ(truncate(File("b").c_str(), 10), 0);  // and then truncates it
  arb->Tick(300 * kMs);
  EXPECT_EQ(Owner(g, 0), ia);
}

TEST_F(ArbiterTest, RemovedTenantIsForgottenAndOverrunIsClamped) {
  VnpuTenantPage* a = Tenant("a", 50);
  Tenant("b", 50);
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  const VnpuGrantPage& g = arb->grants().page();
  int32_t ia = IndexOf(g, a);
  a->devices[0].overrun_ns = 1'000'000'000'000ull;  // a lies about a huge overrun
  arb->Tick(101 * kMs);
  EXPECT_LE(g.tenants[ia].charged_ns[0] - g.tenants[ia].granted_ns[0],
            ArbiterOptions().max_overrun_per_tick_ns);
  uint64_t gen = g.generation;
  ASSERT_EQ(unlink(File("a").c_str()), 0);
  arb->Tick(200 * kMs);
  EXPECT_EQ(g.tenants[ia].tenant_id, 0u);
  EXPECT_GT(g.generation, gen);
}

TEST_F(ArbiterTest, RestartedArbiterReusesThePageTenantsHaveMapped) {
  VnpuTenantPage* a = Tenant("a", 50);
  {
    auto arb = Arbiter::Create(options_);
    ASSERT_TRUE(arb.ok());
    (*arb)->Tick(100 * kMs);
  }
  const VnpuGrantPage* tenant_view = nullptr;
  ASSERT_EQ(vnpu::OpenGrantPage(options_.grant_dir.c_str(), &tenant_view), vnpu::PageError::kOk);
  uint64_t gen = tenant_view->generation;
  auto arb = Arbiter::Create(options_);  // "restart"
  ASSERT_TRUE(arb.ok());
  a->devices[0].waiters = 1;
  (*arb)->Tick(500 * kMs);
  EXPECT_EQ(tenant_view->heartbeat_ns, 500 * kMs);
  EXPECT_GT(tenant_view->generation, gen);
  EXPECT_EQ(Owner(*tenant_view, 0), IndexOf(*tenant_view, a));
  struct stat st;
  ASSERT_EQ(stat((options_.grant_dir + "/" VNPU_GRANT_FILE_NAME).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(ArbiterTest, RefusesAWorldWritableGrantDirectory) {
  ASSERT_EQ(mkdir(options_.grant_dir.c_str(), 0755), 0);
  ASSERT_EQ(chmod(options_.grant_dir.c_str(), 0777), 0);
  auto arb = Arbiter::Create(options_);
  ASSERT_FALSE(arb.ok());
  EXPECT_EQ(arb.status().code(), StatusCode::kFailedPrecondition);
}

// Issue 15: the tenants directory is refused like the grant directory.
TEST_F(ArbiterTest, RefusesAGroupOrWorldWritableTenantsDirectory) {
  for (mode_t mode : {0777, 0775, 0702}) {
    ASSERT_EQ(chmod(options_.tenants_dir.c_str(), mode), 0);
    auto arb = Arbiter::Create(options_);
    ASSERT_FALSE(arb.ok()) << std::oct << mode;
    EXPECT_EQ(arb.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(arb.status().message().find("--tenants-dir"), std::string::npos);
  }
}

// Issue 15: a grant page truncated, deleted, replaced or scribbled over under the arbiter is
// rebuilt (not a silent exit by SIGBUS), and scheduling goes on in the new page.
TEST_F(ArbiterTest, DamagedGrantPageIsRebuiltAndTheOwnerGrantedAgain) {
  VnpuTenantPage* a = Tenant("a", 50);
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  std::string path = options_.grant_dir + "/" VNPU_GRANT_FILE_NAME;
  a->devices[0].waiters = 1;
  uint64_t t = 101;
  arb->Tick(t * kMs);
  int32_t ia = IndexOf(arb->grants().page(), a);
  ASSERT_GE(ia, 0);
  ASSERT_EQ(Owner(arb->grants().page(), 0), ia);
  const char* kinds[] = {"truncate", "delete", "replace", "scribble"};
  for (uint64_t k = 0; k < 4; ++k) {
    SCOPED_TRACE(kinds[k]);
    if (k == 0) {
      ASSERT_EQ(truncate(path.c_str(), 0), 0);
    } else if (k == 1) {
      ASSERT_EQ(unlink(path.c_str()), 0);
    } else if (k == 2) {
      std::ofstream(path + ".x") << "not a page";
      ASSERT_EQ(rename((path + ".x").c_str(), path.c_str()), 0);
    } else {
      int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(pwrite(fd, "garbage!", 8, 0), 8);
      close(fd);
    }
    // Noticed within one rescan period (20 ms) at the latest.
    for (uint64_t end = t + 25; t < end; ++t) {
      arb->Tick(t * kMs);
    }
    EXPECT_EQ(arb->rebuilds(), k + 1);
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), sizeof(VnpuGrantPage));
    const VnpuGrantPage& g = arb->grants().page();
    EXPECT_TRUE(vnpu::ValidGrantHeader(&g));
    EXPECT_EQ(g.heartbeat_ns, (t - 1) * kMs);
    EXPECT_EQ(IndexOf(g, a), ia) << "re-published under the same index";
    EXPECT_EQ(Owner(g, 0), ia) << "the tenant with demand holds the chip again";
  }
}

// Issue 5: with a shares directory a tenant cannot raise its own share through its page.
TEST_F(ArbiterTest, Issue5SharesComeFromTheSharesDirNotTheTenantPage) {
  options_.shares_dir = root_ + "/shares";
  ASSERT_EQ(mkdir(options_.shares_dir.c_str(), 0700), 0);
  std::ofstream(options_.shares_dir + "/a.share") << "0 20\n";
  std::ofstream(options_.shares_dir + "/b.share") << "# node side\n0 80\n";
  VnpuTenantPage* a = Tenant("a", 100);  // a claims 100 % in the page it writes
  VnpuTenantPage* b = Tenant("b", 80);
  VnpuTenantPage* c = Tenant("c", 100);  // no share file: best effort
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  const VnpuGrantPage& g = arb->grants().page();
  int32_t ia = IndexOf(g, a);
  int32_t ib = IndexOf(g, b);
  int32_t ic = IndexOf(g, c);
  a->devices[0].waiters = 1;
  b->devices[0].waiters = 1;
  for (uint64_t t = 101; t < 1101; ++t) {
    arb->Tick(t * kMs);
  }
  double ga = static_cast<double>(g.tenants[ia].granted_ns[0]);
  double gb = static_cast<double>(g.tenants[ib].granted_ns[0]);
  EXPECT_NEAR(ga / (ga + gb), 0.20, 0.02);
  std::string metrics = arb->MetricsText();
  EXPECT_NE(metrics.find("tenant=a index=" + std::to_string(ia) + " dev=0 chip=0 weight=20 "),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("tenant=c index=" + std::to_string(ic) + " dev=0 chip=0 weight=1 "),
            std::string::npos)
      << metrics;
  // A share file rewritten by the node side is picked up at the next rescan; garbage in it
  // drops the tenant to best effort rather than keeping the old share.
  std::ofstream(options_.shares_dir + "/a.share") << "0 50 cap\n";
  arb->Tick(1200 * kMs);
  EXPECT_NE(
      arb->MetricsText().find("tenant=a index=" + std::to_string(ia) + " dev=0 chip=0 weight=50 "),
      std::string::npos);
  std::ofstream(options_.shares_dir + "/a.share") << "0 500\n";
  arb->Tick(1300 * kMs);
  EXPECT_NE(
      arb->MetricsText().find("tenant=a index=" + std::to_string(ia) + " dev=0 chip=0 weight=1 "),
      std::string::npos);
}

TEST_F(ArbiterTest, Issue5HardCapComesFromTheShareFileOnly) {
  options_.shares_dir = root_ + "/shares";
  ASSERT_EQ(mkdir(options_.shares_dir.c_str(), 0700), 0);
  std::ofstream(options_.shares_dir + "/a.share") << "0 40 cap\n";
  std::ofstream(options_.shares_dir + "/b.share") << "0 40\n";
  VnpuTenantPage* a = Tenant("a", 100);
  VnpuTenantPage* b = Tenant("b", 10);
  b->devices[0].flags |= VNPU_TENANT_FLAG_HARD_CAP;  // b's own cap flag is ignored
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  const VnpuGrantPage& g = arb->grants().page();
  int32_t ia = IndexOf(g, a);
  int32_t ib = IndexOf(g, b);
  a->devices[0].waiters = 1;  // a alone on the chip: held to 40 % by its share file
  for (uint64_t t = 101; t < 1101; ++t) {
    arb->Tick(t * kMs);
  }
  double ga = static_cast<double>(g.tenants[ia].granted_ns[0]);
  EXPECT_NEAR(ga / (1000.0 * kMs), 0.40, 0.03);
  a->devices[0].waiters = 0;
  a->devices[0].last_demand_ns = 0;
  b->devices[0].waiters = 1;  // b alone: not capped although its page says so
  for (uint64_t t = 1101; t < 2101; ++t) {
    arb->Tick(t * kMs);
  }
  double gb = static_cast<double>(g.tenants[ib].granted_ns[0]);
  EXPECT_GT(gb / (1000.0 * kMs), 0.95);
}

// Issue 5: a device pinned by its share file is scheduled on the pinned chip only, whatever its
// page declares, and the pins are published in the grant page.
TEST_F(ArbiterTest, Issue5PinnedChipWinsOverThePageAndIsPublished) {
  options_.shares_dir = root_ + "/shares";
  ASSERT_EQ(mkdir(options_.shares_dir.c_str(), 0700), 0);
  std::ofstream(options_.shares_dir + "/a.share") << "0 50 chip=1\n";
  std::ofstream(options_.shares_dir + "/b.share") << "0 50 chip=3\n";
  VnpuTenantPage* a = Tenant("a", 50);
  VnpuTenantPage* b = Tenant("b", 50);
  a->devices[0].chip = 3;  // a claims b's chip
  b->devices[0].chip = 3;
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  const VnpuGrantPage& g = arb->grants().page();
  int32_t ia = IndexOf(g, a);
  int32_t ib = IndexOf(g, b);
  ASSERT_GE(ia, 0);
  ASSERT_GE(ib, 0);
  EXPECT_EQ(g.tenants[ia].pinned_chip_plus1[0], 2);
  EXPECT_EQ(g.tenants[ia].pinned_chip_plus1[1], 0);
  EXPECT_EQ(g.tenants[ib].pinned_chip_plus1[0], 4);
  a->devices[0].waiters = 1;
  b->devices[0].waiters = 1;
  for (uint64_t t = 101; t < 400; ++t) {
    arb->Tick(t * kMs);
    ASSERT_EQ(Owner(g, 3), ib) << "a never appears on chip 3";
    ASSERT_EQ(Owner(g, 1), ia);
  }
  EXPECT_NE(
      arb->MetricsText().find("tenant=a index=" + std::to_string(ia) + " dev=0 chip=1 weight=50 "),
      std::string::npos);
  // A share file rewritten without the pin clears it at the next rescan (a is then scheduled
  // where its page says: the remaining trust, documented).
  std::ofstream(options_.shares_dir + "/a.share") << "0 50\n";
  arb->Tick(500 * kMs);
  EXPECT_EQ(g.tenants[ia].pinned_chip_plus1[0], 0);
  std::ofstream(options_.shares_dir + "/a.share") << "0 50 chip=5\n";
  arb->Tick(600 * kMs);
  EXPECT_EQ(g.tenants[ia].pinned_chip_plus1[0], 6);
  // A dropped tenant's pins are cleared with its id.
  ASSERT_EQ(unlink(File("a").c_str()), 0);
  arb->Tick(700 * kMs);
  EXPECT_EQ(g.tenants[ia].tenant_id, 0u);
  EXPECT_EQ(g.tenants[ia].pinned_chip_plus1[0], 0);
}

TEST_F(ArbiterTest, Issue5UnsafeSharesDirIsRefused) {
  options_.shares_dir = root_ + "/shares";
  EXPECT_EQ(Arbiter::Create(options_).status().code(), StatusCode::kNotFound);
  ASSERT_EQ(mkdir(options_.shares_dir.c_str(), 0700), 0);
  ASSERT_EQ(chmod(options_.shares_dir.c_str(), 0777), 0);
  EXPECT_EQ(Arbiter::Create(options_).status().code(), StatusCode::kFailedPrecondition);
  // Made unsafe after start: every share file is refused (best effort, unpinned).
  ASSERT_EQ(chmod(options_.shares_dir.c_str(), 0700), 0);
  std::ofstream(options_.shares_dir + "/a.share") << "0 70 chip=2\n";
  VnpuTenantPage* a = Tenant("a", 50);
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  const VnpuGrantPage& g = arb->grants().page();
  int32_t ia = IndexOf(g, a);
  EXPECT_EQ(g.tenants[ia].pinned_chip_plus1[0], 3);
  EXPECT_NE(arb->MetricsText().find(" chip=2 weight=70 "), std::string::npos);
  ASSERT_EQ(chmod(options_.shares_dir.c_str(), 0757), 0);
  arb->Tick(200 * kMs);
  EXPECT_EQ(g.tenants[ia].pinned_chip_plus1[0], 0);
  EXPECT_NE(arb->MetricsText().find(" chip=0 weight=1 "), std::string::npos);
  // And a world-writable share file in a safe directory likewise.
  ASSERT_EQ(chmod(options_.shares_dir.c_str(), 0700), 0);
  ASSERT_EQ(chmod((options_.shares_dir + "/a.share").c_str(), 0666), 0);
  arb->Tick(300 * kMs);
  EXPECT_NE(arb->MetricsText().find(" chip=0 weight=1 "), std::string::npos);
}

// Issue 5: a tenant on two chips (tensor parallel) holds both or neither.
TEST_F(ArbiterTest, Issue5TwoChipTenantIsGrantedBothChipsTogether) {
  VnpuTenantPage* g2 = Tenant("g", 50);
  VnpuTenantPage* x = Tenant("x", 50);
  VnpuTenantPage* y = Tenant("y", 50);
  g2->devices[1].chip = 1;
  y->devices[0].chip = 1;
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  const VnpuGrantPage& g = arb->grants().page();
  int32_t ig = IndexOf(g, g2);
  for (VnpuTenantPage* t : {g2, x, y}) {
    t->devices[0].waiters = 1;
  }
  g2->devices[1].waiters = 1;
  int both = 0;
  for (uint64_t t = 101; t < 1101; ++t) {
    arb->Tick(t * kMs);
    ASSERT_EQ(Owner(g, 0) == ig, Owner(g, 1) == ig) << "at tick " << t;
    both += Owner(g, 0) == ig ? 1 : 0;
  }
  EXPECT_NEAR(both / 1000.0, 0.5, 0.03);
  double g0 = static_cast<double>(g.tenants[ig].granted_ns[0]);
  double g1 = static_cast<double>(g.tenants[ig].granted_ns[1]);
  EXPECT_EQ(g0, g1) << "usage is reported per device, on its own chip";
}

TEST_F(ArbiterTest, DemandWindowAndDeviceTimeMetrics) {
  options_.demand_window_ns = 10 * kMs;
  VnpuTenantPage* a = Tenant("a", 50);
  std::unique_ptr<Arbiter> arb = Start();
  ASSERT_NE(arb, nullptr);
  a->devices[0].last_demand_ns = 100 * kMs;
  a->devices[0].device_ns = 42 * kMs;
  arb->Tick(108 * kMs);  // 8 ms later: still demand with a 10 ms window
  const VnpuGrantPage& g = arb->grants().page();
  EXPECT_EQ(Owner(g, 0), IndexOf(g, a));
  EXPECT_NE(arb->MetricsText().find(" device_ns=42000000\n"), std::string::npos);
  a->devices[0].device_ns = ~uint64_t{0};  // garbage: clamped to the clock
  arb->Tick(109 * kMs);
  EXPECT_NE(arb->MetricsText().find(" device_ns=109000000\n"), std::string::npos);
}

}  // namespace
}  // namespace npushare::softslice
