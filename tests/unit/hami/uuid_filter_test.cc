#include "hami/uuid_filter.h"

#include <gtest/gtest.h>

namespace npushare::hami {
namespace {

const std::string kCw = "Ascend910B3";

TEST(UuidFilterTest, Rules) {
  EXPECT_TRUE(CheckUuid({}, kCw, "abc"));
  EXPECT_TRUE(CheckUuid({{"hami.io/use-Ascend910B3-uuid", "abc,123"}}, kCw, "abc"));
  EXPECT_FALSE(CheckUuid({{"hami.io/use-Ascend910B3-uuid", "123"}}, kCw, "abc"));
  EXPECT_FALSE(CheckUuid({{"hami.io/no-use-Ascend910B3-uuid", "abc,123"}}, kCw, "abc"));
  EXPECT_FALSE(CheckUuid(
      {{"hami.io/use-Ascend910B3-uuid", "abc,123"}, {"hami.io/no-use-Ascend910B3-uuid", "abc"}},
      kCw, "abc"));
  EXPECT_TRUE(CheckUuid({{"hami.io/use-Ascend910B3-uuid", " abc , 123 "}}, kCw, "abc"));
  EXPECT_TRUE(CheckUuid({{"hami.io/use-Ascend910B3-uuid", "   "}}, kCw, "abc"));
  EXPECT_TRUE(CheckUuid({{"hami.io/no-use-Ascend910B3-uuid", ""}}, kCw, "abc"));
  // Matching is exact (no prefix/substring), and keys are per chip.
  EXPECT_FALSE(CheckUuid({{"hami.io/use-Ascend910B3-uuid", "abcd"}}, kCw, "abc"));
  EXPECT_TRUE(CheckUuid({{"hami.io/no-use-Ascend310P-uuid", "abc"}}, kCw, "abc"));
}

}  // namespace
}  // namespace npushare::hami
