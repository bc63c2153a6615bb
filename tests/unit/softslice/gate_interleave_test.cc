// Scripted interleavings of the launch gate's grant acquisition (grant_acquire.h) and its fast
// path (GateFastOn, launch_gate.h). No threads race and nothing sleeps: a scripted environment
// stands in for the shared grant page, the clock and the futex, and changes the grant word
// between any two of the gate's reads, as the arbiter (or another tenant) would.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "softslice/interceptor/grant_acquire.h"
#include "softslice/interceptor/overrun.h"

namespace npushare::vnpu {
namespace {

constexpr uint64_t kOurs = 3;   // our owner field (tenant index 2)
constexpr uint64_t kOther = 5;  // another tenant's

constexpr uint64_t Word(uint64_t epoch, uint64_t owner) {
  return (epoch << 16) | owner;
}

// ScriptedEnv: the grant word lives here, as in the shared page. `after_read[k]` is what the
// word becomes right after the gate's k-th read of it (1-based): the other side's store landing
// between that read and the gate's next step. `after_block[k]` likewise after the k-th wait.
// `verdicts` are Check's answers in order (then kKeepWaiting).
struct ScriptedEnv {
  uint64_t word = 0;
  uint32_t seq = 0;
  uint64_t clock_ns = 1'000;
  std::map<int, uint64_t> after_read;
  std::map<int, uint64_t> after_block;
  std::vector<GrantWaitVerdict> verdicts;
  int reads = 0;
  int blocks = 0;
  int checks = 0;
  int32_t waiters = 0;
  int32_t max_waiters = 0;
  uint64_t demand_ns = 0;
  std::vector<std::string> log;

  uint64_t GrantWord() {
    uint64_t w = word;
    ++reads;
    log.push_back("read");
    if (auto it = after_read.find(reads); it != after_read.end()) {
      Store(it->second);
    }
    return w;
  }
  const uint64_t* GrantWordAddress() const { return &word; }
  uint32_t Seq() { return seq; }
  uint64_t Now() { return clock_ns += 10; }
  GrantWaitVerdict Check(uint64_t) {
    log.push_back("check");
    size_t i = static_cast<size_t>(checks++);
    return i < verdicts.size() ? verdicts[i] : GrantWaitVerdict::kKeepWaiting;
  }
  void AddWaiter(int32_t delta) {
    waiters += delta;
    max_waiters = std::max(max_waiters, waiters);
  }
  void ShowDemand(uint64_t now) { demand_ns = now; }
  void Block(uint32_t s) {
    ++blocks;
    log.push_back("block");
    EXPECT_EQ(s, seq) << "waits on the seq read before the grant word";
    if (auto it = after_block.find(blocks); it != after_block.end()) {
      Store(it->second);
    } else if (blocks > 100) {
      ADD_FAILURE() << "the gate never stops waiting";
      Store(word & ~kOwnerMask);  // let the test end
      verdicts.assign(static_cast<size_t>(checks) + 1, GrantWaitVerdict::kThrottle);
    }
  }
  // The arbiter publishes: word, then seq (the futex word).
  void Store(uint64_t w) {
    word = w;
    ++seq;
  }
};

GateThread FreshThread() {
  return {nullptr, 0, nullptr, 0, false, 0, -1, 0, -1, 0};
}

int kStream = 0;
void* const stream = &kStream;

// The 3d4f571 race: we pass the owner check with epoch 5; before we publish, the arbiter hands
// the chip to another tenant (epoch 6). The thread must keep the word that passed the check, so
// the next launch's fast path sees the change and goes slow. Publishing a re-read instead would
// make the fast path accept the other tenant's grant for the rest of the credit.
TEST(GateInterleaveTest, OwnerChangesBetweenCheckAndPublish) {
  ScriptedEnv env;
  env.word = Word(5, kOurs);
  env.after_read[1] = Word(6, kOther);
  GateThread t = FreshThread();
  ASSERT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 777), GrantAcquired::kGranted);
  EXPECT_EQ(t.expect, Word(5, kOurs));
  EXPECT_EQ(t.epoch, 5u);
  EXPECT_EQ(t.word, &env.word);
  EXPECT_EQ(t.credit, kLaunchCredit - 1);
  EXPECT_EQ(t.batch_start_ns, 777u) << "no wait: the fence's clock reading";
  EXPECT_FALSE(GateFastOn(t, stream)) << "fast path accepted another tenant's grant";
  EXPECT_EQ(t.credit, kLaunchCredit - 1) << "a refused fast path uses no credit";
}

