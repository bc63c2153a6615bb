#include "hami/node_lock.h"

#include <gtest/gtest.h>

namespace npushare::hami {
namespace {

constexpr int64_t kNow = 1787293239;  // 2026-08-21T06:20:39Z

TEST(NodeLockTest, ParsesBothForms) {
  auto l = ParseNodeLock("2026-08-21T14:20:39+08:00,team-a,job-0");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->unix_seconds, kNow);
  EXPECT_EQ(l->ns, "team-a");
  EXPECT_EQ(l->name, "job-0");
  l = ParseNodeLock("2026-08-21T06:20:39Z");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->unix_seconds, kNow);
  EXPECT_EQ(l->ns, "");
}

TEST(NodeLockTest, ParseErrors) {
  EXPECT_EQ(ParseNodeLock("2024-01-01T00:00:00Z,ns,pod,extra").status().message(),
            "malformed lock annotation: expected 3 parts, got 4 from "
            "2024-01-01T00:00:00Z,ns,pod,extra");
  EXPECT_EQ(ParseNodeLock("lock").status().message().rfind(
                "parsing time \"lock\" as \"2006-01-02T15:04:05Z07:00\"", 0),
            0u);
  EXPECT_EQ(ParseNodeLock(",ns,pod").status().message().rfind("parsing time \"\"", 0), 0u);
  EXPECT_FALSE(ParseNodeLock("").ok());
  EXPECT_FALSE(ParseNodeLock(std::string(100000, ',')).ok());
  EXPECT_FALSE(ParseNodeLock(std::string("2024-01-01T00:00:00Z\0", 21)).ok());
}

TEST(NodeLockTest, FormatsRfc3339) {
  EXPECT_EQ(FormatNodeLock(kNow, 0, "ns", "pod"), "2026-08-21T06:20:39Z,ns,pod");
  EXPECT_EQ(FormatNodeLock(kNow, 8 * 3600, "team-a", "job-0"),
            "2026-08-21T14:20:39+08:00,team-a,job-0");
  EXPECT_EQ(FormatNodeLock(kNow, -(3 * 3600 + 1800), "", ""), "2026-08-21T02:50:39-03:30");
  auto back = ParseNodeLock(FormatNodeLock(kNow, -12600, "a", "b"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->unix_seconds, kNow);
}

const PodRef kMe{"hami-ns", "hami"};

TEST(NodeLockTest, AcquireDecisions) {
  using A = LockAcquireAction;
  const std::string fresh_other = FormatNodeLock(kNow, 0, "other-ns", "other-pod");
  EXPECT_EQ(DecideLockAcquire(std::nullopt, kNow, 300, kMe, std::nullopt, "n1").action, A::kSet);
  auto d = DecideLockAcquire(fresh_other, kNow, 300, kMe, std::nullopt, "n1");
  EXPECT_EQ(d.action, A::kNeedHolderCheck);
  EXPECT_EQ(d.holder, (PodRef{"other-ns", "other-pod"}));
  d = DecideLockAcquire(fresh_other, kNow, 300, kMe, true, "n1");
  EXPECT_EQ(d.action, A::kContention);
  EXPECT_EQ(d.message, "node n1 has been locked within 5m0s: node lock contention");
  EXPECT_EQ(DecideLockAcquire(fresh_other, kNow, 300, kMe, false, "n1").action, A::kTakeOverAndSet);
  EXPECT_EQ(
      DecideLockAcquire(FormatNodeLock(kNow, 0, "hami-ns", "hami"), kNow, 300, kMe, true, "n1")
          .action,
      A::kAlreadyHeld);
  // Expiry is strict: exactly `timeout` old is still held.
  EXPECT_EQ(DecideLockAcquire(fresh_other, kNow + 300, 300, kMe, true, "n1").action,
            A::kContention);
  EXPECT_EQ(DecideLockAcquire(fresh_other, kNow + 301, 300, kMe, true, "n1").action,
            A::kTakeOverAndSet);
  // A fresh legacy lock has no holder to check.
  d = DecideLockAcquire(FormatNodeLock(kNow, 0, "", ""), kNow, 60, kMe, std::nullopt, "n1");
  EXPECT_EQ(d.action, A::kContention);
  EXPECT_EQ(d.message, "node n1 has been locked within 1m0s: node lock contention");
  d = DecideLockAcquire("lock", kNow, 300, kMe, std::nullopt, "n1");
  EXPECT_EQ(d.action, A::kError);
  EXPECT_NE(d.message.find("parsing time \"lock\""), std::string::npos);
  // Extreme clocks do not overflow.
  EXPECT_EQ(DecideLockAcquire(fresh_other, INT64_MAX, 300, kMe, true, "n1").action,
            A::kTakeOverAndSet);
  EXPECT_EQ(DecideLockAcquire(fresh_other, INT64_MIN, 300, kMe, true, "n1").action, A::kContention);
}

TEST(NodeLockTest, ReleaseDecisions) {
  using R = LockReleaseAction;
  EXPECT_EQ(DecideLockRelease(std::nullopt, kMe, false), R::kNothing);
  EXPECT_EQ(DecideLockRelease("2026-08-21T06:20:39Z,namespace,pod", kMe, false), R::kNothing);
  EXPECT_EQ(DecideLockRelease("2026-08-21T06:20:39Z,namespace,pod", kMe, true), R::kRemove);
  EXPECT_EQ(DecideLockRelease("2026-08-21T06:20:39Z,hami-ns,hami", kMe, false), R::kRemove);
  EXPECT_EQ(DecideLockRelease("2026-08-21T06:20:39Z", kMe, false), R::kRemove);
  EXPECT_EQ(DecideLockRelease("garbage,x", kMe, false), R::kNothing);
}

}  // namespace
}  // namespace npushare::hami
