#include "common/quantity.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>

namespace npushare {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Quantity MustParse(const std::string& s) {
  auto q = Quantity::Parse(s);
  EXPECT_TRUE(q.ok()) << s << ": " << q.status().ToString();
  if (!q.ok())
    return *Quantity::Parse("0");
  return *std::move(q);
}

// k8s-apis.md §5.4 worked examples.
TEST(QuantityTest, WorkedExamples) {
  struct Case {
    const char* in;
    int64_t value;
    std::optional<int64_t> as_int64;
  };
  const Case cases[] = {
      {"4096", 4096, 4096},
      {"16Gi", 17179869184, 17179869184},
      {"4k", 4000, 4000},
      {"1e3", 1000, 1000},
      {"1E", 1000000000000000000, 1000000000000000000},
      {"1.5", 2, std::nullopt},
      {"100m", 1, std::nullopt},
  };
  for (const auto& c : cases) {
    Quantity q = MustParse(c.in);
    EXPECT_EQ(q.Value(), c.value) << c.in;
    EXPECT_EQ(q.AsInt64(), c.as_int64) << c.in;
    EXPECT_EQ(q.original(), c.in);
  }
}

TEST(QuantityTest, InvalidInputs) {
  // §5.1 invalid examples plus the capitalisation and whitespace rules.
  for (const char* s :
       {"",      "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i",  "-3.01e-",
        " 1",    "1 ",    "1K",     "K",     "gi",    "1gi",  "1GB",  "1G i",
        "mi",    "1i",    "1e",     "1E+",   "1e-",   "1ee3", "1Ki5", "1m3",
        "1e3e3", "1e1.5", "1,5",    "0x10",  "1_000", "--1",  "+-1",  "1e99999999999999999999",
        "\xff",  "1\n",   "١"}) {
    auto q = Quantity::Parse(s);
    EXPECT_FALSE(q.ok()) << "'" << s << "' parsed";
    if (!q.ok()) {
      EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument) << s;
    }
  }
}

TEST(QuantityTest, SuffixesAreCaseSensitive) {
  EXPECT_EQ(MustParse("1k").Value(), 1000);
  EXPECT_EQ(MustParse("1M").Value(), 1000000);
  EXPECT_EQ(MustParse("1m").MilliValue(), 1);
  EXPECT_EQ(MustParse("1Ki").Value(), 1024);
  EXPECT_EQ(MustParse("1Mi").Value(), 1048576);
  EXPECT_EQ(MustParse("1G").Value(), 1000000000);
  EXPECT_EQ(MustParse("1T").Value(), 1000000000000);
  EXPECT_EQ(MustParse("1P").Value(), 1000000000000000);
  EXPECT_EQ(MustParse("1Ti").Value(), int64_t{1} << 40);
  EXPECT_EQ(MustParse("1Pi").Value(), int64_t{1} << 50);
  EXPECT_EQ(MustParse("1Ei").Value(), int64_t{1} << 60);
  EXPECT_EQ(MustParse("1n").MilliValue(), 1);
  EXPECT_EQ(MustParse("1u").MilliValue(), 1);
}

TEST(QuantityTest, ExponentForms) {
  EXPECT_EQ(MustParse("1.5E-3").MilliValue(), 2);  // 1.5m rounds up
  EXPECT_EQ(MustParse("1.3E+6").Value(), 1300000);
  EXPECT_EQ(MustParse("1e+3").AsInt64(), 1000);
  EXPECT_EQ(MustParse("1e03").AsInt64(), 1000);
  EXPECT_EQ(MustParse("1E5").Value(), 100000);  // "E5" is an exponent, not exa
  EXPECT_EQ(MustParse("5e-1").Value(), 1);
  EXPECT_EQ(MustParse("5e-1").AsInt64(), std::nullopt);
}

TEST(QuantityTest, TrollCasesUpstreamAccepts) {
  EXPECT_EQ(MustParse("1.").Value(), 1);
  EXPECT_EQ(MustParse("1.G").Value(), 1000000000);
  EXPECT_EQ(MustParse(".5").MilliValue(), 500);
  // Upstream's scanner accepts a number part without digits and reads it as zero.
  for (const char* s : {".", "+", "-", "-.", "E", ".Gi", "+k"}) {
    Quantity q = MustParse(s);
    EXPECT_TRUE(q.IsZero()) << s;
    EXPECT_EQ(q.Value(), 0) << s;
  }
  // ...except where upstream takes its big-decimal path, which needs a digit.
  EXPECT_FALSE(Quantity::Parse(".Ei").ok());
  EXPECT_FALSE(Quantity::Parse(".e-20").ok());
}

