// Share files (--shares-dir): the only source of compute shares in trusted mode (issue 5).
#include "softslice/arbiter/share_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace npushare::softslice {
namespace {

TEST(ShareFileTest, ParsesDevicesPercentsCapsAndComments) {
  auto spec = ParseShareFile("# written by the device plugin\n\n0 20\n  3\t75 cap\r\n1 0\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_TRUE(spec->devices[0].listed);
  EXPECT_EQ(spec->devices[0].percent, 20u);
  EXPECT_FALSE(spec->devices[0].hard_cap);
  EXPECT_TRUE(spec->devices[1].listed);
  EXPECT_EQ(spec->devices[1].percent, 0u);
  EXPECT_FALSE(spec->devices[2].listed);
  EXPECT_EQ(spec->devices[3].percent, 75u);
  EXPECT_TRUE(spec->devices[3].hard_cap);
}

TEST(ShareFileTest, EmptyFileMeansBestEffortEverywhere) {
  auto spec = ParseShareFile("");
  ASSERT_TRUE(spec.ok());
  for (const auto& d : spec->devices) {
    EXPECT_FALSE(d.listed);
    EXPECT_FALSE(d.hard_cap);
  }
}

TEST(ShareFileTest, RejectsGarbage) {
  for (const char* text : {"garbage", "0", "0 20 cap extra", "0 20 hard", "x 20", "0 2x",
                           "0 20\n0 30", "0 0 cap", "0 +20", "0 20.5"}) {
    auto spec = ParseShareFile(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument) << text;
  }
  auto nul = ParseShareFile(std::string_view("0 2\0", 4));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.status().code(), StatusCode::kInvalidArgument);
}

TEST(ShareFileTest, RejectsNegativeAndOutOfRangeValues) {
  for (const char* text : {"0 -1", "-1 20", "0 101", "16 20", "0 99999999999999999999999"}) {
    auto spec = ParseShareFile(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.status().code(), StatusCode::kOutOfRange) << text;
  }
  EXPECT_TRUE(ParseShareFile("15 100").ok());
}

TEST(ShareFileTest, RejectsTooLongText) {
  std::string text = "0 20\n" + std::string(kMaxShareFileBytes, '#');
  auto spec = ParseShareFile(text);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
}

class ShareFileReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/vnpu-share-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(root_ + "/" + name, std::ios::binary) << text;
  }
  std::string root_;
};

TEST_F(ShareFileReadTest, ReadsAFile) {
  Write("a.share", "0 20 cap\n");
  auto spec = ReadShareFile(root_ + "/a.share");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->devices[0].percent, 20u);
  EXPECT_TRUE(spec->devices[0].hard_cap);
}

TEST_F(ShareFileReadTest, MissingFileIsNotFound) {
  auto spec = ReadShareFile(root_ + "/missing.share");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kNotFound);
}

TEST_F(ShareFileReadTest, OverlongFileIsRejectedNotTruncated) {
  // A valid prefix followed by more than the limit: never accepted as the prefix.
  Write("big.share", "0 20\n" + std::string(2 * kMaxShareFileBytes, '\n'));
  auto spec = ReadShareFile(root_ + "/big.share");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ShareFileReadTest, SymlinksAndDirectoriesAreRefused) {
  Write("real", "0 90\n");
  ASSERT_EQ(symlink((root_ + "/real").c_str(), (root_ + "/link.share").c_str()), 0);
  auto link = ReadShareFile(root_ + "/link.share");
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.status().code(), StatusCode::kFailedPrecondition);
  ASSERT_EQ(mkdir((root_ + "/dir.share").c_str(), 0700), 0);
  auto dir = ReadShareFile(root_ + "/dir.share");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace npushare::softslice
