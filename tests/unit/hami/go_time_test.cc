#include "hami/go_time.h"

#include <gtest/gtest.h>

namespace npushare::hami {
namespace {

TEST(GoTimeTest, ParsesRfc3339WithZones) {
  auto t = ParseGoTime("2026-08-21T14:20:39+08:00", GoLayout::kRfc3339);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->utc_offset_seconds, 8 * 3600);
  EXPECT_EQ(t->civil.hour, 14);
  t = ParseGoTime("2024-01-01T00:00:00Z", GoLayout::kRfc3339);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->utc_offset_seconds, 0);
  t = ParseGoTime("2024-01-01T00:00:00.123-05:30", GoLayout::kRfc3339);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->utc_offset_seconds, -(5 * 3600 + 30 * 60));
}

TEST(GoTimeTest, ErrorTextsMatchGo) {
  auto t = ParseGoTime("lock", GoLayout::kRfc3339);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "parsing time \"lock\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"lock\" as "
            "\"2006\"");
  t = ParseGoTime("2024-13-01T00:00:00Z", GoLayout::kRfc3339);
  EXPECT_EQ(t.status().message(), "parsing time \"2024-13-01T00:00:00Z\": month out of range");
  t = ParseGoTime("2023-02-29T00:00:00Z", GoLayout::kRfc3339);
  EXPECT_EQ(t.status().message(), "parsing time \"2023-02-29T00:00:00Z\": day out of range");
  t = ParseGoTime("2024-01-01T00:00:00Zjunk", GoLayout::kRfc3339);
  EXPECT_EQ(t.status().message(),
            "parsing time \"2024-01-01T00:00:00Zjunk\": extra text: \"junk\"");
  t = ParseGoTime("2024-01-01 00:00:00", GoLayout::kRfc3339);
  EXPECT_EQ(t.status().message(),
            "parsing time \"2024-01-01 00:00:00\" as \"2006-01-02T15:04:05Z07:00\": cannot parse "
            "\" 00:00:00\" as \"T\"");
}

TEST(GoTimeTest, DateTimeAndDottedLayouts) {
  EXPECT_TRUE(ParseGoTime("2026-08-21 06:20:39", GoLayout::kDateTime).ok());
  EXPECT_TRUE(ParseGoTime("2026-08-21 6:20:39", GoLayout::kDateTime).ok());  // 1-digit hour
  EXPECT_TRUE(ParseGoTime("2026.08.21 06:20:39", GoLayout::kDotted).ok());
  EXPECT_FALSE(ParseGoTime("2026.08.21 06:20:39", GoLayout::kDateTime).ok());
  EXPECT_FALSE(ParseGoTime("2026-08-21 24:00:00", GoLayout::kDateTime).ok());
  EXPECT_FALSE(ParseGoTime("2026-8-21 06:20:39", GoLayout::kDateTime).ok());
  EXPECT_FALSE(ParseGoTime("", GoLayout::kDateTime).ok());
  EXPECT_FALSE(ParseGoTime(std::string("2026-08-21\0 06:20:39", 20), GoLayout::kDateTime).ok());
}

}  // namespace
}  // namespace npushare::hami
