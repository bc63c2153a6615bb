// The arbiter's scheduling loop (ArbiterLoop) driven tick by tick on a fake TickClock, over
// real tenant and grant page files: every assertion counts ticks, none reads wall time.
#include "softslice/arbiter/arbiter_loop.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "softslice/arbiter/tick_clock.h"
#include "softslice/interceptor/compute_pages.h"
#include "softslice/interceptor/log.h"
#include "support/temp_dir.h"

namespace npushare::softslice {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kT0 = 1000 * kMs;  // the fake clock's start (non-zero like CLOCK_MONOTONIC)

// FakeTickClock: time moves only when the loop sleeps, to exactly the deadline, plus a delay
// the test injects into the next sleep (a busy or suspended machine).
class FakeTickClock : public TickClock {
 public:
  uint64_t NowNs() override { return now_; }
  void SleepUntilNs(uint64_t deadline_ns) override {
    deadlines_.push_back(deadline_ns);
    now_ = std::max(now_, deadline_ns) + late_by_;
    late_by_ = 0;
  }
  uint64_t now_ = kT0;
  uint64_t late_by_ = 0;  // added to the next sleep only
  std::vector<uint64_t> deadlines_;
};

class ArbiterLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vnpu::SetLogQuiet(true);
    root_ = temp_.path();
    ASSERT_FALSE(root_.empty()) << "cannot make a temporary directory";
    options_.grant_dir = root_ + "/grants";
    options_.tenants_dir = root_ + "/tenants";
    ASSERT_EQ(mkdir(options_.tenants_dir.c_str(), 0700), 0);
  }

  // Tenant: a tenant page as libvnpu creates it, `pct` on device 0, which runs on chip 0.
  VnpuTenantPage* Tenant(const std::string& name, uint32_t pct) {
    vnpu::Config cfg = {};
    for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
      cfg.core_percent[d] = pct;
      cfg.chip_of_device[d] = static_cast<int32_t>(d);
    }
    VnpuTenantPage* page = nullptr;
    EXPECT_EQ(vnpu::OpenTenantPage((options_.tenants_dir + "/" + name).c_str(), cfg, &page),
              vnpu::PageError::kOk);
    if (page != nullptr) {
      page->devices[0].chip = 0;
    }
    return page;
  }

  // StartLoop: the arbiter over options_ and its loop on clock_, after the loop's first tick
  // (at kT0 unless the clock was moved), which adopts the tenants created so far.
  void StartLoop(ArbiterLoop::MetricsSink sink = nullptr) {
    auto arb = Arbiter::Create(options_);
    ASSERT_TRUE(arb.ok()) << arb.status().ToString();
    arbiter_ = std::move(*arb);
    ArbiterLoopOptions loop_options;
    loop_options.tick_ns = kMs;
    loop_ = std::make_unique<ArbiterLoop>(*arbiter_, clock_, loop_options, std::move(sink));
    loop_->Start();
  }

  const VnpuGrantPage& Page() const { return arbiter_->grants().page(); }
  int32_t Owner(uint32_t chip = 0) const {
    return static_cast<int32_t>(Page().chips[chip].grant_word & 0xffff) - 1;
  }
  uint64_t Epoch(uint32_t chip = 0) const { return Page().chips[chip].grant_word >> 16; }
  int32_t IndexOf(const VnpuTenantPage* t) const {
    for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
      if (Page().tenants[i].tenant_id == t->tenant_id) {
        return static_cast<int32_t>(i);
      }
    }
    return -1;
  }

  npushare::testing::ScopedTempDir temp_{"vnpu-arbiter-loop"};
  std::string root_;
  ArbiterOptions options_;
  FakeTickClock clock_;
  std::unique_ptr<Arbiter> arbiter_;
  std::unique_ptr<ArbiterLoop> loop_;
};

TEST_F(ArbiterLoopTest, HeartbeatAndDeadlinesAdvanceOneTickPerStep) {
  StartLoop();
  ASSERT_NE(loop_, nullptr);
  EXPECT_EQ(Page().heartbeat_ns, kT0);
  EXPECT_EQ(loop_->ticks(), 1u);
  for (uint64_t k = 1; k <= 50; ++k) {
    loop_->Step();
    ASSERT_EQ(clock_.deadlines_.back(), kT0 + k * kMs) << "step " << k;
    ASSERT_EQ(Page().heartbeat_ns, kT0 + k * kMs) << "step " << k;
  }
  EXPECT_EQ(loop_->ticks(), 51u);
  EXPECT_EQ(clock_.deadlines_.size(), 50u);
}

