// One test per validation rule of config/config_validation.h, driven through the loader so
// that the reported field and line are checked too. Assertions use Severity and field, never
// message text.
#include "config/config_validation.h"

#include <gtest/gtest.h>

#include <string>

#include "config/config_loader.h"
#include "unit/config/test_util.h"

namespace npushare::config {
namespace {

using testing::CountField;
using testing::Dump;
using testing::FindDiag;

// Line numbers below refer to this text (1-based).
constexpr const char* kBase = R"(vnpus:
  hamiVnpuCore: false
  configs:
    - chipName: 910B3
      commonWord: Ascend910B3
      resourceName: huawei.com/Ascend910B3
      resourceMemoryName: huawei.com/Ascend910B3-memory
      resourceCoreName: huawei.com/Ascend910B3-core
      memoryAllocatable: 65536
      memoryCapacity: 65536
      aiCore: 20
      aiCPU: 7
      templates:
        - name: vir05_1c_16g
          memory: 16384
          aiCore: 5
          aiCPU: 1
        - name: vir10_3c_32g
          memory: 32768
          aiCore: 10
          aiCPU: 3
)";

// A second chip appended to kBase's configs (lines 22..).
constexpr const char* kSecondChip = R"(    - chipName: 910B4
      commonWord: Ascend910B4
      resourceName: huawei.com/Ascend910B4
      resourceMemoryName: huawei.com/Ascend910B4-memory
      memoryAllocatable: 32768
      memoryCapacity: 32768
      aiCore: 20
      templates:
        - name: vir05_1c_8g
          memory: 8192
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

// FieldEdit: Replace(kBase, from, to) should be reported at `field`, on `line`.
struct FieldEdit {
  const char* from;
  const char* to;
  const char* field;
  int line;
};

Diagnostics Diags(const std::string& yaml, bool* ok = nullptr) {
  Diagnostics diags;
  auto r = ParseDeviceConfig(yaml, "t.yaml", &diags);
  if (ok != nullptr)
    *ok = r.ok();
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  return diags;
}

void ExpectOne(const std::string& yaml, const std::string& field, Severity s, int line) {
  bool ok = false;
  Diagnostics diags = Diags(yaml, &ok);
  const Diagnostic* d = FindDiag(diags, field, s);
  ASSERT_NE(d, nullptr) << "no " << field << " in:\n" << Dump(diags);
  EXPECT_EQ(d->line, line) << Dump(diags);
  EXPECT_EQ(d->file, "t.yaml");
  EXPECT_EQ(ok, CountSeverity(diags, Severity::kError) == 0) << Dump(diags);
}

TEST(ConfigValidationTest, BaseIsClean) {
  bool ok = false;
  Diagnostics diags = Diags(std::string(kBase) + kSecondChip, &ok);
  EXPECT_TRUE(ok);
  EXPECT_TRUE(diags.empty()) << Dump(diags);
}

TEST(ConfigValidationTest, MissingRequiredNames) {
  for (const char* key : {"commonWord", "resourceName", "resourceMemoryName"}) {
    std::string line_prefix = std::string("      ") + key + ": ";
    std::string text = kBase;
    const size_t at = text.find(line_prefix);
    ASSERT_NE(at, std::string::npos);
    const size_t eol = text.find('\n', at);
    text.replace(at, eol - at + 1, "");
    // Missing fields are reported at the chip (line 4).
    ExpectOne(text, std::string("vnpus.configs[0].") + key, Severity::kError, 4);
  }
}

TEST(ConfigValidationTest, MissingChipNameIsAWarning) {
  ExpectOne(Replace(kBase, "    - chipName: 910B3\n      commonWord", "    - commonWord"),
            "vnpus.configs[0].chipName", Severity::kWarning, 4);
}

TEST(ConfigValidationTest, MissingMemoryIsAnError) {
  ExpectOne(Replace(kBase, "      memoryAllocatable: 65536\n", ""),
            "vnpus.configs[0].memoryAllocatable", Severity::kError, 4);
  ExpectOne(Replace(kBase, "memoryCapacity: 65536", "memoryCapacity: 0"),
            "vnpus.configs[0].memoryCapacity", Severity::kError, 10);
}

TEST(ConfigValidationTest, NoChips) {
  ExpectOne("vnpus:\n  hamiVnpuCore: true\n", "vnpus.configs", Severity::kError, 2);
  ExpectOne("vnpus:\n  configs: []\n", "vnpus.configs", Severity::kError, 2);
}

TEST(ConfigValidationTest, DuplicateCommonWordChipNameAndResourceNames) {
  std::string second = Replace(kSecondChip, "commonWord: Ascend910B4", "commonWord: Ascend910B3");
  second = Replace(second, "chipName: 910B4", "chipName: 910B3");
  second = Replace(second, "resourceName: huawei.com/Ascend910B4",
                   "resourceName: huawei.com/Ascend910B3");
  Diagnostics diags = Diags(std::string(kBase) + second);
  const Diagnostic* cw = FindDiag(diags, "vnpus.configs[1].commonWord", Severity::kError);
  ASSERT_NE(cw, nullptr) << Dump(diags);
  EXPECT_EQ(cw->line, 23);
  const Diagnostic* chip = FindDiag(diags, "vnpus.configs[1].chipName", Severity::kError);
  ASSERT_NE(chip, nullptr) << Dump(diags);
  EXPECT_EQ(chip->line, 22);
  const Diagnostic* res = FindDiag(diags, "vnpus.configs[1].resourceName", Severity::kError);
  ASSERT_NE(res, nullptr) << Dump(diags);
  EXPECT_EQ(res->line, 24);
  // The first chip is not blamed.
  EXPECT_EQ(CountField(diags, "vnpus.configs[0].commonWord"), 0);
}

TEST(ConfigValidationTest, ResourceNameReusedBetweenRoles) {
  // The second chip's memory resource is the first chip's core resource.
  std::string second = Replace(kSecondChip, "resourceMemoryName: huawei.com/Ascend910B4-memory",
                               "resourceMemoryName: huawei.com/Ascend910B3-core");
  ExpectOne(std::string(kBase) + second, "vnpus.configs[1].resourceMemoryName", Severity::kError,
            25);
  // ...and within one chip.
  ExpectOne(Replace(kBase, "resourceCoreName: huawei.com/Ascend910B3-core",
                    "resourceCoreName: huawei.com/Ascend910B3-memory"),
            "vnpus.configs[0].resourceCoreName", Severity::kError, 8);
}

TEST(ConfigValidationTest, TemplateLargerThanCapacity) {
  ExpectOne(Replace(kBase, "memory: 32768", "memory: 70000"),
            "vnpus.configs[0].templates[1].memory", Severity::kError, 19);
}

TEST(ConfigValidationTest, AllocatableAboveCapacity) {
  ExpectOne(Replace(kBase, "memoryAllocatable: 65536", "memoryAllocatable: 65537"),
            "vnpus.configs[0].memoryAllocatable", Severity::kError, 9);
}

TEST(ConfigValidationTest, NegativeAndAbsurdNumbers) {
  const FieldEdit cases[] = {
      {"aiCore: 20", "aiCore: -1", "vnpus.configs[0].aiCore", 11},
      {"aiCore: 20", "aiCore: 1025", "vnpus.configs[0].aiCore", 11},
      {"aiCPU: 7", "aiCPU: -7", "vnpus.configs[0].aiCPU", 12},
      {"memoryCapacity: 65536", "memoryCapacity: 16777217", "vnpus.configs[0].memoryCapacity", 10},
      {"memoryAllocatable: 65536", "memoryAllocatable: -5", "vnpus.configs[0].memoryAllocatable",
       9},
      {"memory: 16384", "memory: -16384", "vnpus.configs[0].templates[0].memory", 15},
      {"aiCore: 5", "aiCore: -5", "vnpus.configs[0].templates[0].aiCore", 16},
      {"aiCPU: 3", "aiCPU: 2000", "vnpus.configs[0].templates[1].aiCPU", 21},
      {"aiCPU: 7\n", "aiCPU: 7\n      memoryFactor: 1025\n", "vnpus.configs[0].memoryFactor", 13},
      {"aiCPU: 7\n", "aiCPU: 7\n      memoryFactor: -1\n", "vnpus.configs[0].memoryFactor", 13},
  };
  for (const FieldEdit& c : cases) {
    SCOPED_TRACE(c.to);
    ExpectOne(Replace(kBase, c.from, c.to), c.field, Severity::kError, c.line);
  }
}

TEST(ConfigValidationTest, WrongTypes) {
  const FieldEdit cases[] = {
      {"aiCore: 20", "aiCore: twenty", "vnpus.configs[0].aiCore", 11},
      {"aiCore: 20", "aiCore: \"20\"", "vnpus.configs[0].aiCore", 11},
      {"aiCore: 20", "aiCore: 20.0", "vnpus.configs[0].aiCore", 11},
      {"aiCore: 20", "aiCore: 0x14", "vnpus.configs[0].aiCore", 11},
      {"aiCore: 20", "aiCore: [20]", "vnpus.configs[0].aiCore", 11},
      {"aiCore: 20", "aiCore: 99999999999", "vnpus.configs[0].aiCore", 11},
      {"memory: 16384", "memory: 99999999999999999999999", "vnpus.configs[0].templates[0].memory",
       15},
      {"commonWord: Ascend910B3", "commonWord: {a: b}", "vnpus.configs[0].commonWord", 5},
      {"hamiVnpuCore: false", "hamiVnpuCore: nope", "vnpus.hamiVnpuCore", 2},
      {"hamiVnpuCore: false", "hamiVnpuCore: \"false\"", "vnpus.hamiVnpuCore", 2},
      {"templates:\n", "templates: vir05\n      x_templates:\n", "vnpus.configs[0].templates", 13},
  };
  for (const FieldEdit& c : cases) {
    SCOPED_TRACE(c.to);
    bool ok = true;
    Diagnostics diags = Diags(Replace(kBase, c.from, c.to), &ok);
    EXPECT_FALSE(ok);
    const Diagnostic* d = FindDiag(diags, c.field, Severity::kError);
    ASSERT_NE(d, nullptr) << Dump(diags);
    EXPECT_EQ(d->line, c.line);
    // A field rejected for its type is reported once, not again by a semantic rule.
    EXPECT_EQ(CountField(diags, c.field), 1) << Dump(diags);
  }
}

TEST(ConfigValidationTest, Yaml11BooleansAreWarnings) {
  bool ok = false;
  Diagnostics diags = Diags(Replace(kBase, "hamiVnpuCore: false", "hamiVnpuCore: yes"), &ok);
  EXPECT_TRUE(ok);
  const Diagnostic* d = FindDiag(diags, "vnpus.hamiVnpuCore", Severity::kWarning);
  ASSERT_NE(d, nullptr) << Dump(diags);
  auto cfg =
      ParseDeviceConfig(Replace(kBase, "hamiVnpuCore: false", "hamiVnpuCore: on"), "t", nullptr);
  ASSERT_TRUE(cfg.ok());
  EXPECT_TRUE(cfg->hami_vnpu_core);
}

TEST(ConfigValidationTest, DuplicateTemplateNames) {
  ExpectOne(Replace(kBase, "name: vir10_3c_32g", "name: vir05_1c_16g"),
            "vnpus.configs[0].templates[1].name", Severity::kError, 18);
}

TEST(ConfigValidationTest, TemplateProblems) {
  ExpectOne(Replace(kBase, "name: vir10_3c_32g", "name: \"vir 10\""),
            "vnpus.configs[0].templates[1].name", Severity::kError, 18);
  ExpectOne(Replace(kBase, "        - name: vir10_3c_32g\n          memory: 32768\n",
                    "        - memory: 32768\n"),
            "vnpus.configs[0].templates[1].name", Severity::kError, 18);
  ExpectOne(Replace(kBase, "memory: 32768", "memory: 16384"),
            "vnpus.configs[0].templates[1].memory", Severity::kWarning, 19);
  ExpectOne(Replace(kBase, "aiCore: 10", "aiCore: 21"), "vnpus.configs[0].templates[1].aiCore",
            Severity::kWarning, 20);
}

TEST(ConfigValidationTest, SuperPodOutsideAscend910C) {
  ExpectOne(Replace(kBase, "aiCPU: 7\n", "aiCPU: 7\n      superPod: true\n"),
            "vnpus.configs[0].superPod", Severity::kWarning, 13);
  std::string c910 = Replace(kBase, "commonWord: Ascend910B3", "commonWord: Ascend910C");
  c910 = Replace(c910, "aiCPU: 7\n", "aiCPU: 7\n      superPod: true\n");
  EXPECT_EQ(CountField(Diags(c910), "vnpus.configs[0].superPod"), 0);
}

TEST(ConfigValidationTest, UnknownKeysAreWarningsWithTheKey) {
  ExpectOne(Replace(kBase, "aiCPU: 7\n", "aiCPU: 7\n      memoryFactr: 2\n"),
            "vnpus.configs[0].memoryFactr", Severity::kWarning, 13);
  // Keys are case-sensitive, as in upstream's scheduler.
  ExpectOne(Replace(kBase, "commonWord:", "commonword:"), "vnpus.configs[0].commonword",
            Severity::kWarning, 5);
  ExpectOne(Replace(kBase, "hamiVnpuCore: false", "hamiVnpuCore: false\n  extra: 1"), "vnpus.extra",
            Severity::kWarning, 3);
  ExpectOne(std::string(kBase) + "other: {}\n", "other", Severity::kWarning, 22);
}

TEST(ConfigValidationTest, PerChipHamiVnpuCoreIsIgnoredWithAWarning) {
  const std::string text = Replace(kBase, "aiCPU: 7\n", "aiCPU: 7\n      hamiVnpuCore: true\n");
  ExpectOne(text, "vnpus.configs[0].hamiVnpuCore", Severity::kWarning, 13);
  auto cfg = ParseDeviceConfig(text, "t", nullptr);
  ASSERT_TRUE(cfg.ok());
  EXPECT_FALSE(cfg->hami_vnpu_core);
}

TEST(ConfigValidationTest, DuplicateKeysAreErrors) {
  ExpectOne(Replace(kBase, "aiCPU: 7\n", "aiCPU: 7\n      aiCore: 21\n"), "vnpus.configs[0].aiCore",
            Severity::kError, 13);
}

TEST(ConfigValidationTest, CommonWordMustFitAnnotationKeys) {
  for (const char* bad : {"Ascend 910", "Ascend/910", "-Ascend", "Ascend_", "\"\"",
                          "A23456789012345678901234567890123456789012345"}) {
    SCOPED_TRACE(bad);
    ExpectOne(Replace(kBase, "commonWord: Ascend910B3", std::string("commonWord: ") + bad),
              "vnpus.configs[0].commonWord", Severity::kError, 5);
  }
}

TEST(ConfigValidationTest, ResourceNamesMustBeExtendedResourceNames) {
  for (const char* bad : {"Ascend910B3", "Huawei.com/Ascend910B3", "huawei.com/", "/x",
                          "kubernetes.io/npu", "huawei.com/Ascend 910"}) {
    SCOPED_TRACE(bad);
    ExpectOne(Replace(kBase, "resourceName: huawei.com/Ascend910B3",
                      std::string("resourceName: \"") + bad + "\""),
              "vnpus.configs[0].resourceName", Severity::kError, 6);
  }
}

TEST(ConfigValidationTest, RuntimeClassNameMustBeAName) {
  ExpectOne(Replace(kBase, "aiCPU: 7\n", "aiCPU: 7\n      runtimeClassName: Ascend_RT\n"),
            "vnpus.configs[0].runtimeClassName", Severity::kError, 13);
}

TEST(ConfigValidationTest, EveryErrorIsReportedNotJustTheFirst) {
  std::string text = Replace(kBase, "aiCore: 20", "aiCore: -1");
  text = Replace(text, "memory: 32768", "memory: 70000");
  text = Replace(text, "commonWord: Ascend910B3", "commonWord: \"bad word\"");
  Diagnostics diags = Diags(text);
  EXPECT_EQ(CountSeverity(diags, Severity::kError), 3) << Dump(diags);
}

TEST(ConfigValidationTest, WorksOnConfigsBuiltInCode) {
  DeviceConfig cfg;
  ChipConfig chip;
  chip.common_word = "Ascend910B3";
  chip.resource_name = "huawei.com/Ascend910B3";
  chip.resource_memory_name = "huawei.com/Ascend910B3-memory";
  chip.memory_allocatable = 65536;
  chip.memory_capacity = 1024;
  cfg.chips.push_back(chip);
  Diagnostics diags;
  ValidateDeviceConfig(cfg, SourceMap{}, "code", &diags);
  const Diagnostic* d = FindDiag(diags, "vnpus.configs[0].memoryAllocatable", Severity::kError);
  ASSERT_NE(d, nullptr) << Dump(diags);
  EXPECT_EQ(d->line, 0);
  EXPECT_NE(FindDiag(diags, "vnpus.configs[0].chipName", Severity::kWarning), nullptr);
}

// --- node config -------------------------------------------------------------------------

Diagnostics NodeDiags(const std::string& yaml, bool* ok = nullptr) {
  Diagnostics diags;
  auto r = ParseNodeConfig(yaml, "n.yaml", &diags);
  if (ok != nullptr)
    *ok = r.ok();
  return diags;
}

TEST(NodeConfigValidationTest, Rules) {
  const std::string text = R"(nodes:
  - name: node-a
    vDeviceCount: -1
    filterDevices:
      index: [0, 0, -1, 70000]
      uuid: ["u1", "u1", ""]
  - name: node-a
    vDeviceCount: 5000
  - name: Node_B
  - hami-vnpu-core: true
)";
  bool ok = true;
  Diagnostics diags = NodeDiags(text, &ok);
  EXPECT_FALSE(ok);
  struct Want {
    const char* field;
    Severity s;
    int line;
  };
  for (const Want& w :
       {Want{"nodes[0].vDeviceCount", Severity::kError, 3},
        Want{"nodes[0].filterDevices.index[1]", Severity::kWarning, 5},
        Want{"nodes[0].filterDevices.index[2]", Severity::kError, 5},
        Want{"nodes[0].filterDevices.index[3]", Severity::kError, 5},
        Want{"nodes[0].filterDevices.uuid[1]", Severity::kWarning, 6},
        Want{"nodes[0].filterDevices.uuid[2]", Severity::kError, 6},
        Want{"nodes[1].name", Severity::kError, 7},
        Want{"nodes[1].vDeviceCount", Severity::kError, 8},
        Want{"nodes[2].name", Severity::kError, 9}, Want{"nodes[3].name", Severity::kError, 10}}) {
    const Diagnostic* d = FindDiag(diags, w.field, w.s);
    ASSERT_NE(d, nullptr) << w.field << "\n" << Dump(diags);
    EXPECT_EQ(d->line, w.line) << w.field;
  }
  EXPECT_EQ(CountSeverity(diags, Severity::kError), 8) << Dump(diags);
}

