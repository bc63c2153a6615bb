#include "common/file_reader.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>

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

// InChild: runs `f` in a forked child (which may drop privileges or limits without affecting
// the test process) and returns the status code it produced, or -1 when the child crashed.
int InChild(const std::function<StatusCode()>& f) {
  pid_t pid = fork();
  if (pid == 0) {
    _exit(static_cast<int>(f()));
  }
  int st = 0;
  if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
    return -1;
  }
  return WEXITSTATUS(st);
}

// Issue 14: a file that exists but may not be read is not "no such file", and running out of
// descriptors is not "permission denied".
TEST_F(FileReaderTest, Issue14UnreadableFileIsPermissionDenied) {
  const std::string path = Write("secret", "x");
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  const int code = InChild([&] {
    if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0) {
      return StatusCode::kInternal;
    }
    return ReadFileLimited(path, 5).status().code();
  });
  EXPECT_EQ(code, static_cast<int>(StatusCode::kPermissionDenied));
}

TEST_F(FileReaderTest, Issue14NoFreeDescriptorIsResourceExhausted) {
  const std::string path = Write("c", "x");
  const int code = InChild([&] {
    rlimit none{0, 0};
    if (setrlimit(RLIMIT_NOFILE, &none) != 0) {
      return StatusCode::kInternal;
    }
    return ReadFileLimited(path, 5).status().code();
  });
  EXPECT_EQ(code, static_cast<int>(StatusCode::kResourceExhausted));
}

TEST_F(FileReaderTest, FifoIsRefusedWithoutBlocking) {
  const std::string path = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  EXPECT_EQ(ReadFileLimited(path, 5).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare
