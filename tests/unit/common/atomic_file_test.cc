#include "common/atomic_file.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/temp_dir.h"

namespace npushare {
namespace {

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path();
    ASSERT_FALSE(root_.empty()) << "cannot make a temporary directory";
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  int Entries() const {
    int n = 0;
    for (auto& e : std::filesystem::directory_iterator(root_)) {
      (void)e;
      ++n;
    }
    return n;
  }
  npushare::testing::ScopedTempDir temp_{"atomic-file"};
  std::string root_;
};

TEST_F(AtomicFileTest, WritesAndReplacesWithTheExactModeRegardlessOfUmask) {
  std::string path = root_ + "/f";
  mode_t old = umask(077);
  ASSERT_TRUE(WriteFileAtomically(path, "one\n", 0644).ok());
  ASSERT_TRUE(WriteFileAtomically(path, std::string("two\0bytes", 9), 0640).ok());
  umask(old);
  EXPECT_EQ(Read(path), std::string("two\0bytes", 9));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(Entries(), 1);  // no temporary file left behind
}

TEST_F(AtomicFileTest, ASymlinkIsReplacedNotFollowed) {
  std::string target = root_ + "/target";
  std::ofstream(target) << "keep";
  std::string link = root_ + "/link";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  ASSERT_TRUE(WriteFileAtomically(link, "new", 0644).ok());
  EXPECT_EQ(Read(target), "keep");
  struct stat st;
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(Read(link), "new");
}

TEST_F(AtomicFileTest, AMissingDirectoryIsNotFound) {
  Status s = WriteFileAtomically(root_ + "/missing/f", "x", 0644);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("missing/f"), std::string::npos) << s.ToString();
}

TEST_F(AtomicFileTest, AFailedRenameLeavesNoTemporaryFile) {
  std::string dir = root_ + "/d";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir + "/sub").c_str(), 0755), 0);
  std::ofstream(dir + "/sub/occupied") << "x";
  // Renaming a file onto a non-empty directory fails.
  Status s = WriteFileAtomically(dir + "/sub", "x", 0644);
  EXPECT_FALSE(s.ok());
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++n;
  }
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace npushare
