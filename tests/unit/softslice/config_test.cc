#include "softslice/interceptor/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "softslice/interceptor/log.h"
#include "support/read_only_mount.h"
#include "support/temp_dir.h"

namespace npushare::vnpu {
namespace {

class VnpuConfigTest : public ::testing::Test {
 protected:
  Config Parse(std::vector<std::string> env, int* bad = nullptr) {
    env_ = std::move(env);
    std::vector<const char*> envp;
    for (const auto& e : env_) {
      envp.push_back(e.c_str());
    }
    envp.push_back(nullptr);
    Config c;
    int n = ParseConfig(envp.data(), &c);
    if (bad != nullptr) {
      *bad = n;
    }
    return c;
  }
  std::vector<std::string> env_;
};

TEST_F(VnpuConfigTest, EmptyEnvironmentIsPassThrough) {
  int bad = -1;
  Config c = Parse({"PATH=/bin", "HOME=/root"}, &bad);
  EXPECT_EQ(bad, 0);
  EXPECT_FALSE(c.limited);
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    EXPECT_EQ(c.mem_quota_bytes[d], 0u);
    EXPECT_EQ(c.core_percent[d], 0u);
  }
  EXPECT_STREQ(c.state_dir, kDefaultStateDir);
}

TEST_F(VnpuConfigTest, SingleValueAppliesToEveryDevice) {
  Config c = Parse({"NPUSHARE_VNPU_MEM_MB=4096", "NPUSHARE_VNPU_CORE_PCT=40"});
  EXPECT_TRUE(c.limited);
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    EXPECT_EQ(c.mem_quota_bytes[d], uint64_t{4096} << 20);
    EXPECT_EQ(c.core_percent[d], 40u);
  }
}

TEST_F(VnpuConfigTest, ListGivesPerDeviceValuesAndUnlistedDevicesAreUnlimited) {
  Config c = Parse({"NPUSHARE_VNPU_MEM_MB=1024,0,2048", "NPUSHARE_VNPU_STATE_DIR=/run/vnpu/x"});
  EXPECT_EQ(c.mem_quota_bytes[0], uint64_t{1024} << 20);
  EXPECT_EQ(c.mem_quota_bytes[1], 0u);
  EXPECT_EQ(c.mem_quota_bytes[2], uint64_t{2048} << 20);
  EXPECT_EQ(c.mem_quota_bytes[3], 0u);
  EXPECT_STREQ(c.state_dir, "/run/vnpu/x");
}

TEST_F(VnpuConfigTest, HamiVariablesAreUsedWhenOursAreAbsent) {
  Config c = Parse({"NPU_MEM_QUOTA=8192", "NPU_PRIORITY=30"});
  EXPECT_TRUE(c.limited);
  EXPECT_EQ(c.mem_quota_bytes[0], uint64_t{8192} << 20);
  EXPECT_EQ(c.mem_quota_bytes[7], uint64_t{8192} << 20);
  EXPECT_EQ(c.core_percent[5], 30u);
  Config ours = Parse({"NPU_MEM_QUOTA=8192", "NPUSHARE_VNPU_MEM_MB=100"});
  EXPECT_EQ(ours.mem_quota_bytes[0], uint64_t{100} << 20);
}

TEST_F(VnpuConfigTest, MalformedValuesAreIgnoredNotTruncated) {
  for (const char* bad_value : {"", "12x", "-1", "1,,2", "1,", ",1", "99999999999999", "1 2",
                                "0x10", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"}) {
    int bad = 0;
    Config c = Parse({std::string("NPUSHARE_VNPU_MEM_MB=") + bad_value}, &bad);
    EXPECT_EQ(bad, 1) << bad_value;
    EXPECT_FALSE(c.limited) << bad_value;
    EXPECT_EQ(c.mem_quota_bytes[0], 0u) << bad_value;
  }
  int bad = 0;
  Config c = Parse({"NPUSHARE_VNPU_CORE_PCT=101"}, &bad);
  EXPECT_EQ(bad, 1);
  EXPECT_EQ(c.core_percent[0], 0u);
}

// Issue 15: a share of 0 is best effort (weight 1), gated, not free; a malformed share is best
// effort too (with a log line), never ungated.
TEST_F(VnpuConfigTest, ZeroOrMalformedSharesAreGatedAsBestEffort) {
  int bad = 0;
  Config zero = Parse({"NPUSHARE_VNPU_CORE_PCT=0"}, &bad);
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(zero.compute_limited);
  EXPECT_TRUE(zero.limited);
  EXPECT_EQ(zero.core_percent[0], 0u);
  Config hami_zero = Parse({"NPU_PRIORITY=0"}, &bad);
  EXPECT_TRUE(hami_zero.compute_limited);
  for (const char* value : {"abc", "-5", "1000", "", "50,", "1e2"}) {
    for (const char* name : {"NPUSHARE_VNPU_CORE_PCT", "NPU_PRIORITY"}) {
      Config c = Parse({std::string(name) + "=" + value}, &bad);
      EXPECT_EQ(bad, 1) << name << "=" << value;
      EXPECT_TRUE(c.compute_limited) << name << "=" << value;
      EXPECT_TRUE(c.limited) << name << "=" << value;
      for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
        EXPECT_EQ(c.core_percent[d], 0u) << name << "=" << value;
      }
    }
  }
  // Absent: nothing configured, pass-through (no node files either).
  EXPECT_FALSE(Parse({}).compute_limited);
}

