#include "kube/api_error.h"

#include <gtest/gtest.h>

namespace npushare::kube {
namespace {

std::string StatusBody(int code, const std::string& reason) {
  return R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"m","reason":")" +
         reason + R"(","code":)" + std::to_string(code) + "}";
}

TEST(ApiErrorTest, SuccessIsOk) {
  EXPECT_TRUE(StatusFromHttp(200, "{}").ok());
  EXPECT_TRUE(StatusFromHttp(201, "").ok());
}

TEST(ApiErrorTest, MapsCodesAndReasons) {
  EXPECT_TRUE(IsNotFound(StatusFromHttp(404, StatusBody(404, "NotFound"))));
  EXPECT_TRUE(IsAlreadyExists(StatusFromHttp(409, StatusBody(409, "AlreadyExists"))));
  EXPECT_TRUE(IsConflict(StatusFromHttp(409, StatusBody(409, "Conflict"))));
  EXPECT_TRUE(IsGone(StatusFromHttp(410, StatusBody(410, "Expired"))));
  EXPECT_TRUE(IsGone(StatusFromHttp(410, "")));
  EXPECT_EQ(StatusFromHttp(403, StatusBody(403, "Forbidden")).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusFromHttp(429, "").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusFromHttp(500, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromHttp(503, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromHttp(504, "").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(StatusFromHttp(422, StatusBody(422, "Invalid")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromHttp(401, "").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusFromHttp(418, "").code(), StatusCode::kUnknown);
}

TEST(ApiErrorTest, GarbageBodyKeepsHttpMapping) {
  EXPECT_TRUE(IsNotFound(StatusFromHttp(404, "<html>not json")));
  EXPECT_TRUE(IsNotFound(StatusFromHttp(404, R"({"kind":"Status","reason":5})")));
  EXPECT_EQ(StatusFromHttp(409, std::string(100000, '{')).code(), StatusCode::kAborted);
}

TEST(ApiErrorTest, HttpReasonRoundTrips) {
  for (StatusCode c : {StatusCode::kNotFound, StatusCode::kAlreadyExists, StatusCode::kAborted,
                       StatusCode::kOutOfRange, StatusCode::kPermissionDenied,
                       StatusCode::kResourceExhausted, StatusCode::kInvalidArgument}) {
    HttpReason r = HttpReasonFor(c);
    EXPECT_EQ(StatusFromHttp(r.code, StatusBody(r.code, std::string(r.reason))).code(), c);
  }
}

}  // namespace
}  // namespace npushare::kube
