#include "softslice/arbiter/node_scheduler.h"

#include <gtest/gtest.h>

#include <vector>

namespace npushare::softslice {
namespace {

constexpr uint64_t kMs = 1'000'000;

// Simulate: `ms` ticks of 1 ms with fixed inputs; returns ms granted per tenant index.
std::vector<uint64_t> Simulate(NodeScheduler& s, uint64_t& now, uint64_t ms,
                               const std::vector<TenantInput>& in) {
  std::vector<uint64_t> before(4);
  for (int i = 0; i < 4; ++i) {
    before[i] = s.granted_ns(i, 0);
  }
  for (uint64_t t = 0; t < ms; ++t) {
    now += kMs;
    s.Advance(now, in);
  }
  std::vector<uint64_t> got(4);
  for (int i = 0; i < 4; ++i) {
    got[i] = (s.granted_ns(i, 0) - before[i]) / kMs;
  }
  return got;
}

TEST(NodeSchedulerTest, BusyTenantsGetTimeProportionalToWeights) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  auto got = Simulate(s, now, 10'000, {{0, 40, true}, {1, 60, true}});
  EXPECT_NEAR(static_cast<double>(got[0]) / 10'000, 0.40, 0.005);
  EXPECT_NEAR(static_cast<double>(got[1]) / 10'000, 0.60, 0.005);
}

TEST(NodeSchedulerTest, ThreeTenantsTwentyThirtyFifty) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  auto got = Simulate(s, now, 10'000, {{0, 20, true}, {1, 30, true}, {2, 50, true}});
  EXPECT_NEAR(static_cast<double>(got[0]) / 10'000, 0.20, 0.005);
  EXPECT_NEAR(static_cast<double>(got[1]) / 10'000, 0.30, 0.005);
  EXPECT_NEAR(static_cast<double>(got[2]) / 10'000, 0.50, 0.005);
}

TEST(NodeSchedulerTest, WorkConservingWhenOthersAreIdle) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  auto got = Simulate(s, now, 1000, {{0, 10, true}, {1, 90, false}});
  EXPECT_GE(got[0], 999u);
  EXPECT_EQ(got[1], 0u);
}

TEST(NodeSchedulerTest, IdleOwnerLosesTheChipAtTheNextTick) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  Simulate(s, now, 5, {{0, 50, true}, {1, 50, false}});
  ASSERT_EQ(s.owner(0), 0);
  now += kMs;
  EXPECT_NE(s.Advance(now, std::vector<TenantInput>{{0, 50, false}, {1, 50, true}}), 0u);
  EXPECT_EQ(s.owner(0), 1);
}

TEST(NodeSchedulerTest, NobodyWaitingKeepsTheOwner) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  Simulate(s, now, 3, {{0, 50, true}});
  EXPECT_EQ(s.Advance(now + 100 * kMs, std::vector<TenantInput>{{0, 50, false}}), 0u);
  EXPECT_EQ(s.owner(0), 0);
}

// A long-running arbiter: tenant 0 was busy alone for 10 s and is now idle (still present, or
// gone); a new pair joins, one tick apart. Their first second is already shared 40/60.
TEST(NodeSchedulerTest, NewTenantsAfterALongRunShareFromTheirFirstSecond) {
  for (bool old_present : {true, false}) {
    NodeScheduler s({10 * kMs});
    uint64_t now = 1;
    Simulate(s, now, 10'000, {{0, 40, true}});
    // Each new tenant runs a warm-up kernel when it starts, then waits for the common start.
    std::vector<TenantInput> warm = {{1, 40, true}, {2, 60, true}};
    std::vector<TenantInput> idle = {{1, 40, false}, {2, 60, false}};
    std::vector<TenantInput> pair = {{1, 40, true}, {2, 60, true}};
    if (old_present) {
      warm.push_back({0, 40, false});
      idle.push_back({0, 40, false});
      pair.push_back({0, 40, false});
    }
    Simulate(s, now, 2, warm);
    Simulate(s, now, 700, idle);
    auto got = Simulate(s, now, 1000, pair);
    EXPECT_NEAR(static_cast<double>(got[1]) / 1000, 0.40, 0.03) << "old present: " << old_present;
    EXPECT_NEAR(static_cast<double>(got[2]) / 1000, 0.60, 0.03) << "old present: " << old_present;
  }
}

TEST(NodeSchedulerTest, IdleTimeCannotBeBankedIntoAMonopoly) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  Simulate(s, now, 5000, {{0, 50, true}, {1, 50, false}});  // 1 idle for 5 s
  auto got = Simulate(s, now, 1000, {{0, 50, true}, {1, 50, true}});
  EXPECT_NEAR(static_cast<double>(got[1]) / 1000, 0.5, 0.03) << "no 5 s catch-up burst";
}

TEST(NodeSchedulerTest, OverrunIsChargedAndRefunded) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  // 0 keeps overrunning 5 ms into every grant of 1: shares still converge to the weights of
  // device time (granted + overrun - refunds).
  std::vector<TenantInput> in = {{0, 50, true}, {1, 50, true}};
  uint64_t overrun0 = 0;
  int32_t prev = -1;
  for (int t = 0; t < 10'000; ++t) {
    now += kMs;
    s.Advance(now, in);
    if (prev == 0 && s.owner(0) == 1) {
      s.ChargeOverrun(0, 0, 5 * kMs);
      overrun0 += 5;
    }
    prev = s.owner(0);
  }
  double device0 = static_cast<double>(s.granted_ns(0, 0) / kMs + overrun0);
  double device1 = static_cast<double>(s.granted_ns(1, 0) / kMs - overrun0);
  EXPECT_NEAR(device0 / (device0 + device1), 0.5, 0.02);
  EXPECT_GT(overrun0, 0u);
}

TEST(NodeSchedulerTest, BadInputsAreIgnoredOrClamped) {
  NodeScheduler s({10 * kMs});
  std::vector<TenantInput> in = {{-1, 50, true}, {64, 50, true}, {3, 0, true}, {2, 1000, true}};
  s.Advance(1, in);
  EXPECT_TRUE(s.owner(0) == 2 || s.owner(0) == 3);
  s.ChargeOverrun(-5, 0, kMs);
  s.ChargeOverrun(99, 0, kMs);
  s.Forget(99);
  uint64_t now = 1;
  auto got = Simulate(s, now, 1010, in);
  // weight 0 -> 1, 1000 -> 100
  EXPECT_NEAR(static_cast<double>(got[2]) / 1010, 100.0 / 101.0, 0.02);
}

TEST(NodeSchedulerTest, ForgottenOwnerLosesTheChip) {
  NodeScheduler s({10 * kMs});
  s.Advance(1, std::vector<TenantInput>{{4, 50, true}});
  ASSERT_EQ(s.owner(0), 4);
  s.Forget(4);
  EXPECT_EQ(s.owner(0), -1);
  EXPECT_EQ(s.granted_ns(4, 0), 0u);
  // The release is reported, so the caller publishes it even though nobody else wants chip 0.
  EXPECT_EQ(s.Advance(2, std::vector<TenantInput>{}), 1u);
}

}  // namespace
}  // namespace npushare::softslice

namespace npushare::softslice {
namespace {

TEST(NodeSchedulerHardCapTest, CappedTenantAloneGetsOnlyItsPercent) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  TenantInput capped{0, 40, true};
  capped.hard_cap = true;
  auto got = Simulate(s, now, 10'000, {capped});
  EXPECT_NEAR(static_cast<double>(got[0]) / 10'000, 0.40, 0.01);
}

TEST(NodeSchedulerHardCapTest, CapDoesNotBindWhenTheShareIsBelowIt) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  TenantInput capped{0, 40, true};
  capped.hard_cap = true;
  auto got = Simulate(s, now, 10'000, {capped, {1, 60, true}});
  EXPECT_NEAR(static_cast<double>(got[0]) / 10'000, 0.40, 0.01);
  EXPECT_NEAR(static_cast<double>(got[1]) / 10'000, 0.60, 0.01);
}

TEST(NodeSchedulerHardCapTest, UncappedNeighbourStillGetsTheIdleTime) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  TenantInput capped{0, 20, true};
  capped.hard_cap = true;
  auto got = Simulate(s, now, 10'000, {capped, {1, 80, true}});
  EXPECT_GE(got[0] + got[1], 9'990u);
  EXPECT_NEAR(static_cast<double>(got[0]) / 10'000, 0.20, 0.01);
}

}  // namespace
}  // namespace npushare::softslice

// Multi-chip tenants (tensor parallel): gang scheduling across chips.
namespace npushare::softslice {
namespace {

constexpr uint64_t kChip0 = 1;
constexpr uint64_t kChip1 = 2;

// Share: fraction of the granted time of `chip` that went to `index`.
double Share(const NodeScheduler& s, int32_t index, uint32_t chip, int32_t n) {
  double total = 0;
  for (int32_t i = 0; i < n; ++i) {
    total += static_cast<double>(s.granted_ns(i, chip));
  }
  return static_cast<double>(s.granted_ns(index, chip)) / total;
}

// RunChecked: `ms` ticks with fixed inputs; fails if tenant `gang` ever owns part of `chips`.
void RunChecked(NodeScheduler& s, uint64_t& now, uint64_t ms, const std::vector<TenantInput>& in,
                int32_t gang, uint64_t chips) {
  for (uint64_t t = 0; t < ms; ++t) {
    now += kMs;
    s.Advance(now, in);
    uint64_t held = 0;
    for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
      held |= s.owner(c) == gang ? uint64_t{1} << c : 0;
    }
    ASSERT_TRUE(held == 0 || held == chips) << "gang holds chips " << held << " at " << now;
  }
}

TEST(NodeSchedulerGangTest, GangHoldsBothChipsOrNeitherAndSharesFollowWeights) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  // G (0) on chips 0 and 1, X (1) on chip 0, Y (2) on chip 1. G's weight is the minimum of
  // its devices' weights (40).
  std::vector<TenantInput> in = {{0, 40, true, false, kChip0},
                                 {0, 90, true, false, kChip1},
                                 {1, 60, true, false, kChip0},
                                 {2, 60, true, false, kChip1}};
  RunChecked(s, now, 10'000, in, 0, kChip0 | kChip1);
  EXPECT_NEAR(Share(s, 0, 0, 3), 0.40, 0.01);
  EXPECT_NEAR(Share(s, 1, 0, 3), 0.60, 0.01);
  EXPECT_NEAR(Share(s, 0, 1, 3), 0.40, 0.01);
  EXPECT_NEAR(Share(s, 2, 1, 3), 0.60, 0.01);
  EXPECT_EQ(s.granted_ns(0, 0), s.granted_ns(0, 1)) << "a gang's chips are held together";
  EXPECT_GE(s.granted_ns(0, 0) + s.granted_ns(1, 0), 9'990 * kMs) << "chip 0 never idle";
}

TEST(NodeSchedulerGangTest, GangIsNotStarvedByStaggeredSingleChipSlices) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  // Two singles per chip, chip 1's starting 5 ms after chip 0's: their slices are staggered
  // by half a slice, so at no slice end of one chip is the other chip free.
  std::vector<TenantInput> singles = {{1, 50, true, false, kChip0},
                                      {2, 50, true, false, kChip0},
                                      {3, 50, true, false, kChip1},
                                      {4, 50, true, false, kChip1}};
  RunChecked(s, now, 5, {singles[0], singles[1]}, 0, 0);
  RunChecked(s, now, 100, singles, 0, 0);
  ASSERT_NE(s.slice_end_ns(0), s.slice_end_ns(1)) << "the slices are staggered";
  // Then the gang G (0) arrives on both chips.
  std::vector<TenantInput> in = singles;
  in.push_back({0, 50, true, false, kChip0 | kChip1});
  uint64_t first = 0;
  for (int t = 0; t < 100 && first == 0; ++t) {
    RunChecked(s, now, 1, in, 0, kChip0 | kChip1);
    first = s.owner(0) == 0 ? now : 0;
  }
  ASSERT_NE(first, 0u) << "the gang got its chips within 100 ms";
  uint64_t g0 = s.granted_ns(0, 0);
  uint64_t x0 = s.granted_ns(1, 0) + s.granted_ns(2, 0);
  RunChecked(s, now, 9'000, in, 0, kChip0 | kChip1);
  double g = static_cast<double>(s.granted_ns(0, 0) - g0);
  double x = static_cast<double>(s.granted_ns(1, 0) + s.granted_ns(2, 0) - x0);
  EXPECT_NEAR(g / (g + x), 1.0 / 3, 0.02) << "three equal tenants on chip 0";
  EXPECT_EQ(s.slice_end_ns(0), s.slice_end_ns(1)) << "the domain's slices end together";
}

TEST(NodeSchedulerGangTest, IndependentChipsDoNotInfluenceEachOther) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  constexpr uint64_t kChip5 = uint64_t{1} << 5;
  // Chip 0: A (w 100) alone, its vt grows slowly. Chip 5: C (w 10, vt grows 10x faster) busy
  // while B (w 10) is idle for 1 s.
  std::vector<TenantInput> in = {
      {0, 100, true, false, kChip0}, {1, 10, false, false, kChip5}, {2, 10, true, false, kChip5}};
  RunChecked(s, now, 1000, in, 63, 0);  // 63: no gang to check
  EXPECT_EQ(s.granted_ns(1, 5), 0u);
  in[1].demand = true;  // B rejoins: at C's vt (its domain), not at A's
  uint64_t b0 = s.granted_ns(1, 5);
  uint64_t c0 = s.granted_ns(2, 5);
  uint64_t a0 = s.granted_ns(0, 0);
  RunChecked(s, now, 200, in, 63, 0);
  double b = static_cast<double>(s.granted_ns(1, 5) - b0);
  double c = static_cast<double>(s.granted_ns(2, 5) - c0);
  EXPECT_NEAR(b / (b + c), 0.5, 0.06) << "no catch-up burst for B, no penalty either";
  EXPECT_EQ(s.granted_ns(0, 0) - a0, 200 * kMs) << "A keeps chip 0 throughout";
}

TEST(NodeSchedulerGangTest, CappedGangSpendsItsBudgetOncePerTenant) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  // A capped 30 % gang alone on two chips: 30 % of each chip, not 15 %.
  std::vector<TenantInput> in = {{0, 30, true, true, kChip0 | kChip1}};
  RunChecked(s, now, 10'000, in, 0, kChip0 | kChip1);
  EXPECT_NEAR(static_cast<double>(s.granted_ns(0, 0)) / (10'000.0 * kMs), 0.30, 0.01);
  EXPECT_EQ(s.granted_ns(0, 0), s.granted_ns(0, 1));
}

TEST(NodeSchedulerGangTest, IdleGangOwnerReleasesAllItsChipsWhenOneIsWanted) {
  NodeScheduler s({10 * kMs});
  uint64_t now = 1;
  RunChecked(s, now, 3, {{0, 50, true, false, kChip0 | kChip1}}, 0, kChip0 | kChip1);
  ASSERT_EQ(s.owner(1), 0);
  // G goes idle and keeps both chips while nobody wants them (work conserving) ...
  RunChecked(s, now, 50, {{0, 50, false, false, kChip0 | kChip1}}, 0, kChip0 | kChip1);
  EXPECT_EQ(s.owner(0), 0);
  // ... and loses both as soon as X wants chip 0 (chip 1 stays idle, not half a gang).
  now += kMs;
  uint64_t changed = s.Advance(now, std::vector<TenantInput>{{0, 50, false, false, kChip0 | kChip1},
                                                             {1, 50, true, false, kChip0}});
  EXPECT_EQ(changed, kChip0 | kChip1);
  EXPECT_EQ(s.owner(0), 1);
  EXPECT_EQ(s.owner(1), -1);
}

}  // namespace
}  // namespace npushare::softslice
