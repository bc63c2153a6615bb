#include "hami/internal/go_json.h"

#include <gtest/gtest.h>

namespace npushare::hami::hami_internal {
namespace {

std::string SyntaxError(std::string_view s) {
  const Status st = CheckGoJsonSyntax(s, 16);
  return st.ok() ? "OK" : st.message();
}

TEST(GoJsonTest, AcceptsValidJson) {
  EXPECT_EQ(SyntaxError(" [1, -0.5e+3, \"a\\u00e9\", true, false, null, {\"k\": {}}] "), "OK");
}

TEST(GoJsonTest, ScannerMessagesMatchGo) {
  EXPECT_EQ(SyntaxError(""), "unexpected end of JSON input");
  EXPECT_EQ(SyntaxError("["), "unexpected end of JSON input");
  EXPECT_EQ(SyntaxError("not-json"), "invalid character 'o' in literal null (expecting 'u')");
  EXPECT_EQ(SyntaxError("x"), "invalid character 'x' looking for beginning of value");
  EXPECT_EQ(SyntaxError("[1,]"), "invalid character ']' looking for beginning of value");
  EXPECT_EQ(SyntaxError("{1:2}"),
            "invalid character '1' looking for beginning of object key string");
  EXPECT_EQ(SyntaxError("{\"a\" 1}"), "invalid character '1' after object key");
  EXPECT_EQ(SyntaxError("{\"a\":1 2}"), "invalid character '2' after object key:value pair");
  EXPECT_EQ(SyntaxError("[1 2]"), "invalid character '2' after array element");
  EXPECT_EQ(SyntaxError("[] x"), "invalid character 'x' after top-level value");
  EXPECT_EQ(SyntaxError("-"), "invalid character ' ' in numeric literal");
  EXPECT_EQ(SyntaxError("1."), "invalid character ' ' after decimal point in numeric literal");
  EXPECT_EQ(SyntaxError("01"), "invalid character '1' after top-level value");
  EXPECT_EQ(SyntaxError("\"a\nb\""), "invalid character '\\n' in string literal");
  EXPECT_EQ(SyntaxError("\"\\q\""), "invalid character 'q' in string escape code");
  EXPECT_EQ(SyntaxError(std::string("\0", 1)),
            "invalid character '\\x00' looking for beginning of value");
}

TEST(GoJsonTest, RejectsDeepNestingAndBadUtf8) {
  EXPECT_EQ(SyntaxError(std::string(17, '[') + std::string(17, ']')), "exceeded max depth");
  EXPECT_EQ(SyntaxError(std::string(16, '[') + std::string(16, ']')), "OK");
  EXPECT_EQ(SyntaxError(std::string(100000, '[')), "exceeded max depth");
  EXPECT_EQ(SyntaxError("\"\xff\""), "invalid UTF-8 in string literal");
  EXPECT_EQ(SyntaxError("\"\xed\xa0\x80\""), "invalid UTF-8 in string literal");  // surrogate
}

TEST(GoJsonTest, ParseGoJsonEnforcesSize) {
  EXPECT_FALSE(ParseGoJson("[1]", 2, 8).ok());
  auto j = ParseGoJson("{\"b\":1,\"a\":2}", 100, 8);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->begin().key(), "b");  // input order kept
}

TEST(GoJsonTest, AppendGoJsonStringEscapesLikeMarshal) {
  std::string out;
  AppendGoJsonString(out, "a<b>&\"\\\n\x01\xff\xe2\x80\xa8");
  EXPECT_EQ(out, "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\u0001\\ufffd\\u2028\"");
}

}  // namespace
}  // namespace npushare::hami::hami_internal