// Weights 20 and 80 over 10 ms slices: a slice of the 20 % tenant costs it as much virtual time
// (10 ms * 100/20) as four slices cost the 80 % one, so every 50 ticks hold one slice of the
// first and four of the second, whichever index wins the ties.
TEST_F(ArbiterLoopTest, GrantsRotateByWeightSliceBySlice) {
  VnpuTenantPage* a = Tenant("a", 20);
  VnpuTenantPage* b = Tenant("b", 80);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  a->devices[0].waiters = 1;
  b->devices[0].waiters = 1;
  StartLoop();
  ASSERT_NE(loop_, nullptr);
  const int32_t ia = IndexOf(a);
  const int32_t ib = IndexOf(b);
  ASSERT_GE(ia, 0);
  ASSERT_GE(ib, 0);
  // owner_at[k]: the owner after tick k, who holds the chip from k ms to k+1 ms.
  std::vector<int32_t> owner_at = {Owner()};
  std::vector<uint64_t> epoch_at = {Epoch()};
  for (uint64_t k = 1; k <= 500; ++k) {
    loop_->Step();
    owner_at.push_back(Owner());
    epoch_at.push_back(Epoch());
  }
  for (size_t window = 0; window < 10; ++window) {
    auto begin = owner_at.begin() + static_cast<std::ptrdiff_t>(window * 50);
    EXPECT_EQ(std::count(begin, begin + 50, ia), 10) << "ticks " << window * 50 << "+50";
    EXPECT_EQ(std::count(begin, begin + 50, ib), 40) << "ticks " << window * 50 << "+50";
  }
  // Hand-offs only at slice ends, with a new epoch each; a's runs are exactly one slice.
  size_t run_start = 0;
  for (size_t k = 1; k < owner_at.size(); ++k) {
    if (owner_at[k] == owner_at[k - 1]) {
      EXPECT_EQ(epoch_at[k], epoch_at[k - 1]) << "tick " << k;
      continue;
    }
    EXPECT_EQ(k % 10, 0u) << "hand-off at tick " << k;
    EXPECT_EQ(epoch_at[k], epoch_at[k - 1] + 1) << "tick " << k;
    if (owner_at[k - 1] == ia) {
      EXPECT_EQ(k - run_start, 10u) << "a's run ending at tick " << k;
    }
    run_start = k;
  }
  // The page's usage counters agree: ticks 0..499 held, 1 ms each.
  EXPECT_EQ(Page().tenants[ia].granted_ns[0], 100 * kMs);
  EXPECT_EQ(Page().tenants[ib].granted_ns[0], 400 * kMs);
}

TEST_F(ArbiterLoopTest, SliceEndHandsOffWhileTheHolderStillHasDemand) {
  VnpuTenantPage* a = Tenant("a", 50);
  VnpuTenantPage* b = Tenant("b", 50);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  a->devices[0].waiters = 1;
  b->devices[0].waiters = 1;
  StartLoop();
  ASSERT_NE(loop_, nullptr);
  const int32_t first = Owner();
  ASSERT_TRUE(first == IndexOf(a) || first == IndexOf(b));
  const int32_t second = first == IndexOf(a) ? IndexOf(b) : IndexOf(a);
  const uint64_t epoch = Epoch();
  const uint32_t seq = Page().chips[0].seq;
  EXPECT_EQ(Page().chips[0].slice_end_ns, kT0 + 10 * kMs);
  for (uint64_t k = 1; k <= 9; ++k) {
    loop_->Step();
    ASSERT_EQ(Owner(), first) << "tick " << k;
    ASSERT_EQ(Epoch(), epoch) << "tick " << k;
  }
  loop_->Step();  // tick 10: the slice ends; the holder still waits, and the other gets it
  EXPECT_EQ(Owner(), second);
  EXPECT_EQ(Epoch(), epoch + 1);
  EXPECT_EQ(Page().chips[0].seq, seq + 1) << "waiters woken once";
  EXPECT_EQ(Page().chips[0].granted_at_ns, kT0 + 10 * kMs);
  EXPECT_EQ(Page().chips[0].slice_end_ns, kT0 + 20 * kMs);
}

