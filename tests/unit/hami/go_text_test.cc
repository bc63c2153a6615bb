#include "hami/go_text.h"

#include <gtest/gtest.h>

namespace npushare::hami {
namespace {

TEST(GoQuoteTest, EscapesLikeStrconvQuote) {
  EXPECT_EQ(GoQuote("abc"), "\"abc\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote(std::string("\n\t\x01\x7f", 4)), "\"\\n\\t\\x01\\x7f\"");
  EXPECT_EQ(GoQuote(std::string("\0", 1)), "\"\\x00\"");
  EXPECT_EQ(GoQuote("\xff"), "\"\\xff\"");         // invalid UTF-8
  EXPECT_EQ(GoQuote("\xc3\xa9"), "\"\xc3\xa9\"");  // valid é kept
  EXPECT_EQ(GoQuote("\xc2\x85"), "\"\\u0085\"");   // C1 control
}

TEST(GoQuoteTest, QuoteByte) {
  EXPECT_EQ(GoQuoteByte('x'), "'x'");
  EXPECT_EQ(GoQuoteByte('\''), "'\\''");
  EXPECT_EQ(GoQuoteByte('"'), "'\"'");
  EXPECT_EQ(GoQuoteByte('\n'), "'\\n'");
  EXPECT_EQ(GoQuoteByte(0xe9), "'\xc3\xa9'");
}

TEST(GoDurationTest, FormatsLikeGo) {
  EXPECT_EQ(FormatGoDurationSeconds(300), "5m0s");
  EXPECT_EQ(FormatGoDurationSeconds(60), "1m0s");
  EXPECT_EQ(FormatGoDurationSeconds(30), "30s");
  EXPECT_EQ(FormatGoDurationSeconds(0), "0s");
  EXPECT_EQ(FormatGoDurationSeconds(3600), "1h0m0s");
  EXPECT_EQ(FormatGoDurationSeconds(3725), "1h2m5s");
  EXPECT_EQ(FormatGoDurationSeconds(-90), "-1m30s");
  EXPECT_FALSE(FormatGoDurationSeconds(INT64_MIN).empty());
}

TEST(ParseGoIntTest, AcceptsSignAndDigitsOnly) {
  EXPECT_EQ(ParseGoInt("42", 32), 42);
  EXPECT_EQ(ParseGoInt("+42", 32), 42);
  EXPECT_EQ(ParseGoInt("-42", 32), -42);
  EXPECT_EQ(ParseGoInt("007", 32), 7);
  EXPECT_EQ(ParseGoInt("2147483647", 32), 2147483647);
  EXPECT_EQ(ParseGoInt("-2147483648", 32), INT32_MIN);
  EXPECT_EQ(ParseGoInt("-9223372036854775808", 64), INT64_MIN);
  for (const char* bad : {"", "+", "-", " 1", "1 ", "1_000", "0x10", "1.0", "2147483648",
                          "-2147483649", "99999999999999999999999"}) {
    EXPECT_EQ(ParseGoInt(bad, 32), std::nullopt) << bad;
  }
  EXPECT_EQ(ParseGoInt("1", 1), std::nullopt);  // int1 holds only -1 and 0
  EXPECT_EQ(ParseGoInt("-1", 1), -1);
}

TEST(TrimGoSpaceTest, TrimsAsciiAndLatin1Spaces) {
  EXPECT_EQ(TrimGoSpace(" \t a b \n"), "a b");
  EXPECT_EQ(TrimGoSpace("\xc2\xa0x\xc2\x85"), "x");
  EXPECT_EQ(TrimGoSpace("   "), "");
}

}  // namespace
}  // namespace npushare::hami
