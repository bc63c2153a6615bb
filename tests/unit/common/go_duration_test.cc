// ParseGoDuration: Go's time.ParseDuration for non-negative values (cases moved from the
// kube-scheduler-sim config test and the scheduler flags test).
#include "common/go_duration.h"

#include <gtest/gtest.h>

namespace npushare {
namespace {

using std::chrono::nanoseconds;

TEST(GoDurationTest, AcceptsGoForms) {
  EXPECT_EQ(*ParseGoDuration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(*ParseGoDuration("1m30s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseGoDuration("1.5h"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseGoDuration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseGoDuration("5m"), std::chrono::minutes(5));
  EXPECT_EQ(*ParseGoDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseGoDuration("2500ms"), std::chrono::milliseconds(2500));
  EXPECT_EQ(*ParseGoDuration("10us"), std::chrono::microseconds(10));
  EXPECT_EQ(*ParseGoDuration("10µs"), std::chrono::microseconds(10));
  EXPECT_EQ(*ParseGoDuration("7ns"), nanoseconds(7));
  EXPECT_EQ(*ParseGoDuration(".5s"), std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseGoDuration("0"), nanoseconds(0));
}

TEST(GoDurationTest, RejectsEverythingElse) {
  for (const char* bad : {"", "s", "m", "10", "1x", "5x", "-1s", "-5s", "5 m", "1..2s", ".s",
                          "1e400h", "99999999999999999h"}) {
    EXPECT_EQ(ParseGoDuration(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseGoDuration(std::string(65, '1') + "s").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare
