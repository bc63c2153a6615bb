// Tests of History, the fixed-memory ring of per-chip samples.
#include "dashboard/history.h"

#include <gtest/gtest.h>

#include "unit/dashboard/fake_cluster.h"

namespace npushare::dashboard {
namespace {

ClusterSnapshot OneChip(int64_t t, int64_t used) {
  ClusterSnapshot s;
  s.time_unix_ms = t;
  NodeView n;
  n.name = "n";
  ChipView c;
  c.uuid = "u";
  SliceView a;
  a.memory_quota_bytes = 100;
  a.memory_used_bytes = used;
  a.compute_achieved_percent = 10;
  SliceView b;
  b.memory_quota_bytes = 50;  // nothing measured on this one
  c.slices = {a, b};
  n.chips.push_back(c);
  s.nodes.push_back(n);
  return s;
}

TEST(HistoryTest, RingKeepsTheNewestCapacitySamplesInOrder) {
  History h({.window_ms = 10000, .period_ms = 1000, .max_series = 10});
  ASSERT_EQ(h.Capacity(), 10u);
  for (int i = 0; i < 25; ++i) {
    EXPECT_TRUE(h.Record(OneChip(i * 1000, i)));
  }
  std::vector<HistoryPoint> p = h.Points("n", "u", 100, 24000);
  ASSERT_EQ(p.size(), 10u);
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_EQ(p[i].t_ms, static_cast<int64_t>(15 + i) * 1000);
    EXPECT_FLOAT_EQ(p[i].memory_used_bytes, static_cast<float>(15 + i));
    EXPECT_FLOAT_EQ(p[i].memory_allocated_bytes, 150);
    EXPECT_FLOAT_EQ(p[i].compute_achieved_percent, 10);
    EXPECT_TRUE(std::isnan(p[i].compute_granted_percent)) << "never measured";
  }
  EXPECT_TRUE(h.Points("n", "other", 100, 24000).empty());
  EXPECT_TRUE(h.Points("n", "u", 0, 24000).empty());
}

TEST(HistoryTest, SnapshotsCloserThanThePeriodAreIgnored) {
  History h({.window_ms = 10000, .period_ms = 1000, .max_series = 10});
  EXPECT_TRUE(h.Record(OneChip(1000, 1)));
  EXPECT_FALSE(h.Record(OneChip(1500, 2)));
  EXPECT_FALSE(h.Record(OneChip(500, 3)));  // older
  EXPECT_TRUE(h.Record(OneChip(2000, 4)));
  std::vector<HistoryPoint> p = h.Points("n", "u", 10, 2000);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_FLOAT_EQ(p[1].memory_used_bytes, 4);
}

TEST(HistoryTest, DownsamplingAveragesBucketsAndKeepsTheNewestTime) {
  History h({.window_ms = 100000, .period_ms = 1000, .max_series = 10});
  for (int i = 0; i < 100; ++i) {
    h.Record(OneChip(i * 1000, i));
  }
  std::vector<HistoryPoint> p = h.Points("n", "u", 10, 99000);
  ASSERT_LE(p.size(), 10u);
  ASSERT_GE(p.size(), 9u);
  EXPECT_EQ(p.back().t_ms, 99000);
  for (size_t i = 1; i < p.size(); ++i) {
    EXPECT_GT(p[i].t_ms, p[i - 1].t_ms);
    EXPECT_GT(p[i].memory_used_bytes, p[i - 1].memory_used_bytes);
  }
  // The mean of all buckets equals the mean of all samples within a bucket's rounding.
  EXPECT_GT(p.front().memory_used_bytes, 0);
  EXPECT_LT(p.front().memory_used_bytes, 15);
}

TEST(HistoryTest, SeriesAreBoundedAndGoneChipsAreFreed) {
  History h({.window_ms = 5000, .period_ms = 1000, .max_series = 10});
  h.Record(testing::MakeCluster(2, 8, 0, 1000));  // 16 chips, room for 10
  EXPECT_EQ(h.SeriesCount(), 10u);
  EXPECT_EQ(h.dropped_series(), 6u);
  // Only one (new) chip from now on: it gets room once the others have aged out.
  EXPECT_TRUE(h.Record(OneChip(2000, 2)));
  EXPECT_EQ(h.SeriesCount(), 10u) << "full: the new chip is dropped";
  EXPECT_EQ(h.dropped_series(), 7u);
  for (int t = 7; t <= 12; ++t) {
    EXPECT_TRUE(h.Record(OneChip(t * 1000, t)));
  }
  EXPECT_EQ(h.SeriesCount(), 1u);
  // The ring holds the newest Capacity() (5) samples: 8000..12000.
  std::vector<HistoryPoint> p = h.Points("n", "u", 100, 12000);
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p.front().t_ms, 8000);
  // Window filter on read: samples older than now - window are not returned.
  EXPECT_EQ(h.Points("n", "u", 100, 15000).size(), 3u);  // 10000..12000
}

}  // namespace
}  // namespace npushare::dashboard
