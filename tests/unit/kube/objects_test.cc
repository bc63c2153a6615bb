#include "kube/objects.h"

#include <gtest/gtest.h>

namespace npushare::kube {
namespace {

using nlohmann::json;

TEST(ObjectsTest, ParsesPodViewAndKeepsNumbersAsText) {
  json pod = json::parse(R"({"metadata":{"name":"p","namespace":"n","resourceVersion":"7",
    "annotations":{"a":"b"},"labels":{"l":"v"},"generation":3},
    "spec":{"nodeName":"node-a","containers":[{"name":"c",
      "resources":{"limits":{"huawei.com/Ascend910":1,"memory":"1Gi"}}}]},
    "status":{"phase":"Running"},"unknownField":{"x":1}})");
  auto v = ParsePod(pod);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->meta.name, "p");
  EXPECT_EQ(v->meta.namespace_name, "n");
  EXPECT_EQ(v->meta.generation, 3);
  EXPECT_EQ(v->meta.annotations.at("a"), "b");
  EXPECT_EQ(v->node_name, "node-a");
  EXPECT_EQ(v->phase, "Running");
  ASSERT_EQ(v->containers.size(), 1u);
  EXPECT_EQ(v->containers[0].limits.at("huawei.com/Ascend910"), "1");
  EXPECT_EQ(v->containers[0].limits.at("memory"), "1Gi");
  EXPECT_EQ(ObjectKey(pod), "n/p");
  EXPECT_EQ(ResourceVersionOf(pod), "7");
}

TEST(ObjectsTest, RejectsWrongTypesWithoutThrowing) {
  EXPECT_EQ(ParseObjectMeta(json::array()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseObjectMeta(json{{"metadata", 1}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseObjectMeta(json::parse(R"({"metadata":{"name":5}})")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseObjectMeta(json::parse(R"({"metadata":{"labels":{"a":1}}})")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePod(json::parse(R"({"metadata":{},"spec":{"containers":{}}})")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ObjectKey(json(3)), "");
}

TEST(ObjectsTest, SafeAccessorsNeverThrowOrInsert) {
  const json obj = json::parse(R"({"s":"x","i":3,"b":true,"o":{"k":"v"}})");
  EXPECT_EQ(StringField(obj, "s"), "x");
  EXPECT_EQ(StringField(obj, "i", "dflt"), "dflt");
  EXPECT_EQ(IntField(obj, "i", 0), 3);
  EXPECT_EQ(IntField(obj, "s", -1), -1);
  EXPECT_TRUE(BoolField(obj, "b", false));
  EXPECT_FALSE(BoolField(obj, "missing", false));
  EXPECT_EQ(StringField(Field(obj, "o"), "k"), "v");
  EXPECT_TRUE(Field(obj, "missing").is_null());
  EXPECT_TRUE(Field(json(5), "x").is_null());
  EXPECT_EQ(obj.size(), 4u);
}

TEST(ObjectsTest, NodeView) {
  json node = json::parse(R"({"metadata":{"name":"n1"},"spec":{"unschedulable":true},
    "status":{"allocatable":{"cpu":"4"},"conditions":[{"type":"Ready","status":"True"}]}})");
  auto v = ParseNode(node);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ready);
  EXPECT_TRUE(v->unschedulable);
  EXPECT_EQ(v->allocatable.at("cpu"), "4");
  EXPECT_EQ(ObjectKey(node), "n1");
}

TEST(ObjectsTest, Rfc3339RoundTrip) {
  auto t = std::chrono::system_clock::from_time_t(1714557600) + std::chrono::microseconds(1234);
  EXPECT_EQ(FormatRfc3339(t, false), "2024-05-01T10:00:00Z");
  EXPECT_EQ(FormatRfc3339(t, true), "2024-05-01T10:00:00.001234Z");
  auto back = ParseRfc3339("2024-05-01T10:00:00.001234Z");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
  EXPECT_EQ(ParseRfc3339("2024-05-01 10:00").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRfc3339("2024-05-01T10:00:00+02:00").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare::kube
