#include "kube/selector.h"

#include <gtest/gtest.h>

namespace npushare::kube {
namespace {

using nlohmann::json;

json Pod() {
  return json::parse(R"({"metadata":{"name":"p","namespace":"ns1",
    "labels":{"app":"web","tier":"front"}},
    "spec":{"nodeName":"node-a","hostNetwork":true},"status":{"phase":"Running"}})");
}

TEST(LabelSelectorTest, EqualityAndInequality) {
  EXPECT_TRUE(LabelSelector::Parse("app=web")->Matches(Pod()));
  EXPECT_TRUE(LabelSelector::Parse("app==web,tier=front")->Matches(Pod()));
  EXPECT_FALSE(LabelSelector::Parse("app=db")->Matches(Pod()));
  EXPECT_FALSE(LabelSelector::Parse("app!=web")->Matches(Pod()));
  EXPECT_TRUE(LabelSelector::Parse("missing!=x")->Matches(Pod()));
}

TEST(LabelSelectorTest, SetBasedAndExistence) {
  EXPECT_TRUE(LabelSelector::Parse("app in (db, web)")->Matches(Pod()));
  EXPECT_FALSE(LabelSelector::Parse("app notin (web)")->Matches(Pod()));
  EXPECT_TRUE(LabelSelector::Parse("tier")->Matches(Pod()));
  EXPECT_FALSE(LabelSelector::Parse("!tier")->Matches(Pod()));
  EXPECT_TRUE(LabelSelector::Parse("!gpu,app in (web)")->Matches(Pod()));
  EXPECT_TRUE(LabelSelector::Parse("")->Matches(Pod()));
}

TEST(LabelSelectorTest, RejectsMalformed) {
  EXPECT_EQ(LabelSelector::Parse("app in (web").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LabelSelector::Parse("app=we b").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LabelSelector::Parse("app,,x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LabelSelector::Parse("app within (a)").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LabelSelector::Parse(std::string(5000, 'a')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(FieldSelectorTest, MatchesDottedPaths) {
  EXPECT_TRUE(FieldSelector::Parse("spec.nodeName=node-a")->Matches(Pod()));
  EXPECT_TRUE(FieldSelector::Parse("spec.nodeName==node-a,status.phase!=Failed")->Matches(Pod()));
  EXPECT_FALSE(FieldSelector::Parse("spec.nodeName=node-b")->Matches(Pod()));
  EXPECT_TRUE(FieldSelector::Parse("spec.hostNetwork=true")->Matches(Pod()));
  EXPECT_TRUE(FieldSelector::Parse("spec.missing=")->Matches(Pod()));
  EXPECT_TRUE(FieldSelector::Parse("metadata.namespace=ns1")->Matches(Pod()));
}

TEST(FieldSelectorTest, RejectsMalformed) {
  EXPECT_EQ(FieldSelector::Parse("spec.nodeName").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldSelector::Parse("spec..x=1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldSelector::Parse("=1").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare::kube