// Issue 15: any file at the node's quota path gates the launches, whatever the environment
// says; only "no file" leaves the environment in charge.
TEST_F(VnpuConfigTest, NodeFilesGateWhateverTheEnvironmentSays) {
  for (QuotaFileError e : {QuotaFileError::kOk, QuotaFileError::kIo, QuotaFileError::kMalformed,
                           QuotaFileError::kNotReadOnly}) {
    Config c = Parse({});
    GateForNodeFiles(e, &c);
    EXPECT_TRUE(c.compute_limited) << static_cast<int>(e);
    EXPECT_TRUE(c.limited) << static_cast<int>(e);
    EXPECT_EQ(c.core_percent[0], 0u);
  }
  Config none = Parse({});
  GateForNodeFiles(QuotaFileError::kNone, &none);
  EXPECT_FALSE(none.compute_limited);
  EXPECT_FALSE(none.limited);
  Config declared = Parse({"NPUSHARE_VNPU_CORE_PCT=30"});
  GateForNodeFiles(QuotaFileError::kOk, &declared);
  EXPECT_EQ(declared.core_percent[0], 30u);
}

TEST_F(VnpuConfigTest, RelativeOrOverlongStateDirFallsBackToTheDefault) {
  int bad = 0;
  Config c = Parse({"NPUSHARE_VNPU_STATE_DIR=relative/dir"}, &bad);
  EXPECT_EQ(bad, 1);
  EXPECT_STREQ(c.state_dir, kDefaultStateDir);
  Config d = Parse({"NPUSHARE_VNPU_STATE_DIR=/" + std::string(kStateDirMax, 'a')}, &bad);
  EXPECT_EQ(bad, 1);
  EXPECT_STREQ(d.state_dir, kDefaultStateDir);
}

TEST_F(VnpuConfigTest, PrefixOfAVariableNameDoesNotMatch) {
  Config c = Parse({"NPUSHARE_VNPU_MEM_MBX=5", "XNPU_MEM_QUOTA=5"});
  EXPECT_FALSE(c.limited);
}

TEST(VnpuParseUnsignedListTest, AcceptsTheLimitAndRejectsAbove) {
  uint64_t v[2];
  EXPECT_TRUE(ParseUnsignedList("100", 100, v, 2));
  EXPECT_EQ(v[0], 100u);
  EXPECT_EQ(v[1], 100u);
  EXPECT_FALSE(ParseUnsignedList("101", 100, v, 2));
  EXPECT_FALSE(ParseUnsignedList(nullptr, 100, v, 2));
}

}  // namespace
}  // namespace npushare::vnpu

namespace npushare::vnpu {
namespace {

TEST(VnpuVisibleDevicesTest, ListsRangesAndNamedDevices) {
  int32_t chips[VNPU_MAX_DEVICES];
  ASSERT_EQ(ParseVisibleDevices("3,1", chips, VNPU_MAX_DEVICES), 2);
  EXPECT_EQ(chips[0], 3);
  EXPECT_EQ(chips[1], 1);
  ASSERT_EQ(ParseVisibleDevices("0-3", chips, VNPU_MAX_DEVICES), 4);
  EXPECT_EQ(chips[3], 3);
  ASSERT_EQ(ParseVisibleDevices("Ascend910-5,Ascend910-2", chips, VNPU_MAX_DEVICES), 2);
  EXPECT_EQ(chips[0], 5);
  EXPECT_EQ(chips[1], 2);
  for (const char* bad : {"x", "1,,", "3-1", "0-99", "1;2", "Ascend910-", "-1"}) {
    EXPECT_EQ(ParseVisibleDevices(bad, chips, VNPU_MAX_DEVICES), -1) << bad;
  }
}

TEST(VnpuVisibleDevicesTest, ConfigMapsLogicalDevicesToChips) {
  const char* env[] = {"ASCEND_VISIBLE_DEVICES=6,7", "NPUSHARE_VNPU_CORE_PCT=30", nullptr};
  Config c;
  EXPECT_EQ(ParseConfig(env, &c), 0);
  EXPECT_TRUE(c.compute_limited);
  EXPECT_EQ(c.chip_of_device[0], 6);
  EXPECT_EQ(c.chip_of_device[1], 7);
  EXPECT_EQ(c.chip_of_device[2], -1);
  const char* none[] = {"NPUSHARE_VNPU_MEM_MB=10", nullptr};
  EXPECT_EQ(ParseConfig(none, &c), 0);
  EXPECT_FALSE(c.compute_limited);
  EXPECT_EQ(c.chip_of_device[5], 5);
  EXPECT_STREQ(c.arbiter_dir, kDefaultArbiterDir);
}

}  // namespace
}  // namespace npushare::vnpu

