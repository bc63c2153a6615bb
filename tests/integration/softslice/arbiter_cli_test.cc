// npushare-arbiter's command line, on the real binary: the trust-mode warning, usage errors
// (exit 2, naming the flag), an unsafe grant directory (exit 1) and --help. Messages are
// checked only for the flag or mode they must name, not for their wording.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "unit/sim/run_process.h"
#include "unit/sim/sim_test_util.h"

namespace npushare::softslice {
namespace {

using sim::testing::BinPath;
using sim::testing::ReadAll;
using sim::testing::ReadLine;
using sim::testing::Wait;

// Arbiter: a running npushare-arbiter with stdout and stderr on pipes.
struct Arbiter {
  pid_t pid = -1;
  int out_fd = -1;
  int err_fd = -1;
};

Arbiter Start(const std::vector<std::string>& flags) {
  int out[2];
  int err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    return {};
  }
  std::vector<std::string> argv = {BinPath("npushare-arbiter")};
  argv.insert(argv.end(), flags.begin(), flags.end());
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  return {pid, out[0], err[0]};
}

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

// RunToExit: runs the arbiter to completion (for command lines that make it exit by itself).
Outcome RunToExit(const std::vector<std::string>& flags) {
  Arbiter a = Start(flags);
  if (a.pid < 0) {
    return {-1, "", ""};
  }
  std::string out = ReadAll(a.out_fd);
  std::string err = ReadAll(a.err_fd);
  close(a.out_fd);
  close(a.err_fd);
  return {Wait(a.pid), out, err};
}

// RunUntilReady: starts the arbiter, waits for "READY", stops it with SIGTERM.
Outcome RunUntilReady(const std::vector<std::string>& flags) {
  Arbiter a = Start(flags);
  if (a.pid < 0) {
    return {-1, "", ""};
  }
  std::string ready = ReadLine(a.out_fd);
  kill(a.pid, SIGTERM);
  std::string err = ReadAll(a.err_fd);
  close(a.out_fd);
  close(a.err_fd);
  return {Wait(a.pid), ready, err};
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class ArbiterCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = sim::testing::MakeTempDir();
    grant_dir_ = root_ + "/arbiter";
    tenants_dir_ = root_ + "/tenants";
    ASSERT_EQ(mkdir(tenants_dir_.c_str(), 0700), 0);
  }
  std::vector<std::string> Required() const {
    return {"--grant-dir", grant_dir_, "--tenants-dir", tenants_dir_};
  }

  std::string root_;
  std::string grant_dir_;
  std::string tenants_dir_;
};

TEST_F(ArbiterCliTest, WithoutSharesDirItWarnsThatItRunsInTrustMode) {
  Outcome o = RunUntilReady(Required());
  EXPECT_EQ(o.out, "READY");
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_TRUE(Contains(o.err, "trust mode")) << o.err;
  EXPECT_TRUE(Contains(o.err, "--shares-dir")) << o.err;
}

TEST_F(ArbiterCliTest, WithSharesDirItDoesNotWarn) {
  std::string shares = root_ + "/shares";
  ASSERT_EQ(mkdir(shares.c_str(), 0700), 0);
  std::vector<std::string> flags = Required();
  flags.insert(flags.end(), {"--shares-dir", shares});
  Outcome o = RunUntilReady(flags);
  EXPECT_EQ(o.out, "READY");
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_FALSE(Contains(o.err, "trust mode")) << o.err;
  // Nothing but the reason of the exit (issue 15: every exit says why).
  EXPECT_TRUE(Contains(o.err, "signal 15")) << o.err;
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
}

// Issue 15: a group/world-writable tenants directory would let anyone plant a tenant page;
// it is refused as the grant directory is (exit 1, naming the flag).
TEST_F(ArbiterCliTest, AGroupOrWorldWritableTenantsDirIsRefused) {
  for (mode_t mode : {0777, 0770, 0722}) {
    ASSERT_EQ(chmod(tenants_dir_.c_str(), mode), 0);
    Outcome o = RunToExit(Required());
    EXPECT_EQ(o.exit_code, 1) << std::oct << mode;
    EXPECT_TRUE(Contains(o.err, "--tenants-dir")) << o.err;
    EXPECT_EQ(o.out, "");
  }
  ASSERT_EQ(chmod(tenants_dir_.c_str(), 0755), 0);
  EXPECT_EQ(RunUntilReady(Required()).out, "READY");
}