// demand_window_ns = 3 ms: a launch at t counts as demand at ticks t, t+1, t+2 only. An idle
// owner keeps its chip while nobody else wants it and loses it at the first tick someone does.
TEST_F(ArbiterLoopTest, OwnerWhoseDemandStopsLosesTheChipExactlyWhenItIsWanted) {
  options_.demand_window_ns = 3 * kMs;
  VnpuTenantPage* a = Tenant("a", 50);
  VnpuTenantPage* b = Tenant("b", 50);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  a->devices[0].last_demand_ns = kT0;  // its last launch, then silence
  StartLoop();
  ASSERT_NE(loop_, nullptr);
  const int32_t ia = IndexOf(a);
  ASSERT_EQ(Owner(), ia);
  for (uint64_t k = 1; k <= 5; ++k) {
    loop_->Step();
    ASSERT_EQ(Owner(), ia) << "tick " << k << ": idle (from tick 3) but nobody else waits";
  }
  b->devices[0].waiters = 1;
  loop_->Step();  // tick 6
  EXPECT_EQ(Owner(), IndexOf(b));
}

TEST_F(ArbiterLoopTest, RecentDemandKeepsTheChipUntilTheWindowCloses) {
  options_.demand_window_ns = 3 * kMs;
  VnpuTenantPage* a = Tenant("a", 50);
  VnpuTenantPage* b = Tenant("b", 50);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  a->devices[0].last_demand_ns = kT0;
  StartLoop();
  ASSERT_NE(loop_, nullptr);
  ASSERT_EQ(Owner(), IndexOf(a));
  b->devices[0].waiters = 1;  // wanted from tick 1 on; the slice would last until tick 10
  loop_->Step();
  EXPECT_EQ(Owner(), IndexOf(a)) << "tick 1: launched 1 ms ago";
  loop_->Step();
  EXPECT_EQ(Owner(), IndexOf(a)) << "tick 2: launched 2 ms ago";
  loop_->Step();
  EXPECT_EQ(Owner(), IndexOf(b)) << "tick 3: the 3 ms window has closed";
}

// rescan_ns = 20 ms: a tenant page that appears is adopted (id published, chip granted) at the
// first rescan tick after it, and a removed one is forgotten at the next rescan tick.
TEST_F(ArbiterLoopTest, TenantsAreAdoptedAndForgottenAtRescanTicks) {
  StartLoop();  // rescans at ticks 0, 20, 40, ...
  ASSERT_NE(loop_, nullptr);
  loop_->Step();  // tick 1
  VnpuTenantPage* a = Tenant("a", 50);
  ASSERT_NE(a, nullptr);
  a->devices[0].waiters = 1;
  for (uint64_t k = 2; k <= 19; ++k) {
    loop_->Step();
    ASSERT_EQ(IndexOf(a), -1) << "tick " << k;
    ASSERT_EQ(Owner(), -1) << "tick " << k;
  }
  const uint64_t generation = Page().generation;
  loop_->Step();  // tick 20
  const int32_t ia = IndexOf(a);
  ASSERT_GE(ia, 0);
  EXPECT_GT(Page().generation, generation);
  EXPECT_EQ(Owner(), ia);
  EXPECT_EQ(Page().chips[0].granted_at_ns, kT0 + 20 * kMs);
  for (uint64_t k = 21; k <= 25; ++k) {
    loop_->Step();
  }
  ASSERT_EQ(unlink((options_.tenants_dir + "/a/" VNPU_TENANT_FILE_NAME).c_str()), 0);
  for (uint64_t k = 26; k <= 39; ++k) {
    loop_->Step();
    ASSERT_EQ(Owner(), ia) << "tick " << k << ": noticed at the next rescan only";
  }
  loop_->Step();  // tick 40
  EXPECT_EQ(Page().tenants[ia].tenant_id, 0u);
  EXPECT_EQ(Owner(), -1);
}

