#include "common/yaml_json.h"

#include <gtest/gtest.h>

namespace npushare {
namespace {

TEST(YamlJsonTest, ScalarsTypedLikeYaml12Core) {
  auto docs = ParseYamlDocuments(
      "a: 1\nb: '1'\nc: true\nd: 1.5\ne: null\nf: 16Gi\ng: \"true\"\nh: -7\ni: 1e3\n");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  const auto& j = (*docs)[0];
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(j["b"], "1");
  EXPECT_EQ(j["c"], true);
  EXPECT_DOUBLE_EQ(j["d"].get<double>(), 1.5);
  EXPECT_TRUE(j["e"].is_null());
  EXPECT_EQ(j["f"], "16Gi");
  EXPECT_EQ(j["g"], "true");
  EXPECT_EQ(j["h"], -7);
  EXPECT_EQ(j["i"], "1e3");  // not a YAML 1.2 float without a dot: stays text (a quantity)
}

TEST(YamlJsonTest, MultipleDocumentsSkipEmptyOnes) {
  auto docs = ParseYamlDocuments("---\na: 1\n---\n---\nb: [1, 2]\n");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[1]["b"].size(), 2u);
}

TEST(YamlJsonTest, SyntaxErrorNamesTheLine) {
  auto docs = ParseYamlDocuments("a: 1\nb: [\n");
  EXPECT_EQ(docs.status().code(), StatusCode::kInvalidArgument);
}

TEST(YamlJsonTest, DepthAndAliasBombsAreRefused) {
  std::string deep;
  for (int i = 0; i < 200; ++i)
    deep += "[";
  EXPECT_EQ(ParseYamlDocuments(deep).status().code(), StatusCode::kInvalidArgument);

  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'h'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i)
      bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  YamlLimits limits;
  limits.max_nodes = 100000;
  EXPECT_EQ(ParseYamlDocuments(bomb, limits).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare
