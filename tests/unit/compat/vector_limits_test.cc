// Tests of the defensive vector-file reader (issue 14, "tools that must not crash on bad
// input"): each hostile input found by the review is refused with kInvalidArgument before a
// handler could abort, allocate gigabytes or loop for minutes.
#include "compat/vector_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace npushare::compat {
namespace {

using nlohmann::json;

json Case(json input, std::string category = "node_register_encode") {
  return {{"id", "x-1"},
          {"category", std::move(category)},
          {"input", std::move(input)},
          {"expected", json::object()}};
}

TEST(VectorLimitsTest, ShippedShapesAreAccepted) {
  EXPECT_TRUE(ValidateVectorCase(Case({{"commonWord", "Ascend910B"}, {"devices_count", 8}})).ok());
  EXPECT_TRUE(
      ValidateVectorCase(Case({{"initial_text", ";;"}, {"calls", 3}}, "plugin_annotation_erase"))
          .ok());
  EXPECT_TRUE(ValidateVectorCase(Case({{"memory", -5}}, "trim_memory")).ok());
  EXPECT_TRUE(
      ValidateVectorCase(Case({{"lock_age_seconds", 100000000}}, "node_lock_acquire")).ok());
  EXPECT_TRUE(
      ValidateVectorCase(Case({{"containers", json::array({json::array()})}}, "pod_devices_encode"))
          .ok());
}

TEST(VectorLimitsTest, Issue14NumericCategoryIsRefused) {
  json c = Case(json::object());
  c["category"] = 7;
  EXPECT_EQ(ValidateVectorCase(c).code(), StatusCode::kInvalidArgument);
  c.erase("category");
  EXPECT_EQ(ValidateVectorCase(c).code(), StatusCode::kInvalidArgument);
}

TEST(VectorLimitsTest, Issue14NonStringIdIsRefused) {
  json c = Case(json::object());
  c["id"] = json::array();
  EXPECT_EQ(ValidateVectorCase(c).code(), StatusCode::kInvalidArgument);
  c["id"] = std::string(kMaxIdBytes + 1, 'i');
  EXPECT_EQ(ValidateVectorCase(c).code(), StatusCode::kInvalidArgument);
}

TEST(VectorLimitsTest, Issue14DevicesCountOutOfRangeIsRefused) {
  for (json bad : {json(-1), json(1e9), json(kMaxCount + 1), json(2.5)}) {
    EXPECT_EQ(ValidateVectorCase(Case({{"devices_count", bad}})).code(),
              StatusCode::kInvalidArgument)
        << bad.dump();
  }
  EXPECT_TRUE(ValidateVectorCase(Case({{"devices_count", kMaxCount}})).ok());
  // The same name may hold a list in another category (plugin_annotation_erase).
  EXPECT_TRUE(ValidateVectorCase(Case({{"pod_containers", json::array({"c"})}})).ok());
}

TEST(VectorLimitsTest, Issue14HugeCallsIsRefused) {
  EXPECT_EQ(ValidateVectorCase(Case({{"calls", 1000000000}}, "plugin_annotation_erase")).code(),
            StatusCode::kInvalidArgument);
}

TEST(VectorLimitsTest, NumbersOutsideInt32InInputAreRefused) {
  EXPECT_EQ(ValidateVectorCase(Case({{"usedcores", 1e10}}, "fit")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateVectorCase(Case({{"usedcores", 18446744073709551615ull}}, "fit")).code(),
            StatusCode::kInvalidArgument);
  // int64 fields may be larger, but must be whole and exactly representable.
  EXPECT_TRUE(ValidateVectorCase(Case({{"totalmem", 1e12}}, "fit")).ok());
  EXPECT_EQ(ValidateVectorCase(Case({{"totalmem", 1e17}}, "fit")).code(),
            StatusCode::kInvalidArgument);
}

TEST(VectorLimitsTest, OversizedStringsAndArraysAreRefused) {
  EXPECT_EQ(ValidateVectorCase(Case({{"text", std::string(kMaxStringBytes + 1, 'a')}}, "x")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ValidateVectorCase(Case({{"devices", json::array_t(kMaxContainerEntries + 1, json(1))}}, "x"))
          .code(),
      StatusCode::kInvalidArgument);
}

TEST(VectorLimitsTest, InputAndExpectedMustBeObjects) {
  json c = Case(json::object());
  c["input"] = "text";
  EXPECT_EQ(ValidateVectorCase(c).code(), StatusCode::kInvalidArgument);
  c = Case(json::object());
  c["expected"] = 3;
  EXPECT_EQ(ValidateVectorCase(c).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateVectorCase(json::array()).code(), StatusCode::kInvalidArgument);
}

TEST(VectorLimitsTest, Utf8Validation) {
  EXPECT_EQ(FirstInvalidUtf8("plain"), 5u);
  EXPECT_EQ(FirstInvalidUtf8("h\xC3\xA9"), 3u);         // é
  EXPECT_EQ(FirstInvalidUtf8("\xF0\x9F\x98\x80"), 4u);  // U+1F600
  EXPECT_EQ(FirstInvalidUtf8("ab\xFF"), 2u);            // never valid
  EXPECT_EQ(FirstInvalidUtf8("a\xC0\xAF"), 1u);         // overlong '/'
  EXPECT_EQ(FirstInvalidUtf8("\xED\xA0\x80"), 0u);      // surrogate
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("x\xE2\x82"), 1u);         // truncated
}

TEST(VectorLimitsTest, Issue14InvalidUtf8FileGetsItsOwnMessage) {
  auto r = ParseVectorFile("{\"cases\": [{\"id\": \"a\xFF\"}]}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(VectorLimitsTest, Issue14DeepNestingIsRefusedBeforeParsing) {
  const std::string deep =
      "{\"cases\": [" + std::string(100000, '[') + std::string(100000, ']') + "]}";
  size_t where = 0;
  EXPECT_GT(MaxJsonNesting(deep, kMaxVectorDepth, &where), kMaxVectorDepth);
  auto r = ParseVectorFile(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  // Brackets inside strings do not count.
  EXPECT_EQ(MaxJsonNesting("{\"a\": \"[[[[\\\"[[\"}", 3, &where), 1u);
}

TEST(VectorLimitsTest, FileShape) {
  EXPECT_TRUE(ParseVectorFile(R"({"cases": []})").ok());
  EXPECT_EQ(ParseVectorFile("[]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseVectorFile(R"({"cases": {}})").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseVectorFile(R"({"cases": [], "fixtures": 3})").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseVectorFile("{\"cases\": [1e999]}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseVectorFile("{\"cases\": [").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare::compat
