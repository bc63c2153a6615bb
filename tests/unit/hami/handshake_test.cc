#include "hami/handshake.h"

#include <gtest/gtest.h>

#include "hami/civil_time.h"

namespace npushare::hami {
namespace {

const int64_t kNow = CivilSecondsOf({2026, 8, 21, 6, 20, 39});

HealthDecision Check(std::optional<std::string_view> value, bool alloc = false,
                     bool get_ok = true) {
  return CheckHealth(HealthInput{value, kNow, alloc, get_ok});
}

TEST(HandshakeTest, Formats) {
  EXPECT_EQ(FormatReportedHandshake(kNow + 1), "Reported_2026.08.21 06:20:40");
  EXPECT_EQ(FormatRequestingHandshake(kNow), "Requesting_2026-08-21 06:20:39");
}

TEST(HandshakeTest, RequestingFreshOrUnreadableIsHealthy) {
  for (const char* v : {"Requesting_2128-12-02 00:00:00", "Requesting", "Requesting_not-a-time",
                        "Requesting_2026-08-21 06:19:40"}) {
    const HealthDecision d = Check(v);
    EXPECT_TRUE(d.healthy) << v;
    EXPECT_FALSE(d.need_update) << v;
    EXPECT_EQ(d.action, HandshakeAction::kNone) << v;
  }
}

TEST(HandshakeTest, RequestingExpired) {
  HealthDecision d = Check("Requesting_2026-08-21 06:19:38");
  EXPECT_FALSE(d.healthy);
  EXPECT_EQ(d.action, HandshakeAction::kDeleteAnnotation);
  d = Check("Requesting_2026-08-21 06:19:39");  // exactly 60 s: expired
  EXPECT_FALSE(d.healthy);
  d = Check("Requesting_2024-01-02 00:00:00", /*alloc=*/true);
  EXPECT_TRUE(d.healthy);
  EXPECT_EQ(d.action, HandshakeAction::kNone);
}

TEST(HandshakeTest, OtherValuesRequestRefresh) {
  for (std::optional<std::string_view> v :
       {std::optional<std::string_view>(), std::optional<std::string_view>("Deleted_x"),
        std::optional<std::string_view>("Reported_2026.08.21 06:20:40"),
        std::optional<std::string_view>(std::string_view("\0\xff", 2))}) {
    const HealthDecision d = Check(v);
    EXPECT_TRUE(d.healthy);
    EXPECT_TRUE(d.need_update);
    EXPECT_EQ(d.action, HandshakeAction::kPatchRequesting);
    EXPECT_EQ(d.patch_value, "Requesting_2026-08-21 06:20:39");
  }
  const HealthDecision d = Check("Reported_x", false, /*get_ok=*/false);
  EXPECT_TRUE(d.healthy);
  EXPECT_FALSE(d.need_update);
  EXPECT_EQ(d.action, HandshakeAction::kNone);
}

}  // namespace
}  // namespace npushare::hami
