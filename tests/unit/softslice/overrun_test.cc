// Overrun accounting (softslice/interceptor/overrun.h): the part of a segment past its grant,
// held re-grants subtracted, and one tenant-wide value across processes.
#include "softslice/interceptor/overrun.h"

#include <gtest/gtest.h>

namespace npushare::vnpu {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kUs = 1'000;
constexpr uint64_t kOurs = 3;   // our owner field (tenant index 2)
constexpr uint64_t kOther = 5;  // another tenant's

// Chip: a grant-page chip line with a history, built grant by grant as the arbiter does.
class Chip {
 public:
  // Grant: epoch e+1 starts at `at_ms` with `owner` (0 = none).
  void Grant(uint64_t owner, uint64_t at_ms) {
    uint64_t e = (line_.grant_word >> 16) + 1;
    line_.epoch_start_ns[e % VNPU_EPOCH_HISTORY] = at_ms * kMs;
    line_.epoch_owner[e % VNPU_EPOCH_HISTORY] = static_cast<uint16_t>(owner);
    line_.grant_word = (e << 16) | owner;
  }
  uint64_t epoch() const { return line_.grant_word >> 16; }
  uint64_t Part(uint64_t epoch, uint64_t end_ms) const {
    return OverrunPart(line_, epoch, kOurs, end_ms * kMs);
  }

