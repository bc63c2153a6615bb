#include "hami/civil_time.h"

#include <gtest/gtest.h>

namespace npushare::hami {
namespace {

TEST(CivilTimeTest, KnownDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(CivilSecondsOf({2024, 1, 1, 0, 0, 0}), 1704067200);
  const CivilTime t = CivilFromSeconds(1787293239);  // 2026-08-21 06:20:39
  EXPECT_EQ(FormatCivil(t, "YYYY-MM-DD hh:mm:ss"), "2026-08-21 06:20:39");
}

TEST(CivilTimeTest, RoundTripsAcrossEras) {
  for (int64_t s : {int64_t{-62135596800}, int64_t{-1}, int64_t{0}, int64_t{951782400},
                    int64_t{253402300799}}) {
    EXPECT_EQ(CivilSecondsOf(CivilFromSeconds(s)), s) << s;
  }
}

TEST(CivilTimeTest, LeapYears) {
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(1900, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
  EXPECT_FALSE(ValidCivil({2023, 2, 29, 0, 0, 0}));
  EXPECT_TRUE(ValidCivil({2024, 2, 29, 23, 59, 59}));
}

}  // namespace
}  // namespace npushare::hami