// Without the change the fast path runs on: the credit is used one launch at a time.
TEST(GateInterleaveTest, FastPathRunsOnWhileTheGrantHolds) {
  ScriptedEnv env;
  env.word = Word(5, kOurs);
  GateThread t = FreshThread();
  ASSERT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 0), GrantAcquired::kGranted);
  for (int32_t i = 0; i < kLaunchCredit - 1; ++i) {
    EXPECT_TRUE(GateFastOn(t, stream)) << i;
  }
  EXPECT_FALSE(GateFastOn(t, stream)) << "credit exhausted: the slow path runs";
  int other = 0;
  t.credit = 1;
  EXPECT_FALSE(GateFastOn(t, &other)) << "stream switch: the slow path runs";
}

// Our slice ends while launches are queued on the fast path: the next launch goes slow, waits
// (blocking on seq, showing demand, counted as a waiter) until the chip is ours again, and then
// holds the new epoch, never the old one.
TEST(GateInterleaveTest, SliceEndsWhileLaunchesAreQueued) {
  ScriptedEnv env;
  env.word = Word(5, kOurs);
  GateThread t = FreshThread();
  ASSERT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 0), GrantAcquired::kGranted);
  ASSERT_TRUE(GateFastOn(t, stream));
  env.Store(Word(6, kOther));  // the slice ends
  EXPECT_FALSE(GateFastOn(t, stream));
  int reads_before = env.reads;
  env.after_block[2] = Word(7, kOurs);  // after two waits we get the chip back
  ASSERT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 0), GrantAcquired::kGranted);
  EXPECT_EQ(env.blocks, 2);
  EXPECT_EQ(env.reads - reads_before, 4) << "check, then one read per wait round and the last";
  EXPECT_EQ(env.waiters, 0) << "waiter count balanced";
  EXPECT_EQ(env.max_waiters, 1);
  EXPECT_NE(env.demand_ns, 0u) << "demand shown while waiting";
  EXPECT_EQ(t.expect, Word(7, kOurs));
  EXPECT_EQ(t.epoch, 7u);
  EXPECT_EQ(t.batch_start_ns, env.clock_ns) << "after a wait the batch starts when it ends";
  EXPECT_TRUE(GateFastOn(t, stream));
}

// Revoked and re-granted to us between two launches (same owner, new epoch): the whole-word
// compare sends the launch to the slow path, so no fence covers launches of two grants.
TEST(GateInterleaveTest, RegrantToUsIsANewGrant) {
  ScriptedEnv env;
  env.word = Word(5, kOurs);
  GateThread t = FreshThread();
  ASSERT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 0), GrantAcquired::kGranted);
  env.Store(Word(6, kOther));
  env.Store(Word(7, kOurs));
  EXPECT_FALSE(GateFastOn(t, stream));
}

// The epoch field (48 bits) wraps: the word after the largest epoch has epoch 0 and the same
// owner. The fast path still sees a different grant; the published epoch is the wrapped one.
TEST(GateInterleaveTest, EpochWraps) {
  constexpr uint64_t kMaxEpoch = (uint64_t{1} << 48) - 1;
  ScriptedEnv env;
  env.word = Word(kMaxEpoch, kOurs);
  GateThread t = FreshThread();
  ASSERT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 0), GrantAcquired::kGranted);
  EXPECT_EQ(t.epoch, kMaxEpoch);
  uint64_t wrapped = env.word + (uint64_t{1} << 16);  // as the arbiter bumps it (mod 2^64)
  ASSERT_EQ(wrapped, Word(0, kOurs));
  env.Store(wrapped);
  EXPECT_FALSE(GateFastOn(t, stream)) << "a wrapped epoch is a new grant";
  ASSERT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 0), GrantAcquired::kGranted);
  EXPECT_EQ(t.epoch, 0u);
  EXPECT_TRUE(GateFastOn(t, stream));
}

// The arbiter's heartbeat goes stale while we wait for the grant (after our fence): the wait
// ends as kStale, the waiter count is balanced and the thread state is left to the caller (which
// opens the gate, fenced).
TEST(GateInterleaveTest, HeartbeatGoesStaleMidWait) {
  ScriptedEnv env;
  env.word = Word(5, kOther);
  env.verdicts = {GrantWaitVerdict::kKeepWaiting, GrantWaitVerdict::kKeepWaiting,
                  GrantWaitVerdict::kStale};
  GateThread t = FreshThread();
  EXPECT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 0), GrantAcquired::kStale);
  EXPECT_EQ(env.blocks, 2) << "no wait after the stale verdict";
  EXPECT_EQ(env.waiters, 0);
  EXPECT_EQ(env.max_waiters, 1);
  EXPECT_EQ(t.word, nullptr) << "nothing published";
  EXPECT_EQ(t.credit, 0);
}

