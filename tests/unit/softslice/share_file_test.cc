// Share files (--shares-dir): the only source of compute shares in trusted mode (issue 5).
#include "softslice/arbiter/share_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

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
  for (const char* text :
       {"garbage", "0", "0 20 cap extra", "0 20 hard", "x 20", "0 2x", "0 20\n0 30", "0 0 cap",
        "0 +20", "0 20.5", "0 20 cap cap", "0 20 chip=1 chip=1", "0 20 chip=", "0 20 chip=x",
        "0 20 chip=1x", "0 20 chip 1", "0 20 CHIP=1", "0 20 chip=1\n1 20 chip=1",
        "0 20 cap chip=1 x"}) {
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

TEST(ShareFileTest, ParsesPinnedChipsInAnyOrderWithCap) {
  auto spec = ParseShareFile("0 20 chip=3\n1 50 cap chip=0\n2 10 chip=63 cap\n3 5\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->devices[0].chip, 3);
  EXPECT_FALSE(spec->devices[0].hard_cap);
  EXPECT_EQ(spec->devices[1].chip, 0);
  EXPECT_TRUE(spec->devices[1].hard_cap);
  EXPECT_EQ(spec->devices[2].chip, 63);
  EXPECT_TRUE(spec->devices[2].hard_cap);
  EXPECT_EQ(spec->devices[3].chip, -1) << "no chip= means not pinned";
  EXPECT_EQ(spec->devices[4].chip, -1) << "unlisted means not pinned";
}

TEST(ShareFileTest, RejectsOutOfRangeChips) {
  for (const char* text : {"0 20 chip=64", "0 20 chip=-1", "0 20 chip=99999999999999999999"}) {
    auto spec = ParseShareFile(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.status().code(), StatusCode::kOutOfRange) << text;
  }
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
    root_ = temp_.path();
    ASSERT_FALSE(root_.empty()) << "cannot make a temporary directory";
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(root_ + "/" + name, std::ios::binary) << text;
  }
  npushare::testing::ScopedTempDir temp_{"vnpu-share"};
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

namespace npushare::softslice {
namespace {

// Only the node side may write shares: the file and the directory must be ours or root's and
// not group/world-writable.
TEST_F(ShareFileReadTest, GroupOrWorldWritableFilesAreRefused) {
  for (mode_t mode : {0620, 0602, 0666}) {
    Write("w.share", "0 90\n");
    ASSERT_EQ(chmod((root_ + "/w.share").c_str(), mode), 0);
    auto spec = ReadShareFile(root_ + "/w.share");
    ASSERT_FALSE(spec.ok()) << std::oct << mode;
    EXPECT_EQ(spec.status().code(), StatusCode::kFailedPrecondition);
  }
  ASSERT_EQ(chmod((root_ + "/w.share").c_str(), 0644), 0);
  EXPECT_TRUE(ReadShareFile(root_ + "/w.share").ok());
}

TEST_F(ShareFileReadTest, FilesOfAnotherUserAreRefused) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to give a file away";
  }
  Write("other.share", "0 90\n");
  ASSERT_EQ(chown((root_ + "/other.share").c_str(), 12345, 12345), 0);
  auto spec = ReadShareFile(root_ + "/other.share");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ShareFileReadTest, ShareDirMustBeOursAndNotWritableByOthers) {
  EXPECT_TRUE(CheckShareDir(root_).ok());
  EXPECT_EQ(CheckShareDir(root_ + "/missing").code(), StatusCode::kNotFound);
  ASSERT_EQ(mkdir((root_ + "/open").c_str(), 0700), 0);
  ASSERT_EQ(chmod((root_ + "/open").c_str(), 0777), 0);
  EXPECT_EQ(CheckShareDir(root_ + "/open").code(), StatusCode::kFailedPrecondition);
  ASSERT_EQ(symlink(root_.c_str(), (root_ + "/link").c_str()), 0);
  EXPECT_EQ(CheckShareDir(root_ + "/link").code(), StatusCode::kFailedPrecondition);
  Write("file", "");
  EXPECT_EQ(CheckShareDir(root_ + "/file").code(), StatusCode::kFailedPrecondition);
  if (geteuid() == 0) {
    ASSERT_EQ(mkdir((root_ + "/theirs").c_str(), 0755), 0);
    ASSERT_EQ(chown((root_ + "/theirs").c_str(), 12345, 12345), 0);
    EXPECT_EQ(CheckShareDir(root_ + "/theirs").code(), StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace npushare::softslice