TEST(NodeConfigValidationTest, BadIndexTypes) {
  bool ok = true;
  Diagnostics diags =
      NodeDiags("nodes:\n  - name: a\n    filterDevices:\n      index: [x, 1.5]\n", &ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(FindDiag(diags, "nodes[0].filterDevices.index[0]", Severity::kError), nullptr);
  EXPECT_NE(FindDiag(diags, "nodes[0].filterDevices.index[1]", Severity::kError), nullptr);
}

TEST(SoftSlicingReachableTest, WarnsOnlyWhenNothingCanEnableIt) {
  auto device = ParseDeviceConfig(kBase, "d.yaml", nullptr);
  ASSERT_TRUE(device.ok());
  NodeConfig nodes;
  nodes.nodes.push_back(NodeConfigEntry{"a", false, 0, {}, {}});
  Diagnostics diags;
  CheckSoftSlicingReachable(*device, SourceMap{}, "d.yaml", nodes, &diags);
  ASSERT_NE(FindDiag(diags, "vnpus.configs[0].resourceCoreName", Severity::kWarning), nullptr);
  EXPECT_EQ(CountSeverity(diags, Severity::kError), 0);

  nodes.nodes.push_back(NodeConfigEntry{"b", true, 0, {}, {}});
  diags.clear();
  CheckSoftSlicingReachable(*device, SourceMap{}, "d.yaml", nodes, &diags);
  EXPECT_TRUE(diags.empty());

  DeviceConfig global_on = *device;
  global_on.hami_vnpu_core = true;
  diags.clear();
  CheckSoftSlicingReachable(global_on, SourceMap{}, "d.yaml", NodeConfig{}, &diags);
  EXPECT_TRUE(diags.empty());
}

}  // namespace
}  // namespace npushare::config
