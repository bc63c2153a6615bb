// MetricsWriter: the arbiter's metrics file written off the scheduling thread.
#include "softslice/arbiter/metrics_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "support/temp_dir.h"

namespace npushare::softslice {
namespace {

class MetricsWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    ASSERT_FALSE(dir_.empty()) << "cannot make a temporary directory";
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // AwaitWrites: waits (bounded) until `w` has written at least `n` times.
  static bool AwaitWrites(const MetricsWriter& w, uint64_t n) {
    for (int i = 0; i < 5000 && w.writes() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // no notification to wait on
    }
    return w.writes() >= n;
  }

  npushare::testing::ScopedTempDir temp_{"metrics-writer"};
  std::string dir_;
};

TEST_F(MetricsWriterTest, TheFileEndsWithTheLatestTextPublished) {
  std::string path = dir_ + "/metrics.txt";
  {
    MetricsWriter w(path);
    for (int i = 0; i < 100; ++i) {
      w.Publish("snapshot " + std::to_string(i) + "\n");
    }
  }  // the destructor writes what is still pending
  EXPECT_EQ(Read(path), "snapshot 99\n");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(MetricsWriterTest, EachPublishedTextIsWrittenWhole) {
  std::string path = dir_ + "/metrics.txt";
  MetricsWriter w(path);
  std::string big(size_t{256} * 1024, 'x');
  w.Publish(big);
  ASSERT_TRUE(AwaitWrites(w, 1));
  EXPECT_EQ(Read(path), big);
  w.Publish("small\n");
  ASSERT_TRUE(AwaitWrites(w, 2));
  EXPECT_EQ(Read(path), "small\n");
}

TEST_F(MetricsWriterTest, AFailingWriteIsLoggedOncePerStreakAndDoesNotStopTheWriter) {
  std::string missing = dir_ + "/no-such-dir/metrics.txt";
  ::testing::internal::CaptureStderr();
  {
    MetricsWriter w(missing);
    w.Publish("one\n");
    ASSERT_TRUE(AwaitWrites(w, 1));
    w.Publish("two\n");
    ASSERT_TRUE(AwaitWrites(w, 2));
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("cannot write metrics"), std::string::npos) << err;
  EXPECT_EQ(err.find("cannot write metrics"), err.rfind("cannot write metrics")) << err;
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(MetricsWriterTest, TheTailIsAppendedOnTheWriterThread) {
  std::string path = dir_ + "/metrics.txt";
  std::thread::id tail_thread;
  {
    MetricsWriter w(path, [&tail_thread] {
      tail_thread = std::this_thread::get_id();
      return std::string("mem line\n");
    });
    w.Publish("grant line\n");
  }
  EXPECT_EQ(Read(path), "grant line\nmem line\n");
  EXPECT_NE(tail_thread, std::thread::id());
  EXPECT_NE(tail_thread, std::this_thread::get_id()) << "the tail's I/O stays off the caller";
}

TEST_F(MetricsWriterTest, NothingPublishedWritesNothing) {
  std::string path = dir_ + "/metrics.txt";
  { MetricsWriter w(path); }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace npushare::softslice
