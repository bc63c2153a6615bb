// LeaderElector against the local API server with an injected clock.
#include "kube/leader_elector.h"

#include <gtest/gtest.h>

#include <thread>

#include "integration/kube/test_server.h"
#include "mocks/kube/fake_clock.h"

namespace npushare::kube {
namespace {

using testing::FakeClock;
using testing::ServerAndClient;
using testing::Waitable;

LeaderElectionOptions Opts(const std::string& id) {
  LeaderElectionOptions o;
  o.namespace_name = "kube-system";
  o.lease_name = "npushare-scheduler";
  o.identity = id;
  return o;
}

TEST(LeaderElectorTest, DefaultsMatchClientGo) {
  LeaderElectionOptions o;
  EXPECT_EQ(o.lease_duration, std::chrono::seconds(15));
  EXPECT_EQ(o.renew_deadline, std::chrono::seconds(10));
  EXPECT_EQ(o.retry_period, std::chrono::seconds(2));
}

TEST(LeaderElectorTest, OnlyOneHoldsUntilTheLeaseExpires) {
  ServerAndClient env;
  FakeClock clock;
  LeaderElector a(env.client(), Opts("a"), {}, clock);
  LeaderElector b(env.client(), Opts("b"), {}, clock);
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  EXPECT_EQ(b.ObservedHolder(), "a");
  clock.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(a.TryAcquireOrRenew());  // renewal changes the record b observes
  clock.Advance(std::chrono::seconds(10));
  // b first sees the renewal now; expiry is measured on b's clock from this observation.
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock.Advance(std::chrono::seconds(14));
  EXPECT_FALSE(b.TryAcquireOrRenew());  // 14 s < 15 s lease: still valid
  clock.Advance(std::chrono::seconds(2));
  EXPECT_TRUE(b.TryAcquireOrRenew());  // 16 s without a change: expired, b takes over
  auto lease = env.client().Get(kLeases, "kube-system", "npushare-scheduler");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 15);
  EXPECT_FALSE(a.TryAcquireOrRenew());
}

TEST(LeaderElectorTest, RunLeadsAndReleasesOnStop) {
  ServerAndClient env;
  FakeClock clock;
  Waitable log;
  LeaderElector a(env.client(), Opts("a"),
                  {[&] { log.Add("a started"); }, [&] { log.Add("a stopped"); }}, clock);
  std::thread t([&] { a.Run(); });
  ASSERT_TRUE(log.WaitForCount(1));
  EXPECT_TRUE(a.IsLeader());
  a.Stop();
  t.join();
  EXPECT_EQ(log.items(), (std::vector<std::string>{"a started", "a stopped"}));
  EXPECT_FALSE(a.IsLeader());
  // Released: a successor acquires at once, without waiting out the lease.
  LeaderElector b(env.client(), Opts("b"), {}, clock);
  EXPECT_TRUE(b.TryAcquireOrRenew());
}

TEST(LeaderElectorTest, StepsDownWhenRenewalsFailPastTheDeadline) {
  ServerAndClient env;
  FakeClock clock;
  Waitable log;
  LeaderElector a(env.client(), Opts("a"),
                  {[&] { log.Add("started"); }, [&] { log.Add("stopped"); }}, clock);
  std::thread t([&] { a.Run(); });
  ASSERT_TRUE(log.WaitForCount(1));
  // Someone else overwrites the lease: a's renewals now hit 409 / a foreign holder. a renews
  // concurrently, so the overwrite itself may need a few optimistic-concurrency retries.
  bool overwritten = false;
  for (int attempt = 0; attempt < 1000 && !overwritten; ++attempt) {
    auto lease = env.client().Get(kLeases, "kube-system", "npushare-scheduler");
    if (!lease.ok())
      continue;
    (*lease)["spec"]["holderIdentity"] = "intruder";
    overwritten = env.client().Update(kLeases, "kube-system", *lease).ok();
  }
  if (!overwritten)
    a.Stop();
  bool stopped = log.WaitForCount(2);
  if (!stopped)
    a.Stop();
  t.join();
  ASSERT_TRUE(overwritten);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(log.items()[1], "stopped");
  EXPECT_FALSE(a.IsLeader());
}

}  // namespace
}  // namespace npushare::kube
