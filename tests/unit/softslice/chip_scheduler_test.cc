#include "softslice/arbiter/chip_scheduler.h"

#include <gtest/gtest.h>

#include <vector>

namespace npushare::softslice {
namespace {

constexpr uint64_t kMs = 1'000'000;

// Simulate: `ms` ticks of 1 ms with fixed inputs; returns ms granted per tenant index.
std::vector<uint64_t> Simulate(ChipScheduler& s, uint64_t& now, uint64_t ms,
                               const std::vector<TenantInput>& in) {
  std::vector<uint64_t> before(4);
  for (int i = 0; i < 4; ++i) {
    before[i] = s.granted_ns(i);
  }
  for (uint64_t t = 0; t < ms; ++t) {
    now += kMs;
    s.Advance(now, in);
  }
  std::vector<uint64_t> got(4);
  for (int i = 0; i < 4; ++i) {
    got[i] = (s.granted_ns(i) - before[i]) / kMs;
  }
  return got;
}

TEST(ChipSchedulerTest, BusyTenantsGetTimeProportionalToWeights) {
  ChipScheduler s({10 * kMs});
  uint64_t now = 1;
  auto got = Simulate(s, now, 10'000, {{0, 40, true}, {1, 60, true}});
  EXPECT_NEAR(static_cast<double>(got[0]) / 10'000, 0.40, 0.005);
  EXPECT_NEAR(static_cast<double>(got[1]) / 10'000, 0.60, 0.005);
}

TEST(ChipSchedulerTest, ThreeTenantsTwentyThirtyFifty) {
  ChipScheduler s({10 * kMs});
  uint64_t now = 1;
  auto got = Simulate(s, now, 10'000, {{0, 20, true}, {1, 30, true}, {2, 50, true}});
  EXPECT_NEAR(static_cast<double>(got[0]) / 10'000, 0.20, 0.005);
  EXPECT_NEAR(static_cast<double>(got[1]) / 10'000, 0.30, 0.005);
  EXPECT_NEAR(static_cast<double>(got[2]) / 10'000, 0.50, 0.005);
}

TEST(ChipSchedulerTest, WorkConservingWhenOthersAreIdle) {
  ChipScheduler s({10 * kMs});
  uint64_t now = 1;
  auto got = Simulate(s, now, 1000, {{0, 10, true}, {1, 90, false}});
  EXPECT_GE(got[0], 999u);
  EXPECT_EQ(got[1], 0u);
}

TEST(ChipSchedulerTest, IdleOwnerLosesTheChipAtTheNextTick) {
  ChipScheduler s({10 * kMs});
  uint64_t now = 1;
  Simulate(s, now, 5, {{0, 50, true}, {1, 50, false}});
  ASSERT_EQ(s.owner(), 0);
  now += kMs;
  EXPECT_TRUE(s.Advance(now, std::vector<TenantInput>{{0, 50, false}, {1, 50, true}}));
  EXPECT_EQ(s.owner(), 1);
}

TEST(ChipSchedulerTest, NobodyWaitingKeepsTheOwner) {
  ChipScheduler s({10 * kMs});
  uint64_t now = 1;
  Simulate(s, now, 3, {{0, 50, true}});
  EXPECT_FALSE(s.Advance(now + 100 * kMs, std::vector<TenantInput>{{0, 50, false}}));
  EXPECT_EQ(s.owner(), 0);
}

TEST(ChipSchedulerTest, IdleTimeCannotBeBankedIntoAMonopoly) {
  ChipScheduler s({10 * kMs});
  uint64_t now = 1;
  Simulate(s, now, 5000, {{0, 50, true}, {1, 50, false}});  // 1 idle for 5 s
  auto got = Simulate(s, now, 1000, {{0, 50, true}, {1, 50, true}});
  EXPECT_NEAR(static_cast<double>(got[1]) / 1000, 0.5, 0.03) << "no 5 s catch-up burst";
}

TEST(ChipSchedulerTest, OverrunIsChargedAndRefunded) {
  ChipScheduler s({10 * kMs});
  uint64_t now = 1;
  // 0 keeps overrunning 5 ms into every grant of 1: shares still converge to the weights of
  // device time (granted + overrun - refunds).
  std::vector<TenantInput> in = {{0, 50, true}, {1, 50, true}};
  uint64_t overrun0 = 0;
  int32_t prev = -1;
  for (int t = 0; t < 10'000; ++t) {
    now += kMs;
    s.Advance(now, in);
    if (prev == 0 && s.owner() == 1) {
      s.ChargeOverrun(0, 5 * kMs);
      overrun0 += 5;
    }
    prev = s.owner();
  }
  double device0 = static_cast<double>(s.granted_ns(0) / kMs + overrun0);
  double device1 = static_cast<double>(s.granted_ns(1) / kMs - overrun0);
  EXPECT_NEAR(device0 / (device0 + device1), 0.5, 0.02);
  EXPECT_GT(overrun0, 0u);
}

TEST(ChipSchedulerTest, BadInputsAreIgnoredOrClamped) {
  ChipScheduler s({10 * kMs});
  std::vector<TenantInput> in = {{-1, 50, true}, {64, 50, true}, {3, 0, true}, {2, 1000, true}};
  s.Advance(1, in);
  EXPECT_TRUE(s.owner() == 2 || s.owner() == 3);
  s.ChargeOverrun(-5, kMs);
  s.ChargeOverrun(99, kMs);
  s.Forget(99);
  uint64_t now = 1;
  auto got = Simulate(s, now, 1010, in);
  // weight 0 -> 1, 1000 -> 100
  EXPECT_NEAR(static_cast<double>(got[2]) / 1010, 100.0 / 101.0, 0.02);
}

TEST(ChipSchedulerTest, ForgottenOwnerLosesTheChip) {
  ChipScheduler s({10 * kMs});
  s.Advance(1, std::vector<TenantInput>{{4, 50, true}});
  ASSERT_EQ(s.owner(), 4);
  s.Forget(4);
  EXPECT_EQ(s.owner(), -1);
  EXPECT_EQ(s.granted_ns(4), 0u);
}

}  // namespace
}  // namespace npushare::softslice

namespace npushare::softslice {
namespace {

TEST(ChipSchedulerHardCapTest, CappedTenantAloneGetsOnlyItsPercent) {
  ChipScheduler s({10 * kMs});
  uint64_t now = 1;
  TenantInput capped{0, 40, true};
  capped.hard_cap = true;
  auto got = Simulate(s, now, 10'000, {capped});
  EXPECT_NEAR(static_cast<double>(got[0]) / 10'000, 0.40, 0.01);
}

TEST(ChipSchedulerHardCapTest, CapDoesNotBindWhenTheShareIsBelowIt) {
  ChipScheduler s({10 * kMs});
  uint64_t now = 1;
  TenantInput capped{0, 40, true};
  capped.hard_cap = true;
  auto got = Simulate(s, now, 10'000, {capped, {1, 60, true}});
  EXPECT_NEAR(static_cast<double>(got[0]) / 10'000, 0.40, 0.01);
  EXPECT_NEAR(static_cast<double>(got[1]) / 10'000, 0.60, 0.01);
}

TEST(ChipSchedulerHardCapTest, UncappedNeighbourStillGetsTheIdleTime) {
  ChipScheduler s({10 * kMs});
  uint64_t now = 1;
  TenantInput capped{0, 20, true};
  capped.hard_cap = true;
  auto got = Simulate(s, now, 10'000, {capped, {1, 80, true}});
  EXPECT_GE(got[0] + got[1], 9'990u);
  EXPECT_NEAR(static_cast<double>(got[0]) / 10'000, 0.20, 0.01);
}

}  // namespace
}  // namespace npushare::softslice
