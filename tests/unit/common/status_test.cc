#include "common/status.h"

#include <gtest/gtest.h>

namespace npushare {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0)
    return InvalidArgumentError("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  NPUSHARE_ASSIGN_OR_RETURN(int h, Half(x));
  NPUSHARE_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  NPUSHARE_RETURN_IF_ERROR(Half(x));
  return OkStatus();
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ContextKeepsCode) {
  Status s = NotFoundError("x").WithContext("while loading y");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("while loading y"), std::string::npos);
}

TEST(ResultTest, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).code(), StatusCode::kInvalidArgument);
}

TEST(ResultTest, OkStatusIsNotAValue) {
  Result<int> r(OkStatus());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace npushare