TEST(QuantityTest, ValueRoundsAwayFromZero) {
  EXPECT_EQ(MustParse("1500m").Value(), 2);
  EXPECT_EQ(MustParse("0.5").Value(), 1);
  EXPECT_EQ(MustParse("100m").Value(), 1);
  EXPECT_EQ(MustParse("2000m").Value(), 2);
  EXPECT_EQ(MustParse("-1500m").Value(), -2);
  EXPECT_EQ(MustParse("-0.0000000001").Value(), -1);
  EXPECT_EQ(MustParse("1.0001").MilliValue(), 1001);
  EXPECT_EQ(MustParse("1.5").MilliValue(), 1500);
  EXPECT_EQ(MustParse("-1.5").MilliValue(), -1500);
}

TEST(QuantityTest, NanoRoundingUp) {
  Quantity tiny = MustParse("0.0000000001");  // 0.1n -> 1n
  EXPECT_FALSE(tiny.IsZero());
  EXPECT_FALSE(tiny.IsInteger());
  EXPECT_EQ(tiny.MilliValue(), 1);
  EXPECT_EQ(tiny.Value(), 1);
  Quantity q = MustParse("3.001n");  // -> 4n
  EXPECT_EQ(q.MilliValue(), 1);
  EXPECT_EQ(MustParse("1e-999999999").Value(), 1);
  EXPECT_EQ(MustParse("0.9999999999").Value(), 1);
  // 0.9999999999 rounds to 1.000000000 exactly, which is an integer.
  EXPECT_TRUE(MustParse("0.9999999999").IsInteger());
  EXPECT_TRUE(MustParse("1.0000000001").Value() == 2);
}

TEST(QuantityTest, AsInt64FollowsUpstreamFastPath) {
  EXPECT_EQ(MustParse("0").AsInt64(), 0);
  EXPECT_EQ(MustParse("-0").AsInt64(), 0);
  EXPECT_EQ(MustParse("-5").AsInt64(), -5);
  EXPECT_EQ(MustParse("+5").AsInt64(), 5);
  EXPECT_EQ(MustParse("007").AsInt64(), 7);
  EXPECT_EQ(MustParse("1.0").AsInt64(), std::nullopt);    // scale -1 even though integral
  EXPECT_EQ(MustParse("0.5Gi").AsInt64(), std::nullopt);  // fractional binary: big path
  EXPECT_EQ(MustParse("0.5Gi").Value(), 536870912);
  EXPECT_TRUE(MustParse("0.5Gi").IsInteger());
  EXPECT_EQ(MustParse("1.5Gi").AsInt64(), std::nullopt);
  EXPECT_EQ(MustParse("999999999999999999").AsInt64(), 999999999999999999);  // 18 digits
  EXPECT_EQ(MustParse("1000000000000000000").AsInt64(), std::nullopt);       // 19 digits
  EXPECT_EQ(MustParse("1000000000000000000").Value(), 1000000000000000000);
  EXPECT_EQ(MustParse("1Ti").AsInt64(), int64_t{1} << 40);
  EXPECT_EQ(MustParse("99Ti").AsInt64(), 99 * (int64_t{1} << 40));
  EXPECT_EQ(MustParse("100Ti").AsInt64(), std::nullopt);  // precision exhausted
  EXPECT_EQ(MustParse("100Ti").Value(), 100 * (int64_t{1} << 40));
  EXPECT_EQ(MustParse("12345Gi").AsInt64(), 12345 * (int64_t{1} << 30));
  EXPECT_EQ(MustParse("123456Gi").AsInt64(), std::nullopt);
  EXPECT_EQ(MustParse("1Pi").AsInt64(), std::nullopt);
  EXPECT_EQ(MustParse("1Ei").AsInt64(), std::nullopt);
  EXPECT_EQ(MustParse("9E").AsInt64(), 9000000000000000000);
  EXPECT_EQ(MustParse("10E").AsInt64(), std::nullopt);  // overflows int64
  EXPECT_EQ(MustParse("1e18").AsInt64(), 1000000000000000000);
  EXPECT_EQ(MustParse("1e19").AsInt64(), std::nullopt);
  EXPECT_EQ(MustParse("0e999").AsInt64(), 0);
  EXPECT_EQ(MustParse("1.5k").AsInt64(), 1500);  // scale 3-1 = 2 >= 0
  EXPECT_EQ(MustParse("1500m").AsInt64(), std::nullopt);
  EXPECT_EQ(MustParse("1000m").AsInt64(), std::nullopt);
}

