// Patch semantics of the local API server (sim/kube/patch.h).
#include "sim/kube/patch.h"

#include <gtest/gtest.h>

namespace npushare::kube_local {
namespace {

using nlohmann::json;

const json kPod = json::parse(R"({"metadata":{"name":"p","annotations":{"a":"1","b":"2"},
  "finalizers":["x"]},
  "spec":{"containers":[{"name":"main","image":"m:1","env":[{"name":"A","value":"1"}]},
                        {"name":"side","image":"s:1"}],
          "tolerations":[{"key":"k1"}]}})");

TEST(MergePatchTest, NullDeletesAndArraysAreReplaced) {
  auto r = ApplyMergePatch(kPod, json::parse(R"({"metadata":{"annotations":{"a":null,"c":"3"}},
    "spec":{"containers":[{"name":"only"}]}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["metadata"]["annotations"], json::parse(R"({"b":"2","c":"3"})"));
  EXPECT_EQ((*r)["spec"]["containers"].size(), 1u);
  EXPECT_EQ(ApplyMergePatch(kPod, json::array()).status().code(), StatusCode::kInvalidArgument);
}

TEST(StrategicMergePatchTest, MergesKeyedListsAndNestedKeyedLists) {
  auto r = ApplyStrategicMergePatch(kPod, json::parse(R"({"spec":{"containers":[
    {"name":"main","env":[{"name":"B","value":"2"}]},{"name":"new","image":"n"}]}})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const json& cs = (*r)["spec"]["containers"];
  ASSERT_EQ(cs.size(), 3u);
  EXPECT_EQ(cs[0]["image"], "m:1");
  EXPECT_EQ(cs[0]["env"].size(), 2u);
  EXPECT_EQ(cs[2]["name"], "new");
  // Lists without a merge key are replaced, as in a merge patch.
  r = ApplyStrategicMergePatch(kPod, json::parse(R"({"spec":{"tolerations":[{"key":"k2"}]}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["spec"]["tolerations"], json::parse(R"([{"key":"k2"}])"));
}

TEST(StrategicMergePatchTest, Directives) {
  auto r = ApplyStrategicMergePatch(kPod, json::parse(R"({
    "metadata":{"finalizers":["y"],"$deleteFromPrimitiveList/finalizers":["x"]},
    "spec":{"containers":[{"name":"side","$patch":"delete"}],
            "$setElementOrder/containers":[{"name":"main"}]}})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["metadata"]["finalizers"], json::parse(R"(["y"])"));
  ASSERT_EQ((*r)["spec"]["containers"].size(), 1u);
  EXPECT_EQ((*r)["spec"]["containers"][0]["name"], "main");
  r = ApplyStrategicMergePatch(kPod, json::parse(R"({"metadata":{"annotations":
    {"$patch":"replace","z":"9"}}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["metadata"]["annotations"], json::parse(R"({"z":"9"})"));
  EXPECT_EQ(ApplyStrategicMergePatch(kPod, json::parse(R"({"spec":{"$patch":"explode"}})"))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(StrategicMergePatchTest, DeepNestingIsRejectedNotOverflowed) {
  json deep = json::object();
  json* cur = &deep;
  for (int i = 0; i < 200; ++i) {
    (*cur)["x"] = json::object();
    cur = &(*cur)["x"];
  }
  EXPECT_EQ(ApplyStrategicMergePatch(kPod, deep).status().code(), StatusCode::kInvalidArgument);
}

TEST(JsonPatchTest, AppliesOpsAndReportsFailures) {
  auto r = ApplyJsonPatch(kPod, json::parse(R"([
    {"op":"test","path":"/metadata/name","value":"p"},
    {"op":"replace","path":"/spec/containers/0/image","value":"m:2"},
    {"op":"remove","path":"/metadata/annotations/a"}])"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["spec"]["containers"][0]["image"], "m:2");
  EXPECT_FALSE((*r)["metadata"]["annotations"].contains("a"));
  EXPECT_EQ(ApplyJsonPatch(kPod, json::parse(R"([{"op":"test","path":"/metadata/name",
    "value":"q"}])"))
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      ApplyJsonPatch(kPod, json::parse(R"([{"op":"remove","path":"/nope"}])")).status().code(),
      StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyJsonPatch(kPod, json::parse(R"([{"path":"/x"}])")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyJsonPatch(kPod, json::object()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare::kube_local
