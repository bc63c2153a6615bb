#include "kube/rate_limiter.h"

#include <gtest/gtest.h>

#include "mocks/kube/fake_clock.h"

namespace npushare::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(TokenBucketTest, BurstThenPacedAtQps) {
  testing::FakeClock clock;
  TokenBucket bucket(10, 3, clock);
  EXPECT_EQ(bucket.Reserve(), nanoseconds(0));
  EXPECT_EQ(bucket.Reserve(), nanoseconds(0));
  EXPECT_EQ(bucket.Reserve(), nanoseconds(0));
  EXPECT_EQ(bucket.Reserve(), milliseconds(100));
  EXPECT_EQ(bucket.Reserve(), milliseconds(200));  // queued behind the previous caller
}

TEST(TokenBucketTest, RefillsOverTimeUpToBurst) {
  testing::FakeClock clock;
  TokenBucket bucket(10, 2, clock);
  EXPECT_EQ(bucket.Reserve(), nanoseconds(0));
  EXPECT_EQ(bucket.Reserve(), nanoseconds(0));
  clock.Advance(std::chrono::seconds(10));  // would be 100 tokens, capped at 2
  EXPECT_EQ(bucket.Reserve(), nanoseconds(0));
  EXPECT_EQ(bucket.Reserve(), nanoseconds(0));
  EXPECT_GT(bucket.Reserve(), nanoseconds(0));
}

TEST(TokenBucketTest, WaitSleepsThroughClock) {
  testing::FakeClock clock;
  TokenBucket bucket(2, 1, clock);
  bucket.Wait();
  bucket.Wait();
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_EQ(clock.sleeps()[0], milliseconds(500));
}

TEST(TokenBucketTest, ZeroQpsDisables) {
  testing::FakeClock clock;
  TokenBucket bucket(0, 1, clock);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(bucket.Reserve(), nanoseconds(0));
}

}  // namespace
}  // namespace npushare::kube