TEST(QuantityTest, BinaryValuesAreCappedAtInt64Max) {
  Quantity q = MustParse("8Ei");  // 2^63
  EXPECT_EQ(q.Value(), kMax);
  EXPECT_TRUE(q.IsInteger());
  EXPECT_EQ(MustParse("7.9999999999999999999Ei").Value(), kMax);
  EXPECT_EQ(MustParse("-8Ei").Value(), -kMax);  // magnitude capped, sign kept
}

TEST(QuantityTest, HugeValuesSaturate) {
  Quantity q = MustParse("1e999999999");
  EXPECT_EQ(q.Value(), kMax);
  EXPECT_EQ(q.MilliValue(), kMax);
  EXPECT_EQ(q.AsInt64(), std::nullopt);
  EXPECT_TRUE(q.IsInteger());
  EXPECT_EQ(MustParse("-1e999999999").Value(), kMin);
  EXPECT_EQ(MustParse("1e9223372036854775807").Value(), kMax);
  EXPECT_EQ(MustParse("1e-9223372036854775808").Value(), 1);
  EXPECT_EQ(MustParse("10E").Value(), kMax);
  EXPECT_EQ(MustParse("9223372036854775807").Value(), kMax);
  EXPECT_EQ(MustParse("9223372036854775806").Value(), kMax - 1);
  EXPECT_EQ(MustParse("9223372036854775806").MilliValue(), kMax);
  EXPECT_EQ(MustParse("-9223372036854775808").Value(), kMin);
  EXPECT_EQ(MustParse("9223372036854775").MilliValue(), 9223372036854775000);
  std::string hundred(100, '7');
  Quantity h = MustParse(hundred);
  EXPECT_EQ(h.Value(), kMax);
  EXPECT_EQ(h.AsInt64(), std::nullopt);
  std::string frac = "0." + std::string(99, '0') + "1";
  EXPECT_EQ(MustParse(frac).MilliValue(), 1);
}

TEST(QuantityTest, LengthIsLimited) {
  std::string ok(Quantity::kMaxQuantityLength, '1');
  EXPECT_TRUE(Quantity::Parse(ok).ok());
  std::string too_long(Quantity::kMaxQuantityLength + 1, '1');
  auto q = Quantity::Parse(too_long);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
}

TEST(QuantityTest, SignAndZeroPredicates) {
  EXPECT_TRUE(MustParse("-0").IsZero());
  EXPECT_FALSE(MustParse("-0").IsNegative());
  EXPECT_TRUE(MustParse("-1m").IsNegative());
  EXPECT_FALSE(MustParse("-1m").IsInteger());
  EXPECT_TRUE(MustParse("0.000").IsZero());
  EXPECT_TRUE(MustParse("0.000").IsInteger());
  EXPECT_TRUE(MustParse("1.000").IsInteger());
  EXPECT_TRUE(MustParse("1500m").IsNegative() == false);
  EXPECT_FALSE(MustParse("1500m").IsInteger());
  EXPECT_TRUE(MustParse("2000m").IsInteger());
  EXPECT_TRUE(MustParse("1.5k").IsInteger());
  EXPECT_FALSE(MustParse("1.1Ki").IsInteger());  // 1126.4
  EXPECT_EQ(MustParse("1.1Ki").Value(), 1127);
}

// Fuzz-ish: random strings over the quantity alphabet never crash, and whatever parses has
// self-consistent accessors.
TEST(QuantityTest, RandomInputsNeverCrash) {
  const std::string alphabet = "0123456789.+-eEinumkKMGTP ";
  std::mt19937 rng(12345);  // fixed seed: reproducible
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int len = static_cast<int>(rng() % 12);
    for (int j = 0; j < len; ++j)
      s.push_back(alphabet[rng() % alphabet.size()]);
    auto q = Quantity::Parse(s);
    if (!q.ok())
      continue;
    ++parsed;
    if (q->IsZero()) {
      EXPECT_EQ(q->Value(), 0) << s;
      EXPECT_FALSE(q->IsNegative()) << s;
    } else {
      EXPECT_EQ(q->Value() < 0, q->IsNegative()) << s;
      EXPECT_NE(q->MilliValue(), 0) << s;
    }
    if (auto v = q->AsInt64()) {
      EXPECT_EQ(*v, q->Value()) << s;
      EXPECT_TRUE(q->IsInteger()) << s;
    }
  }
  EXPECT_GT(parsed, 100);  // the generator does reach the valid space
}

}  // namespace
}  // namespace npushare