namespace npushare::vnpu {
namespace {

TEST(VnpuHardCapConfigTest, OnlyZeroOrOneIsAccepted) {
  Config c;
  const char* on[] = {"NPUSHARE_VNPU_CORE_CAP=1", nullptr};
  EXPECT_EQ(ParseConfig(on, &c), 0);
  EXPECT_TRUE(c.hard_cap);
  const char* bad[] = {"NPUSHARE_VNPU_CORE_CAP=yes", nullptr};
  EXPECT_EQ(ParseConfig(bad, &c), 1);
  EXPECT_FALSE(c.hard_cap);
}

// Issue 5: memory quotas from the node-written file at a fixed path, trusted only on a
// read-only mount.
class VnpuQuotaFileTest : public VnpuConfigTest {
 protected:
  void SetUp() override {
    SetLogQuiet(true);
    root_ = temp_.path();
    ASSERT_FALSE(root_.empty()) << "cannot make a temporary directory";
    path_ = root_ + "/quota";
  }
  void Write(const std::string& text, mode_t mode = 0644) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
    ASSERT_EQ(chmod(path_.c_str(), mode), 0);
  }
  // Env8192: a config whose environment declares 8192 MiB on every device.
  Config Env8192() { return Parse({"NPUSHARE_VNPU_MEM_MB=8192"}); }

