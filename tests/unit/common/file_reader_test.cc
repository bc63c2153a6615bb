#include "common/file_reader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "support/temp_dir.h"

namespace npushare {
namespace {

class FileReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    ASSERT_FALSE(dir_.empty()) << "cannot make a temporary directory";
  }
  std::string Write(const std::string& name, const std::string& data) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << data;
    return p;
  }
  npushare::testing::ScopedTempDir temp_{"npushare-file-reader"};
  std::string dir_;
};

TEST_F(FileReaderTest, ReadsWithinLimit) {
  auto r = ReadFileLimited(Write("a", "hello"), 5);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "hello");
}

TEST_F(FileReaderTest, RefusesOversizedMissingAndDirectories) {
  EXPECT_EQ(ReadFileLimited(Write("b", "hello!"), 5).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ReadFileLimited(dir_ + "/missing", 5).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadFileLimited(dir_, 5).status().code(), StatusCode::kInvalidArgument);
}

// Files larger than one read chunk (64 KiB): exact limit accepted, one byte over refused.
TEST_F(FileReaderTest, ReadsAcrossChunks) {
  std::string big(200 * 1024 + 7, 'x');
  big[65536] = 'y';
  big.back() = 'z';
  const std::string path = Write("big", big);
  auto r = ReadFileLimited(path, big.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, big);
  EXPECT_EQ(ReadFileLimited(path, big.size() - 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ReadFileLimited(path, 65536).status().code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace npushare