 private:
  VnpuGrantChip line_ = {};
};

TEST(OverrunPartTest, NothingWhileTheGrantIsCurrent) {
  Chip c;
  c.Grant(kOurs, 100);
  EXPECT_EQ(c.Part(c.epoch(), 500), 0u);
  EXPECT_EQ(c.Part(0, 500), 0u) << "epoch 0: launched ungated";
}

TEST(OverrunPartTest, TimeFromTheGrantsEndToCompletion) {
  Chip c;
  c.Grant(kOurs, 100);
  uint64_t ours = c.epoch();
  c.Grant(kOther, 110);
  EXPECT_EQ(c.Part(ours, 125), 15 * kMs);
  EXPECT_EQ(c.Part(ours, 105), 0u) << "completed inside the grant";
}

TEST(OverrunPartTest, AGrantHeldAgainInBetweenIsNotOverrun) {
  Chip c;
  c.Grant(kOurs, 100);
  uint64_t ours = c.epoch();
  c.Grant(kOther, 110);
  c.Grant(kOurs, 115);   // back to us for 5 ms...
  c.Grant(kOther, 120);  // ...and lost again while the tail still runs
  // 110..130 is 20 ms, of which 115..120 was ours. Truncating at the re-grant (the rule before)
  // gave 5 ms: the tail after 120 went uncharged.
  EXPECT_EQ(c.Part(ours, 130), 15 * kMs);
}

TEST(OverrunPartTest, HoldingTheChipAgainNowEndsTheOverrun) {
  Chip c;
  c.Grant(kOurs, 100);
  uint64_t ours = c.epoch();
  c.Grant(kOther, 110);
  c.Grant(kOurs, 118);
  EXPECT_EQ(c.Part(ours, 130), 8 * kMs);
}

TEST(OverrunPartTest, NoOwnerInBetweenIsStillOverrun) {
  Chip c;
  c.Grant(kOurs, 100);
  uint64_t ours = c.epoch();
  c.Grant(0, 104);  // revoked (a hard cap), nobody granted
  EXPECT_EQ(c.Part(ours, 110), 6 * kMs);
}

TEST(OverrunPartTest, PastTheHistoryItIsUnderstatedNeverOverstated) {
  Chip c;
  c.Grant(kOurs, 100);
  uint64_t ours = c.epoch();
  for (uint64_t i = 0; i < VNPU_EPOCH_HISTORY + 2; ++i) {
    c.Grant(kOther, 110 + i);  // epochs ours+1 .. : our end (110) falls out of the history
  }
  uint64_t part = c.Part(ours, 200);
  EXPECT_GT(part, 0u);
  EXPECT_LT(part, 90 * kMs);
  // Epoch ours + 1 + i started at 110 + i; current = ours + 10, and the oldest start kept is
  // epoch current - 7 = ours + 3's: 112.
  EXPECT_EQ(part, (200 - 112) * kMs);
}

TEST(AccountOverrunTest, OnlyTheGrowthIsReported) {
  VnpuTenantDevice td = {};
  OverrunState o = {};
  AccountOverrun(&td, &o, 7, 4 * kMs, 4 * kMs);
  EXPECT_EQ(td.overrun_ns, 4 * kMs);
  AccountOverrun(&td, &o, 7, 6 * kMs, 2 * kMs);  // a later segment of the same epoch
  EXPECT_EQ(td.overrun_ns, 6 * kMs) << "min(largest part 6, sum 4 + 2)";
  AccountOverrun(&td, &o, 7, 5 * kMs, 5 * kMs);  // inside what is reported already
  EXPECT_EQ(td.overrun_ns, 6 * kMs);
}

TEST(AccountOverrunTest, ProcessesOverrunningSideBySideAreChargedOnce) {
  VnpuTenantDevice td = {};
  OverrunState p1 = {};
  OverrunState p2 = {};
  // Both processes' tails ran until 10 ms past the grant, interleaved on the device: each
  // segment's span (its device-time bound) covers the other's kernels.
  AccountOverrun(&td, &p1, 9, 10 * kMs, 10 * kMs);
  AccountOverrun(&td, &p2, 9, 10 * kMs, 10 * kMs);
  EXPECT_EQ(td.overrun_ns, 10 * kMs) << "per process this was 20 ms (charged twice)";
}

TEST(AccountOverrunTest, ProcessesWithDisjointWorkAddUpToTheUnion) {
  VnpuTenantDevice td = {};
  OverrunState p1 = {};
  OverrunState p2 = {};
  // 10 ms past the grant in all; each process ran 5 ms of it.
  AccountOverrun(&td, &p1, 9, 6 * kMs, 5 * kMs);
  AccountOverrun(&td, &p2, 9, 10 * kMs, 5 * kMs);
  EXPECT_EQ(td.overrun_ns, 10 * kMs);
}

TEST(AccountOverrunTest, ANewEpochStartsAfresh) {
  VnpuTenantDevice td = {};
  OverrunState o = {};
  AccountOverrun(&td, &o, 9, 3 * kMs, 3 * kMs);
  AccountOverrun(&td, &o, 11, 2 * kMs, 2 * kMs);
  EXPECT_EQ(td.overrun_ns, 5 * kMs);
  EXPECT_EQ(td.overrun_epoch >> 48, 11u);
}

TEST(AccountOverrunTest, ALateReportOfAnOlderEpochAddsItsOwnGrowth) {
  VnpuTenantDevice td = {};
  OverrunState fast = {};
  OverrunState late = {};
  AccountOverrun(&td, &fast, 12, 2 * kMs, 2 * kMs);  // the word moves on to epoch 12
  AccountOverrun(&td, &late, 11, 3 * kMs, 3 * kMs);  // observed late
  EXPECT_EQ(td.overrun_ns, 5 * kMs);
  EXPECT_EQ(td.overrun_epoch >> 48, 12u) << "the newer epoch's terms stay";
}

TEST(AccountOverrunTest, CappedPerEpoch) {
  VnpuTenantDevice td = {};
  OverrunState o = {};
  AccountOverrun(&td, &o, 4, 80 * kMs, 80 * kMs);
  EXPECT_EQ(td.overrun_ns, kMaxOverrunNs);
  AccountOverrun(&td, &o, 4, 90 * kMs, 90 * kMs);
  EXPECT_EQ(td.overrun_ns, kMaxOverrunNs);
}

TEST(AccountOverrunTest, MicrosecondGranularityLosesLessThanAMicrosecondPerReport) {
  VnpuTenantDevice td = {};
  OverrunState o = {};
  AccountOverrun(&td, &o, 2, 1500 * kUs + 999, 1500 * kUs + 999);
  EXPECT_EQ(td.overrun_ns, 1500 * kUs);
}

}  // namespace
}  // namespace npushare::vnpu
