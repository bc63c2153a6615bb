#include "compat/deviations.h"

#include <gtest/gtest.h>

#include "common/file_reader.h"

namespace npushare::compat {
namespace {

TEST(DeviationsTest, ReadsBlocksOnly) {
  auto t = ParseDeviations(
      "# title\n{\"id\": \"ignored\"}\n```compat-deviation\n"
      "{\"id\": \"a\", \"expected\": {\"x\": 1}}\n\n```\ntext\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ(t->at("a")["x"], 1);
}

TEST(DeviationsTest, RejectsMalformedAndDuplicateLines) {
  EXPECT_EQ(ParseDeviations("```compat-deviation\nnot json\n```\n").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDeviations("```compat-deviation\n{\"id\":\"a\",\"expected\":{}}\n"
                            "{\"id\":\"a\",\"expected\":{}}\n```\n")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(DeviationsTest, RepositoryDocumentParses) {
  auto md = ReadFileLimited(std::string(NPUSHARE_SOURCE_DIR) + "/docs/compat.md", 1 << 20);
  ASSERT_TRUE(md.ok());
  EXPECT_TRUE(ParseDeviations(*md).ok());
}

}  // namespace
}  // namespace npushare::compat
