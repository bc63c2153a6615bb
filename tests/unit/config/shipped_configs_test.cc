// Every config the project ships (deploy/config, examples/config) must load without errors,
// and every deliberately broken sample (examples/config/invalid) must fail with the
// findings it was written for. STYLE: "a test loads every file under examples/ and deploy/".
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "unit/config/test_util.h"

namespace npushare::config {
namespace {

namespace fs = std::filesystem;
using testing::Dump;
using testing::FindDiag;

std::vector<std::string> YamlFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(NPUSHARE_SOURCE_DIR) / dir, ec)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml"))
      out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void ExpectLoadsClean(const std::string& path) {
  SCOPED_TRACE(path);
  Diagnostics diags;
  std::string text;
  switch (ConfigKind kind = [&] {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return DetectConfigKind(text);
  }()) {
    case ConfigKind::kDeviceConfig: {
      auto cfg = LoadDeviceConfigFile(path, &diags);
      ASSERT_TRUE(cfg.ok()) << cfg.status().ToString() << "\n" << Dump(diags);
      EXPECT_FALSE(cfg->chips.empty());
      break;
    }
    case ConfigKind::kNodeConfig: {
      auto cfg = LoadNodeConfigFile(path, &diags);
      ASSERT_TRUE(cfg.ok()) << cfg.status().ToString() << "\n" << Dump(diags);
      break;
    }
    default:
      ADD_FAILURE() << "not a config: kind " << static_cast<int>(kind);
  }
  EXPECT_EQ(CountSeverity(diags, Severity::kError), 0) << Dump(diags);
  // Shipped files should not even warn.
  EXPECT_EQ(CountSeverity(diags, Severity::kWarning), 0) << Dump(diags);
}

TEST(ShippedConfigsTest, EveryDeployConfigValidates) {
  const auto files = YamlFiles("deploy/config");
  ASSERT_GE(files.size(), 2u);  // device-config.yaml and node-config.yaml at least
  for (const auto& f : files)
    ExpectLoadsClean(f);
}

TEST(ShippedConfigsTest, EveryExampleConfigValidates) {
  const auto files = YamlFiles("examples/config");
  ASSERT_GE(files.size(), 1u);
  for (const auto& f : files)
    ExpectLoadsClean(f);
}

TEST(ShippedConfigsTest, DefaultDeviceConfigIsTheUpstreamTable) {
  auto cfg = LoadDeviceConfigFile(
      std::string(NPUSHARE_SOURCE_DIR) + "/deploy/config/device-config.yaml", nullptr);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_FALSE(cfg->hami_vnpu_core);
  ASSERT_EQ(cfg->chips.size(), 7u);
  struct Want {
    const char* cw;
    const char* chip;
    int64_t alloc, cap;
    size_t templates;
  };
  for (const Want& w :
       {Want{"Ascend910A", "910A", 32768, 32768, 4}, Want{"Ascend910B2", "910B2", 65536, 65536, 3},
        Want{"Ascend910B3", "910B3", 65536, 65536, 2},
        Want{"Ascend910B4-1", "910B4-1", 65536, 65536, 2},
        Want{"Ascend910B4", "910B4", 32768, 32768, 2}, Want{"Ascend310P", "310P3", 21527, 24576, 3},
        Want{"Ascend910C", "Ascend910", 65536, 65536, 2}}) {
    const ChipConfig* c = cfg->FindByCommonWord(w.cw);
    ASSERT_NE(c, nullptr) << w.cw;
    EXPECT_EQ(c->chip_name, w.chip);
    EXPECT_EQ(c->memory_allocatable, w.alloc);
    EXPECT_EQ(c->memory_capacity, w.cap);
    EXPECT_EQ(c->templates.size(), w.templates);
    EXPECT_EQ(c->resource_core_name, std::string("huawei.com/") + w.cw + "-core");
  }
  const ChipConfig* p310 = cfg->FindByCommonWord("Ascend310P");
  ASSERT_NE(p310, nullptr);
  EXPECT_EQ(p310->templates.front().name, "vir01");
  EXPECT_EQ(p310->templates.back().memory_mb, 12288);
}

TEST(ShippedConfigsTest, InvalidDeviceSampleReportsEachProblem) {
  const std::string path =
      std::string(NPUSHARE_SOURCE_DIR) + "/examples/config/invalid/device-config-errors.yaml";
  Diagnostics diags;
  auto cfg = LoadDeviceConfigFile(path, &diags);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), StatusCode::kInvalidArgument);
  struct Want {
    const char* field;
    int line;
  };
  for (const Want& w :
       {Want{"vnpus.configs[0].memoryAllocatable", 10},
        Want{"vnpus.configs[0].templates[1].memory", 17}, Want{"vnpus.configs[1].chipName", 18},
        Want{"vnpus.configs[1].commonWord", 19}, Want{"vnpus.configs[1].resourceName", 20},
        Want{"vnpus.configs[1].resourceMemoryName", 21},
        Want{"vnpus.configs[1].memoryAllocatable", 22}, Want{"vnpus.configs[1].aiCore", 24}}) {
    const Diagnostic* d = FindDiag(diags, w.field, Severity::kError);
    ASSERT_NE(d, nullptr) << w.field << "\n" << Dump(diags);
    EXPECT_EQ(d->line, w.line) << w.field;
    EXPECT_EQ(d->file, path);
  }
  EXPECT_EQ(CountSeverity(diags, Severity::kError), 8) << Dump(diags);
}

TEST(ShippedConfigsTest, InvalidNodeSampleReportsEachProblem) {
  const std::string path =
      std::string(NPUSHARE_SOURCE_DIR) + "/examples/config/invalid/node-config-errors.yaml";
  Diagnostics diags;
  ASSERT_FALSE(LoadNodeConfigFile(path, &diags).ok());
  struct Want {
    const char* field;
    int line;
  };
  for (const Want& w :
       {Want{"nodes[0].vDeviceCount", 4}, Want{"nodes[0].filterDevices.index[1]", 6},
        Want{"nodes[0].filterDevices.index[2]", 6}, Want{"nodes[1].name", 7},
        Want{"nodes[1].hami-vnpu-core", 8}}) {
    const Diagnostic* d = FindDiag(diags, w.field, Severity::kError);
    ASSERT_NE(d, nullptr) << w.field << "\n" << Dump(diags);
    EXPECT_EQ(d->line, w.line) << w.field;
  }
}

TEST(ShippedConfigsTest, EveryInvalidSampleFails) {
  const auto files = YamlFiles("examples/config/invalid");
  ASSERT_GE(files.size(), 3u);
  for (const auto& f : files) {
    std::ostringstream out;
    EXPECT_EQ(ValidateConfigFiles({f}, out), 1) << f << "\n" << out.str();
  }
}

}  // namespace
}  // namespace npushare::config