// Issue 15: every exit writes its reason to stderr first, a fatal signal included.
TEST_F(ArbiterCliTest, EveryExitSaysWhyOnStderr) {
  for (int sig : {SIGTERM, SIGINT, SIGSEGV, SIGBUS, SIGABRT}) {
    Arbiter a = Start(Required());
    ASSERT_GT(a.pid, 0);
    ASSERT_EQ(ReadLine(a.out_fd), "READY");
    kill(a.pid, sig);
    std::string err = ReadAll(a.err_fd);
    close(a.out_fd);
    close(a.err_fd);
    int rc = Wait(a.pid);
    EXPECT_TRUE(Contains(err, "signal " + std::to_string(sig))) << sig << ": " << err;
    if (sig == SIGTERM || sig == SIGINT) {
      EXPECT_EQ(rc, 0);
    } else {
      EXPECT_EQ(rc, 128 + sig) << "dies of the signal after saying so";
    }
  }
}

TEST_F(ArbiterCliTest, AMissingRequiredFlagIsAUsageErrorNamingIt) {
  Outcome no_grant = RunToExit({"--tenants-dir", tenants_dir_});
  EXPECT_EQ(no_grant.exit_code, 2);
  EXPECT_TRUE(Contains(no_grant.err, "--grant-dir")) << no_grant.err;
  EXPECT_EQ(no_grant.out, "");
  Outcome no_tenants = RunToExit({"--grant-dir", grant_dir_});
  EXPECT_EQ(no_tenants.exit_code, 2);
  EXPECT_TRUE(Contains(no_tenants.err, "--tenants-dir")) << no_tenants.err;
  struct stat st;
  EXPECT_NE(stat(grant_dir_.c_str(), &st), 0) << "a usage error must not create state";
}

TEST_F(ArbiterCliTest, AFlagWithoutItsValueIsAUsageErrorNamingIt) {
  std::vector<std::string> flags = Required();
  flags.push_back("--tick-us");
  Outcome o = RunToExit(flags);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(Contains(o.err, "--tick-us")) << o.err;
}

TEST_F(ArbiterCliTest, BadNumbersAreUsageErrorsNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--tick-us", "abc"},
      {"--tick-us", "0"},
      {"--tick-us", "100001"},
      {"--tick-us", "-5"},
      {"--slice-ms", "10x"},
      {"--slice-ms", ""},
      {"--slice-ms", "99999999999999999999999"},
      {"--demand-window-us", "0"},
      {"--demand-window-us", "1000001"},
  };
  for (const auto& [flag, value] : cases) {
    std::vector<std::string> flags = Required();
    flags.insert(flags.end(), {flag, value});
    Outcome o = RunToExit(flags);
    EXPECT_EQ(o.exit_code, 2) << flag << " " << value;
    EXPECT_TRUE(Contains(o.err, flag)) << flag << " " << value << ": " << o.err;
  }
}

TEST_F(ArbiterCliTest, AnUnknownFlagIsAUsageError) {
  std::vector<std::string> flags = Required();
  flags.insert(flags.end(), {"--no-such-flag", "1"});
  Outcome o = RunToExit(flags);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(Contains(o.err, "--no-such-flag")) << o.err;
}

TEST_F(ArbiterCliTest, AGroupOrWorldWritableGrantDirIsASetupFailure) {
  for (mode_t mode : {mode_t{0777}, mode_t{0775}, mode_t{0757}}) {
    std::string dir = root_ + "/grants-" + std::to_string(mode);
    ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
    ASSERT_EQ(chmod(dir.c_str(), mode), 0);  // chmod: not subject to the umask
    Outcome o = RunToExit({"--grant-dir", dir, "--tenants-dir", tenants_dir_});
    EXPECT_EQ(o.exit_code, 1) << std::oct << mode;
    EXPECT_TRUE(Contains(o.err, dir)) << o.err;
    EXPECT_TRUE(Contains(o.err, "writable")) << o.err;
    EXPECT_EQ(o.out, "") << "never READY";
  }
}

TEST_F(ArbiterCliTest, HelpExitsZeroAndMentionsEveryFlag) {
  Outcome o = RunToExit({"--help"});
  EXPECT_EQ(o.exit_code, 0);
  for (const char* flag : {"--grant-dir", "--tenants-dir", "--shares-dir", "--tick-us",
                           "--slice-ms", "--demand-window-us", "--metrics-file", "--help"}) {
    EXPECT_TRUE(Contains(o.out, flag)) << flag << " missing from:\n" << o.out;
  }
  EXPECT_EQ(o.err, "");
}

}  // namespace
}  // namespace npushare::softslice
