// ManagedProcess (sim/demo): the demo's components run in process groups of their own; Stop()
// must take the whole group (a grandchild included), WaitForLine must see a ready line and
// report an early exit with the log's tail.
#include "sim/demo/managed_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "support/temp_dir.h"

namespace npushare::demo {
namespace {

TEST(ManagedProcessTest, WaitsForTheReadyLineAndStopsTheWholeGroup) {
  npushare::testing::ScopedTempDir tmp("managed-process");
  // The shell starts a grandchild that ignores SIGTERM, then prints READY.
  auto p = ManagedProcess::Start(
      {.name = "sh",
       .argv = {"/bin/sh", "-c", "(trap '' TERM; sleep 300) & echo READY port=7; wait"},
       .env = {},
       .log_path = tmp.path() + "/sh.log"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto line = (*p)->WaitForLine("READY ", std::chrono::seconds(20));
  ASSERT_TRUE(line.ok()) << line.status().ToString();
  EXPECT_EQ(*line, "READY port=7");
  EXPECT_TRUE((*p)->Running());
  EXPECT_FALSE((*p)->GroupGone());
  (*p)->Stop(std::chrono::milliseconds(200));
  EXPECT_FALSE((*p)->Running());
  // The grandchild ignored SIGTERM; the group's SIGKILL took it. (A killed process may linger
  // as a zombie of init for a moment: poll.)
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!(*p)->GroupGone() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE((*p)->GroupGone());
}

TEST(ManagedProcessTest, EarlyExitIsReportedWithTheLogTail) {
  npushare::testing::ScopedTempDir tmp("managed-process");
  auto p = ManagedProcess::Start({.name = "failing",
                                  .argv = {"/bin/sh", "-c", "echo cannot bind >&2; exit 3"},
                                  .env = {},
                                  .log_path = tmp.path() + "/failing.log"});
  ASSERT_TRUE(p.ok());
  auto line = (*p)->WaitForLine("READY", std::chrono::seconds(20));
  ASSERT_FALSE(line.ok());
  EXPECT_EQ(line.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(line.status().message().find("cannot bind"), std::string::npos);
  EXPECT_NE(line.status().message().find("exit 3"), std::string::npos);
}

TEST(ManagedProcessTest, ReadyLineOfAnEarlierRunInTheSameLogIsNotTaken) {
  npushare::testing::ScopedTempDir tmp("managed-process");
  std::ofstream(tmp.path() + "/again.log") << "READY old\n";
  auto p = ManagedProcess::Start({.name = "again",
                                  .argv = {"/bin/sh", "-c", "sleep 0.3; echo READY new; sleep 30"},
                                  .env = {},
                                  .log_path = tmp.path() + "/again.log"});
  ASSERT_TRUE(p.ok());
  auto line = (*p)->WaitForLine("READY", std::chrono::seconds(20));
  ASSERT_TRUE(line.ok()) << line.status().ToString();
  EXPECT_EQ(*line, "READY new");
}

}  // namespace
}  // namespace npushare::demo
