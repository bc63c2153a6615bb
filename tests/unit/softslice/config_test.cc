#include "softslice/interceptor/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "softslice/interceptor/log.h"

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

// Issue 5: memory quotas from a node-written file take precedence over the environment.
class VnpuQuotaFileTest : public VnpuConfigTest {
 protected:
  void SetUp() override {
    SetLogQuiet(true);
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/vnpu-quota-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    path_ = root_ + "/quota";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  void Write(const std::string& text, mode_t mode = 0644) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
    ASSERT_EQ(chmod(path_.c_str(), mode), 0);
  }
  // WithEnvQuota: a config whose environment declares 8192 MiB everywhere and the quota file.
  Config WithEnvQuota() {
    return Parse({"NPUSHARE_VNPU_MEM_MB=8192", "NPUSHARE_VNPU_QUOTA_FILE=" + path_});
  }
  std::string root_;
  std::string path_;
};

TEST_F(VnpuQuotaFileTest, FileQuotasReplaceTheEnvironments) {
  Write("1024,0,2048\n");
  Config c = WithEnvQuota();
  EXPECT_STREQ(c.quota_file, path_.c_str());
  ASSERT_EQ(ApplyQuotaFile(&c), QuotaFileError::kOk);
  EXPECT_TRUE(c.quota_from_file);
  EXPECT_TRUE(c.limited);
  EXPECT_EQ(c.mem_quota_bytes[0], uint64_t{1024} << 20);
  EXPECT_EQ(c.mem_quota_bytes[1], 0u);
  EXPECT_EQ(c.mem_quota_bytes[2], uint64_t{2048} << 20);
  EXPECT_EQ(c.mem_quota_bytes[3], 0u);  // unlisted: unlimited, not the environment's 8192
}

TEST_F(VnpuQuotaFileTest, FileAloneLimitsAProcessWithoutEnvironmentQuotas) {
  Write("512");
  Config c = Parse({"NPUSHARE_VNPU_QUOTA_FILE=" + path_});
  EXPECT_FALSE(c.limited);
  ASSERT_EQ(ApplyQuotaFile(&c), QuotaFileError::kOk);
  EXPECT_TRUE(c.limited);
  EXPECT_EQ(c.mem_quota_bytes[15], uint64_t{512} << 20);
}

TEST_F(VnpuQuotaFileTest, NoFileConfiguredIsNone) {
  Config c = Parse({"NPUSHARE_VNPU_MEM_MB=8192"});
  EXPECT_EQ(ApplyQuotaFile(&c), QuotaFileError::kNone);
  EXPECT_FALSE(c.quota_from_file);
  EXPECT_EQ(c.mem_quota_bytes[0], uint64_t{8192} << 20);
}

TEST_F(VnpuQuotaFileTest, RelativePathIsIgnored) {
  int bad = 0;
  Config c = Parse({"NPUSHARE_VNPU_QUOTA_FILE=quota"}, &bad);
  EXPECT_EQ(bad, 1);
  EXPECT_EQ(ApplyQuotaFile(&c), QuotaFileError::kNone);
}

TEST_F(VnpuQuotaFileTest, BadFilesLeaveTheEnvironmentsQuotas) {
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
       }) {
    Write(k.text);
    Config c = WithEnvQuota();
    EXPECT_EQ(ApplyQuotaFile(&c), k.want) << k.text;
    EXPECT_FALSE(c.quota_from_file);
    EXPECT_EQ(c.mem_quota_bytes[0], uint64_t{8192} << 20) << k.text;
  }
}

TEST_F(VnpuQuotaFileTest, MissingWritableOrSymlinkedFilesAreRefused) {
  Config missing = WithEnvQuota();
  EXPECT_EQ(ApplyQuotaFile(&missing), QuotaFileError::kIo);
  Write("1024", 0664);
  Config group_writable = WithEnvQuota();
  EXPECT_EQ(ApplyQuotaFile(&group_writable), QuotaFileError::kIo);
  EXPECT_EQ(group_writable.mem_quota_bytes[0], uint64_t{8192} << 20);
  ASSERT_EQ(chmod(path_.c_str(), 0444), 0);
  std::string real = path_;
  path_ = root_ + "/link";
  ASSERT_EQ(symlink(real.c_str(), path_.c_str()), 0);
  Config symlinked = WithEnvQuota();
  EXPECT_EQ(ApplyQuotaFile(&symlinked), QuotaFileError::kIo);
  path_ = root_;
  Config directory = WithEnvQuota();
  EXPECT_EQ(ApplyQuotaFile(&directory), QuotaFileError::kIo);
}

}  // namespace
}  // namespace npushare::vnpu