// A restarted arbiter re-adopts the tenants at its first tick: the page is reused (epochs keep
// counting: one for the reset to no owner, one for the new grant) and the heartbeat moves on.
TEST_F(ArbiterLoopTest, RestartedArbiterReadoptsAndGrantsAtItsFirstTick) {
  VnpuTenantPage* a = Tenant("a", 50);
  ASSERT_NE(a, nullptr);
  a->devices[0].waiters = 1;
  StartLoop();
  ASSERT_NE(loop_, nullptr);
  for (int k = 0; k < 5; ++k) {
    loop_->Step();
  }
  const VnpuGrantPage* tenant_view = nullptr;
  ASSERT_EQ(vnpu::OpenGrantPage(options_.grant_dir.c_str(), &tenant_view), vnpu::PageError::kOk);
  const uint64_t epoch = tenant_view->chips[0].grant_word >> 16;
  ASSERT_EQ(tenant_view->heartbeat_ns, kT0 + 5 * kMs);
  loop_.reset();
  arbiter_.reset();
  clock_.now_ = kT0 + 2000 * kMs;  // restarted two seconds later
  StartLoop();
  ASSERT_NE(loop_, nullptr);
  EXPECT_EQ(tenant_view->heartbeat_ns, kT0 + 2000 * kMs);
  EXPECT_EQ(tenant_view->chips[0].grant_word >> 16, epoch + 2);
  EXPECT_EQ(static_cast<int32_t>(tenant_view->chips[0].grant_word & 0xffff) - 1, IndexOf(a));
}

// A late wake-up keeps the grid: the missed deadlines are already due, so their ticks run back
// to back at the current time. A wake-up more than 100 ticks late restarts the grid instead.
TEST_F(ArbiterLoopTest, ALateTickKeepsTheGridAndASuspensionRestartsIt) {
  StartLoop();
  ASSERT_NE(loop_, nullptr);
  loop_->Step();
  loop_->Step();
  clock_.late_by_ = 5 * kMs;
  loop_->Step();  // tick 3 wakes at 8 ms
  EXPECT_EQ(loop_->last_tick_ns(), kT0 + 8 * kMs);
  for (uint64_t k = 4; k <= 8; ++k) {
    loop_->Step();
    EXPECT_EQ(clock_.deadlines_.back(), kT0 + k * kMs);
    EXPECT_EQ(loop_->last_tick_ns(), kT0 + 8 * kMs) << "catch-up tick " << k;
    EXPECT_EQ(Page().heartbeat_ns, kT0 + 8 * kMs);
  }
  loop_->Step();
  EXPECT_EQ(loop_->last_tick_ns(), kT0 + 9 * kMs) << "back on the grid";
  clock_.late_by_ = 1000 * kMs;  // suspended for a second during tick 10's sleep
  loop_->Step();
  EXPECT_EQ(loop_->last_tick_ns(), kT0 + 1010 * kMs);
  EXPECT_EQ(loop_->next_deadline_ns(), kT0 + 1011 * kMs) << "no thousand catch-up ticks";
  loop_->Step();
  EXPECT_EQ(clock_.deadlines_.back(), kT0 + 1011 * kMs);
  EXPECT_EQ(Page().heartbeat_ns, kT0 + 1011 * kMs);
  EXPECT_EQ(loop_->ticks(), 12u);
}

TEST_F(ArbiterLoopTest, MetricsArePublishedOncePerSecondOfTicks) {
  VnpuTenantPage* a = Tenant("a", 50);
  ASSERT_NE(a, nullptr);
  a->devices[0].waiters = 1;
  std::vector<std::pair<uint64_t, std::string>> published;
  StartLoop([&](std::string text) { published.emplace_back(loop_->ticks(), std::move(text)); });
  ASSERT_NE(loop_, nullptr);
  uint64_t steps = 0;
  loop_->RunUntil([&] { return steps++ == 2001; });
  EXPECT_EQ(loop_->ticks(), 2002u);
  ASSERT_EQ(published.size(), 3u);
  EXPECT_EQ(published[0].first, 2u) << "the first step publishes";
  EXPECT_EQ(published[1].first, 1002u);
  EXPECT_EQ(published[2].first, 2002u);
  EXPECT_NE(published[2].second.find("tenant=a "), std::string::npos) << published[2].second;
  EXPECT_NE(published[2].second.find(" granted_ns=2001000000 "), std::string::npos)
      << published[2].second;
}

}  // namespace
}  // namespace npushare::softslice
