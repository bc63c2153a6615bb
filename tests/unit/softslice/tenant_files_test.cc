// The node side of soft slicing: what WriteTenantFiles writes is exactly what the arbiter
// (ReadShareFile) and libvnpu (ParseQuotaText) read back.
#include "softslice/node/tenant_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "softslice/arbiter/share_file.h"
#include "softslice/interceptor/config.h"
#include "support/temp_dir.h"

namespace npushare::softslice {
namespace {

class TenantFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path();
    ASSERT_FALSE(root_.empty()) << "cannot make a temporary directory";
    ASSERT_EQ(chmod(root_.c_str(), 0755), 0);
    options_.shares_dir = root_ + "/shares";
    options_.quota_root = root_ + "/quota";
    ASSERT_EQ(mkdir(options_.shares_dir.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(options_.quota_root.c_str(), 0755), 0);
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static TenantGrant TwoChips() {
    TenantGrant g;
    g.tenant = "pod-7f3a.infer-0";
    g.devices = {{40, false, 3, 16384}, {60, true, 5, 0}};
    return g;
  }
  std::string ShareFile(const std::string& tenant) const {
    return options_.shares_dir + "/" + tenant + ".share";
  }
  std::string QuotaFile(const std::string& tenant) const {
    return options_.quota_root + "/" + tenant + "/quota";
  }
  npushare::testing::ScopedTempDir temp_{"tenant-files"};
  std::string root_;
  TenantFilesOptions options_;
};

TEST_F(TenantFilesTest, WhatIsWrittenIsWhatTheArbiterAndLibvnpuRead) {
  TenantGrant g = TwoChips();
  ASSERT_TRUE(WriteTenantFiles(options_, g).ok());

  auto share = ReadShareFile(ShareFile(g.tenant));  // also checks owner and mode
  ASSERT_TRUE(share.ok()) << share.status().ToString();
  EXPECT_TRUE(share->devices[0].listed);
  EXPECT_EQ(share->devices[0].percent, 40u);
  EXPECT_FALSE(share->devices[0].hard_cap);
  EXPECT_EQ(share->devices[0].chip, 3);
  EXPECT_EQ(share->devices[1].percent, 60u);
  EXPECT_TRUE(share->devices[1].hard_cap);
  EXPECT_EQ(share->devices[1].chip, 5);
  EXPECT_FALSE(share->devices[2].listed);

  std::string quota = Read(QuotaFile(g.tenant));
  EXPECT_EQ(quota, "16384,0\n");
  uint64_t mb[VNPU_MAX_DEVICES] = {};
  ASSERT_EQ(vnpu::ParseQuotaText(quota.data(), quota.size(), mb), vnpu::QuotaFileError::kOk);
  EXPECT_EQ(mb[0], 16384u);
  EXPECT_EQ(mb[1], 0u);

  struct stat st;
  ASSERT_EQ(stat(QuotaFile(g.tenant).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  ASSERT_EQ(stat((options_.quota_root + "/" + g.tenant).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(stat(ShareFile(g.tenant).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(TenantFilesTest, RewritingReplacesBothFiles) {
  TenantGrant g = TwoChips();
  ASSERT_TRUE(WriteTenantFiles(options_, g).ok());
  g.devices = {{0, false, -1, 2048}};
  ASSERT_TRUE(WriteTenantFiles(options_, g).ok());
  EXPECT_EQ(Read(QuotaFile(g.tenant)), "2048\n");
  auto share = ReadShareFile(ShareFile(g.tenant));
  ASSERT_TRUE(share.ok());
  EXPECT_TRUE(share->devices[0].listed);
  EXPECT_EQ(share->devices[0].percent, 0u);
  EXPECT_EQ(share->devices[0].chip, -1);
  EXPECT_FALSE(share->devices[1].listed);
}

TEST_F(TenantFilesTest, InvalidGrantsAreRefusedAndWriteNothing) {
  auto with = [](auto edit) {
    TenantGrant g = TwoChips();
    edit(g);
    return g;
  };
  const TenantGrant bad[] = {
      with([](TenantGrant& g) { g.tenant = ""; }),
      with([](TenantGrant& g) { g.tenant = "../etc"; }),
      with([](TenantGrant& g) { g.tenant = "a/b"; }),
      with([](TenantGrant& g) { g.tenant = ".hidden"; }),
      with([](TenantGrant& g) { g.tenant = "Upper"; }),
      with([](TenantGrant& g) { g.tenant = "trailing-"; }),
      with([](TenantGrant& g) { g.tenant = std::string(129, 'a'); }),
      with([](TenantGrant& g) { g.devices.clear(); }),
      with([](TenantGrant& g) { g.devices.resize(VNPU_MAX_DEVICES + 1); }),
      with([](TenantGrant& g) { g.devices[0].core_percent = 101; }),
      with([](TenantGrant& g) {
        g.devices[0] = {0, true, -1, 0};
      }),
      with([](TenantGrant& g) { g.devices[0].chip = static_cast<int32_t>(VNPU_MAX_CHIPS); }),
      with([](TenantGrant& g) { g.devices[0].chip = -2; }),
      with([](TenantGrant& g) { g.devices[1].chip = g.devices[0].chip; }),
      with([](TenantGrant& g) { g.devices[0].memory_mb = vnpu::kMaxQuotaMb + 1; }),
  };
  for (const TenantGrant& g : bad) {
    Status s = WriteTenantFiles(options_, g);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << g.tenant;
    EXPECT_FALSE(s.message().empty());
  }
  EXPECT_TRUE(std::filesystem::is_empty(options_.shares_dir));
  EXPECT_TRUE(std::filesystem::is_empty(options_.quota_root));
}

// ENOENT is kNotFound (common/fs_error.h), as everywhere else (issue 14).
TEST_F(TenantFilesTest, MissingDirectoriesAreNotFound) {
  TenantFilesOptions missing = options_;
  missing.quota_root = root_ + "/nope";
  EXPECT_EQ(WriteTenantFiles(missing, TwoChips()).code(), StatusCode::kNotFound);
  missing = options_;
  missing.shares_dir = root_ + "/nope";
  EXPECT_EQ(WriteTenantFiles(missing, TwoChips()).code(), StatusCode::kNotFound);
}

TEST_F(TenantFilesTest, RemoveDeletesEverythingAndToleratesMissingFiles) {
  TenantGrant g = TwoChips();
  ASSERT_TRUE(WriteTenantFiles(options_, g).ok());
  ASSERT_TRUE(RemoveTenantFiles(options_, g.tenant).ok());
  EXPECT_TRUE(std::filesystem::is_empty(options_.shares_dir));
  EXPECT_TRUE(std::filesystem::is_empty(options_.quota_root));
  EXPECT_TRUE(RemoveTenantFiles(options_, g.tenant).ok());
  EXPECT_EQ(RemoveTenantFiles(options_, "../x").code(), StatusCode::kInvalidArgument);
}

TEST(RenderShareFileTest, ParsingTheRenderedTextGivesTheSpecBack) {
  ShareSpec spec;
  spec.devices[0] = {true, 0, false, -1};
  spec.devices[3] = {true, 25, true, 7};
  spec.devices[15] = {true, 100, false, 63};
  auto back = ParseShareFile(RenderShareFile(spec));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    EXPECT_EQ(back->devices[d].listed, spec.devices[d].listed) << d;
    EXPECT_EQ(back->devices[d].percent, spec.devices[d].percent) << d;
    EXPECT_EQ(back->devices[d].hard_cap, spec.devices[d].hard_cap) << d;
    EXPECT_EQ(back->devices[d].chip, spec.devices[d].chip) << d;
  }
  EXPECT_EQ(RenderShareFile(ShareSpec{}),
            "# npushare share file: <device> <percent> [cap] [chip=N]\n");
}

}  // namespace
}  // namespace npushare::softslice
