#include "hami/runtime_info.h"

#include <gtest/gtest.h>

namespace npushare::hami {
namespace {

TEST(RuntimeInfoTest, EncodesSchedulerBytes) {
  EXPECT_EQ((EncodeRuntimeInfo({{"device-0", "vir08", 8738, 1}})),
            R"([{"UUID":"device-0","temp":"vir08","memory":8738,"core":1}])");
  EXPECT_EQ((EncodeRuntimeInfo({{"device-zero-core", "vir08", 8738, 0}})),
            R"([{"UUID":"device-zero-core","temp":"vir08","memory":8738}])");
  EXPECT_EQ((EncodeRuntimeInfo({{"a", "", 8192, 5}, {"u1", "", 65536, std::nullopt}})),
            R"([{"UUID":"a","memory":8192,"core":5},{"UUID":"u1","memory":65536}])");
  EXPECT_EQ((EncodeRuntimeInfo({})), "[]");
  EXPECT_EQ((EncodeRuntimeInfo({{"", "", std::nullopt, std::nullopt}})), "[{}]");
}

TEST(RuntimeInfoTest, LookupDropsEmptyUuidLastWins) {
  auto l = DecodeRuntimeInfoLookup(
      R"([{"temp":"vir01"},{"UUID":"u1","temp":"a","memory":1},{"uuid":"u1","TEMP":"b","Memory":2}])",
      "Ascend910B3");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->size(), 1u);
  const RuntimeInfoEntry& e = l->at("u1");
  EXPECT_EQ(e.temp, "b");
  EXPECT_EQ(e.memory, 2);
  EXPECT_EQ(e.core, std::nullopt);
}

TEST(RuntimeInfoTest, NullAndZeroAreDistinct) {
  auto l = DecodeRuntimeInfoLookup(R"([{"UUID":"u","memory":null,"core":0}])", "cw");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->at("u").memory, std::nullopt);
  EXPECT_EQ(l->at("u").core, 0);
  auto n = DecodeRuntimeInfoLookup("null", "cw");
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->empty());
}

TEST(RuntimeInfoTest, ErrorsNameTheAnnotation) {
  auto l = DecodeRuntimeInfoLookup("not-json", "Ascend910");
  EXPECT_EQ(l.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(l.status().message(),
            "annotation huawei.com/Ascend910 value not-json invalid: invalid character 'o' in "
            "literal null (expecting 'u')");
  for (const char* bad : {"", "{}", R"([{"core":2147483648}])", R"([{"memory":1.5}])",
                          R"([{"UUID":1}])", R"(["x"])", "[1,]"}) {
    auto r = DecodeRuntimeInfoLookup(bad, "cw");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message().rfind("annotation huawei.com/cw value ", 0), 0u) << bad;
  }
}

TEST(RuntimeInfoTest, HostileInput) {
  EXPECT_FALSE(DecodeRuntimeInfoLookup(std::string(kMaxRuntimeInfoBytes + 1, ' '), "cw").ok());
  auto deep = DecodeRuntimeInfoLookup(std::string(100000, '['), "cw");
  ASSERT_FALSE(deep.ok());
  EXPECT_LT(deep.status().message().size(), 1024u);  // the echoed value is truncated
  EXPECT_FALSE(DecodeRuntimeInfoLookup("[{\"UUID\":\"\xc0\xaf\"}]", "cw").ok());
}

// The device plugin matches elements to containers by position (bug §9.10), so the list keeps
// every element, duplicates and empty UUIDs included, in order.
TEST(RuntimeInfoTest, ListKeepsEveryElementInOrder) {
  auto list = DecodeRuntimeInfoList(
      R"([{"UUID":"a","temp":"vir01"},{"UUID":""},{"UUID":"a","temp":"vir04","memory":12288}])",
      "cw");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].temp, "vir01");
  EXPECT_EQ((*list)[1].uuid, "");
  EXPECT_EQ((*list)[2].memory, 12288);
  EXPECT_TRUE(DecodeRuntimeInfoList("null", "cw")->empty());
  EXPECT_EQ(DecodeRuntimeInfoList("{}", "cw").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare::hami