// Our tenant is dropped (or the grant page lost) while we wait: kThrottle, balanced waiters.
TEST(GateInterleaveTest, DroppedWhileWaitingThrottles) {
  ScriptedEnv env;
  env.word = Word(5, kOther);
  env.verdicts = {GrantWaitVerdict::kThrottle};
  GateThread t = FreshThread();
  EXPECT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 0), GrantAcquired::kThrottle);
  EXPECT_EQ(env.blocks, 0);
  EXPECT_EQ(env.waiters, 0);
  EXPECT_EQ(t.word, nullptr);
}

// The grant arrives between the wait's seq read and its grant-word read: no futex wait at all
// (and a grant arriving after the grant-word read bumps seq, so the futex wait would return).
TEST(GateInterleaveTest, GrantBetweenSeqReadAndWordRead) {
  ScriptedEnv env;
  env.word = Word(5, kOther);
  env.after_read[1] = Word(6, kOurs);  // lands after the first check, before the loop's read
  GateThread t = FreshThread();
  ASSERT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 0), GrantAcquired::kGranted);
  EXPECT_EQ(env.blocks, 0);
  EXPECT_EQ(env.checks, 0);
  EXPECT_EQ(t.expect, Word(6, kOurs));
  EXPECT_EQ(env.waiters, 0);
}

// The grant comes and goes again between our wait's word read and the publish: we publish the
// word we saw as ours; the fast path then refuses the next launch.
TEST(GateInterleaveTest, GrantComesAndGoesWhileWaking) {
  ScriptedEnv env;
  env.word = Word(5, kOther);
  env.after_block[1] = Word(6, kOurs);
  env.after_read[3] = Word(7, kOther);  // right after the read that saw epoch 6 as ours
  GateThread t = FreshThread();
  ASSERT_EQ(AcquireGrant(env, t, kOurs, kLaunchCredit, stream, 0, 0), GrantAcquired::kGranted);
  EXPECT_EQ(t.expect, Word(6, kOurs));
  EXPECT_FALSE(GateFastOn(t, stream));
}

// The overrun history overflows while a fence of ours is outstanding: the arbiter publishes more
// grants than VNPU_EPOCH_HISTORY keeps, some of them to us again (one in the overwritten part,
// one in the kept part). The part is then measured from the oldest start kept, with the kept
// re-grants subtracted: exactly the overrun inside the kept window (an oracle over the full
// timeline below), so never more than the true overrun.
TEST(GateInterleaveTest, OverrunHistoryOverflowsMidFence) {
  constexpr uint64_t kMs = 1'000'000;
  constexpr uint64_t kH = VNPU_EPOCH_HISTORY;
  VnpuGrantChip chip = {};
  struct Grant {
    uint64_t start_ns;
    uint64_t owner;
  };
  std::vector<Grant> timeline;  // index = epoch - 1
  auto publish = [&](uint64_t owner, uint64_t at_ns) {
    uint64_t e = (chip.grant_word >> 16) + 1;
    chip.epoch_start_ns[e % kH] = at_ns;
    chip.epoch_owner[e % kH] = static_cast<uint16_t>(owner);
    chip.grant_word = (e << 16) | owner;
    timeline.push_back({at_ns, owner});
  };
  publish(kOurs, 100 * kMs);
  uint64_t ours = chip.grant_word >> 16;
  for (uint64_t i = 0; i < 2 * kH; ++i) {
    bool again = i == 2 || i == 2 * kH - 3;  // overwritten later / still kept
    publish(again ? kOurs : kOther, (110 + 3 * i) * kMs);
  }
  uint64_t end_ns = 200 * kMs;
  // Oracle: time in [from, end) not held by us, given the full timeline.
  auto not_held_from = [&](uint64_t from) {
    uint64_t held = 0;
    for (size_t k = 0; k < timeline.size(); ++k) {
      uint64_t a = std::max(timeline[k].start_ns, from);
      uint64_t b = k + 1 < timeline.size() ? timeline[k + 1].start_ns : end_ns;
      if (timeline[k].owner == kOurs && b > a) {
        held += b - a;
      }
    }
    return (end_ns - from) - held;
  };
  uint64_t current = chip.grant_word >> 16;
  uint64_t true_overrun = not_held_from(timeline[ours].start_ns);         // from our grant's end
  uint64_t kept_window = not_held_from(timeline[current - kH].start_ns);  // oldest start kept
  uint64_t part = OverrunPart(chip, ours, kOurs, end_ns);
  EXPECT_EQ(part, kept_window);
  EXPECT_LT(part, true_overrun) << "understated, never overstated";
  EXPECT_GT(part, 0u);
}

}  // namespace
}  // namespace npushare::vnpu