  // ApplyOnReadOnlyMount: ApplyQuotaFile on a file holding `text` on a read-only tmpfs, in a
  // forked child with its own mount namespace. Returns the child's report: "skip: <why>" or
  // "rc=<error> q0=<MiB> q1=<MiB> q2=<MiB> q3=<MiB> file=<0|1> limited=<0|1>".
  std::string ApplyOnReadOnlyMount(const std::string& text, std::vector<std::string> env) {
    Config c = Parse(std::move(env));
    int fds[2];
    if (pipe(fds) != 0) {
      return "pipe failed";
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      std::string why = npushare::testing::EnterPrivateMountNamespace();
      if (why.empty()) {
        why = npushare::testing::MountReadOnlyFile(root_, "vnpu", "quota", text);
      }
      std::string out;
      if (!why.empty()) {
        out = "skip: " + why;
      } else {
        QuotaFileError e = ApplyQuotaFile((root_ + "/vnpu/quota").c_str(), &c);
        out = "rc=" + std::to_string(static_cast<int>(e));
        for (int d = 0; d < 4; ++d) {
          out += " q" + std::to_string(d) + "=" + std::to_string(c.mem_quota_bytes[d] >> 20);
        }
        out += " file=" + std::to_string(c.quota_from_file ? 1 : 0) +
               " limited=" + std::to_string(c.limited ? 1 : 0);
      }
      (void)!write(fds[1], out.data(), out.size());
      _exit(0);
    }
    close(fds[1]);
    std::string got;
    char buf[256];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
      got.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got;
  }
  npushare::testing::ScopedTempDir temp_{"vnpu-quota"};
  std::string root_;
  std::string path_;
};

#define SKIP_IF_NO_NAMESPACE(report)                                 \
  if ((report).rfind("skip: ", 0) == 0) {                            \
    GTEST_SKIP() << "needs a private mount namespace: " << (report); \
  }

TEST_F(VnpuQuotaFileTest, FileOnAReadOnlyMountReplacesTheEnvironmentsQuotas) {
  std::string r = ApplyOnReadOnlyMount("1024,0,2048\n", {"NPUSHARE_VNPU_MEM_MB=8192"});
  SKIP_IF_NO_NAMESPACE(r);
  // Device 3 is unlisted: unlimited, not the environment's 8192.
  EXPECT_EQ(r, "rc=0 q0=1024 q1=0 q2=2048 q3=0 file=1 limited=1");
}

TEST_F(VnpuQuotaFileTest, FileAloneLimitsAProcessWithoutEnvironmentQuotas) {
  std::string r = ApplyOnReadOnlyMount("512", {});
  SKIP_IF_NO_NAMESPACE(r);
  EXPECT_EQ(r, "rc=0 q0=512 q1=512 q2=512 q3=512 file=1 limited=1");
}

TEST_F(VnpuQuotaFileTest, MalformedFileOnAReadOnlyMountLeavesTheEnvironment) {
  std::string r = ApplyOnReadOnlyMount("lots", {"NPUSHARE_VNPU_MEM_MB=8192"});
  SKIP_IF_NO_NAMESPACE(r);
  EXPECT_EQ(r, "rc=3 q0=8192 q1=8192 q2=8192 q3=8192 file=0 limited=1");
}

// A file the container could have written itself (any writable mount) is not trusted.
TEST_F(VnpuQuotaFileTest, FileOnAWritableMountIsRefused) {
  Write("1024\n", 0444);
  Config c = Env8192();
  EXPECT_EQ(ApplyQuotaFile(path_.c_str(), &c), QuotaFileError::kNotReadOnly);
  EXPECT_FALSE(c.quota_from_file);
  EXPECT_EQ(c.mem_quota_bytes[0], uint64_t{8192} << 20);
}

TEST_F(VnpuQuotaFileTest, NoFileIsNone) {
  Config c = Env8192();
  EXPECT_EQ(ApplyQuotaFile(path_.c_str(), &c), QuotaFileError::kNone);
  EXPECT_FALSE(c.quota_from_file);
  EXPECT_EQ(c.mem_quota_bytes[0], uint64_t{8192} << 20);
}

// The environment cannot name another quota file: the path is fixed.
TEST_F(VnpuQuotaFileTest, TheEnvironmentCannotRedirectTheQuotaFile) {
  Write("65536\n");
  Config c = Parse({"NPUSHARE_VNPU_MEM_MB=8192", "NPUSHARE_VNPU_QUOTA_FILE=" + path_});
  EXPECT_EQ(c.mem_quota_bytes[0], uint64_t{8192} << 20);
  EXPECT_FALSE(c.quota_from_file);
  EXPECT_STREQ(kQuotaFilePath, "/run/npushare/vnpu/quota");
}

TEST_F(VnpuQuotaFileTest, TextIsParsedStrictly) {
  struct Case {
    std::string text;
    QuotaFileError want;
  };
  for (const Case& k : std::vector<Case>{
           {"", QuotaFileError::kMalformed},
           {"garbage", QuotaFileError::kMalformed},
           {"-1", QuotaFileError::kMalformed},
           {"1024\n\n", QuotaFileError::kMalformed},
           {"99999999999", QuotaFileError::kMalformed},
           {std::string("1024\0"
                        "9999",
                        9),
            QuotaFileError::kMalformed},
           {std::string(kMaxQuotaFileBytes + 1, '1'), QuotaFileError::kMalformed},
           {"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", QuotaFileError::kMalformed},
           {"1024", QuotaFileError::kOk},
           {"1024\n", QuotaFileError::kOk},
           {"0,4096", QuotaFileError::kOk},
       }) {
    uint64_t mb[VNPU_MAX_DEVICES] = {};
    EXPECT_EQ(ParseQuotaText(k.text.data(), k.text.size(), mb), k.want) << k.text;
  }
  uint64_t mb[VNPU_MAX_DEVICES] = {};
  ASSERT_EQ(ParseQuotaText("0,4096\n", 7, mb), QuotaFileError::kOk);
  EXPECT_EQ(mb[0], 0u);
  EXPECT_EQ(mb[1], 4096u);
  EXPECT_EQ(mb[2], 0u);
}

TEST_F(VnpuQuotaFileTest, WritableSymlinkedOrNonRegularFilesAreRefused) {
  Write("1024", 0664);
  Config group_writable = Env8192();
  EXPECT_EQ(ApplyQuotaFile(path_.c_str(), &group_writable), QuotaFileError::kIo);
  EXPECT_EQ(group_writable.mem_quota_bytes[0], uint64_t{8192} << 20);
  ASSERT_EQ(chmod(path_.c_str(), 0444), 0);
  std::string link = root_ + "/link";
  ASSERT_EQ(symlink(path_.c_str(), link.c_str()), 0);
  Config symlinked = Env8192();
  EXPECT_EQ(ApplyQuotaFile(link.c_str(), &symlinked), QuotaFileError::kIo);
  Config directory = Env8192();
  EXPECT_EQ(ApplyQuotaFile(root_.c_str(), &directory), QuotaFileError::kIo);
}

}  // namespace
}  // namespace npushare::vnpu
