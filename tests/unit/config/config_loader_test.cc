#include "config/config_loader.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "unit/config/test_util.h"

namespace npushare::config {
namespace {

using testing::Dump;
using testing::FindDiag;

constexpr const char* kBare = R"(vnpus:
  hamiVnpuCore: true
  configs:
    - chipName: Ascend910
      commonWord: Ascend910C
      resourceName: huawei.com/Ascend910C
      resourceMemoryName: huawei.com/Ascend910C-memory
      resourceCoreName: huawei.com/Ascend910C-core
      memoryAllocatable: 65536
      memoryCapacity: 65536
      memoryFactor: 2
      aiCore: 20
      aiCPU: 7
      runtimeClassName: ascend
      overwriteEnv: true
      superPod: true
      templates:
        - name: vir10_3c_32g
          memory: 32768
          aiCore: 10
          aiCPU: 3
        - name: vir05_1c_16g
          memory: 16384
          aiCore: 5
          aiCPU: 1
)";

// Indents every line of `text` by `n` spaces (for embedding in a ConfigMap).
std::string Indent(const std::string& text, int n) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    out += line.empty() ? "\n" : std::string(static_cast<size_t>(n), ' ') + line + "\n";
  }
  return out;
}

std::string ConfigMap(const std::string& key, const std::string& body, const char* style = "|-") {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hami-scheduler-device\n"
         "  namespace: kube-system\ndata:\n  " +
         key + ": " + style + "\n" + Indent(body, 4);
}
constexpr int kConfigMapBodyLine = 8;  // first body line in ConfigMap() output (1-based)

void ExpectFullChip(const DeviceConfig& cfg) {
  EXPECT_TRUE(cfg.hami_vnpu_core);
  ASSERT_EQ(cfg.chips.size(), 1u);
  const ChipConfig& c = cfg.chips[0];
  EXPECT_EQ(c.chip_name, "Ascend910");
  EXPECT_EQ(c.common_word, "Ascend910C");
  EXPECT_EQ(c.resource_name, "huawei.com/Ascend910C");
  EXPECT_EQ(c.resource_memory_name, "huawei.com/Ascend910C-memory");
  EXPECT_EQ(c.resource_core_name, "huawei.com/Ascend910C-core");
  EXPECT_EQ(c.memory_allocatable, 65536);
  EXPECT_EQ(c.memory_capacity, 65536);
  EXPECT_EQ(c.memory_factor, 2);
  EXPECT_EQ(c.ai_core, 20);
  EXPECT_EQ(c.ai_cpu, 7);
  EXPECT_EQ(c.runtime_class_name, "ascend");
  EXPECT_TRUE(c.overwrite_env);
  EXPECT_TRUE(c.super_pod);
  ASSERT_EQ(c.templates.size(), 2u);
  // Sorted ascending by memory on load.
  EXPECT_EQ(c.templates[0].name, "vir05_1c_16g");
  EXPECT_EQ(c.templates[0].memory_mb, 16384);
  EXPECT_EQ(c.templates[0].ai_core, 5);
  EXPECT_EQ(c.templates[0].ai_cpu, 1);
  EXPECT_EQ(c.templates[1].name, "vir10_3c_32g");
  EXPECT_EQ(c.templates[1].memory_mb, 32768);
}

TEST(ConfigLoaderTest, BareShapeLoadsEveryField) {
  Diagnostics diags;
  auto cfg = ParseDeviceConfig(kBare, "bare.yaml", &diags);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_TRUE(diags.empty()) << Dump(diags);
  ExpectFullChip(*cfg);
}

TEST(ConfigLoaderTest, ConfigMapShapeLoadsTheSame) {
  Diagnostics diags;
  auto cfg = ParseDeviceConfig(ConfigMap("device-config.yaml", kBare), "cm.yaml", &diags);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString() << Dump(diags);
  EXPECT_TRUE(diags.empty()) << Dump(diags);
  ExpectFullChip(*cfg);
}

TEST(ConfigLoaderTest, DefaultsWhenOptionalFieldsAreAbsent) {
  auto cfg = ParseDeviceConfig(
      "vnpus:\n  configs:\n  - commonWord: X1\n    chipName: x1\n"
      "    resourceName: a.io/x1\n    resourceMemoryName: a.io/x1-mem\n"
      "    memoryAllocatable: 10\n    memoryCapacity: 10\n    resourceCoreName:\n",
      "t", nullptr);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_FALSE(cfg->hami_vnpu_core);
  const ChipConfig& c = cfg->chips.at(0);
  EXPECT_EQ(c.resource_core_name, "");  // null counts as absent
  EXPECT_EQ(c.memory_factor, 0);
  EXPECT_FALSE(c.super_pod);
  EXPECT_TRUE(c.templates.empty());
}

TEST(ConfigLoaderTest, ConfigMapDiagnosticsPointIntoTheOriginalFile) {
  // Error on body line 19 (1-based): `memory: 32768` of the first listed template.
  std::string body = kBare;
  body.replace(body.find("memory: 32768"), 13, "memory: 70000");
  Diagnostics diags;
  auto cfg = ParseDeviceConfig(ConfigMap("device-config.yaml", body), "cm.yaml", &diags);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), StatusCode::kInvalidArgument);
  const Diagnostic* d = FindDiag(diags, "vnpus.configs[0].templates[0].memory", Severity::kError);
  ASSERT_NE(d, nullptr) << Dump(diags);
  EXPECT_EQ(d->line, kConfigMapBodyLine + 19 - 1);
  // `          memory: 70000` indented by 4 more in the ConfigMap: value at column 19 + 4.
  EXPECT_EQ(d->column, 19 + 4);
  EXPECT_EQ(d->file, "cm.yaml");

  // Same in the bare file: line 19, column 19.
  diags.clear();
  EXPECT_FALSE(ParseDeviceConfig(body, "bare.yaml", &diags).ok());
  d = FindDiag(diags, "vnpus.configs[0].templates[0].memory", Severity::kError);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->line, 19);
  EXPECT_EQ(d->column, 19);
}

TEST(ConfigLoaderTest, ConfigMapLiteralVariantsAndExplicitIndent) {
  std::string body = kBare;
  body.replace(body.find("aiCore: 20"), 10, "aiCore: -20");  // body line 12
  // An explicit indentation indicator counts from the parent mapping (column 2): 2 + 2 = 4.
  for (const char* style : {"|", "|+", "|-", "|2-", "|-2", "|2"}) {
    SCOPED_TRACE(style);
    Diagnostics diags;
    EXPECT_FALSE(
        ParseDeviceConfig(ConfigMap("device-config.yaml", body, style), "cm", &diags).ok());
    const Diagnostic* d = FindDiag(diags, "vnpus.configs[0].aiCore", Severity::kError);
    ASSERT_NE(d, nullptr) << Dump(diags);
    EXPECT_EQ(d->line, kConfigMapBodyLine + 12 - 1);
    EXPECT_EQ(d->column, 15 + 4);
  }
}

TEST(ConfigLoaderTest, LeadingBlankLinesInBlockScalarKeepLineNumbers) {
  std::string text = ConfigMap("device-config.yaml", std::string("\n\n") + kBare);
  text.replace(text.find("aiCore: 20"), 10, "aiCore: -20");
  Diagnostics diags;
  EXPECT_FALSE(ParseDeviceConfig(text, "cm", &diags).ok());
  const Diagnostic* d = FindDiag(diags, "vnpus.configs[0].aiCore", Severity::kError);
  ASSERT_NE(d, nullptr) << Dump(diags);
  EXPECT_EQ(d->line, kConfigMapBodyLine + 2 + 12 - 1);
}

TEST(ConfigLoaderTest, NonLiteralEmbeddingPointsAtTheDataEntry) {
  const std::string text =
      "kind: ConfigMap\ndata:\n  device-config.yaml: \"vnpus:\\n  configs: []\\n\"\n";
  Diagnostics diags;
  EXPECT_FALSE(ParseDeviceConfig(text, "cm", &diags).ok());
  const Diagnostic* d = FindDiag(diags, "vnpus.configs", Severity::kError);
  ASSERT_NE(d, nullptr) << Dump(diags);
  EXPECT_EQ(d->line, 3);
}

TEST(ConfigLoaderTest, ConfigMapProblems) {
  struct Case {
    const char* name;
    std::string text;
    int line;
  };
  const Case cases[] = {
      {"not a string", "kind: ConfigMap\ndata:\n  device-config.yaml:\n    vnpus: {}\n", 4},
      {"no vnpus inside", ConfigMap("device-config.yaml", "nodes: []\n"), 7},
      {"bad inner yaml", ConfigMap("device-config.yaml", "vnpus:\n  configs: [\n"), 0},
      {"no key", ConfigMap("other.yaml", kBare), 1},
      {"two configs", std::string(kBare) + "---\n" + kBare, 27},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Diagnostics diags;
    auto cfg = ParseDeviceConfig(c.text, "cm", &diags);
    ASSERT_FALSE(cfg.ok());
    EXPECT_EQ(cfg.status().code(), StatusCode::kInvalidArgument);
    ASSERT_FALSE(diags.empty());
    EXPECT_EQ(diags[0].severity, Severity::kError);
    if (c.line > 0) {
      EXPECT_EQ(diags[0].line, c.line) << Dump(diags);
    } else {
      EXPECT_GT(diags[0].line, kConfigMapBodyLine - 1) << Dump(diags);
    }
  }
}

TEST(ConfigLoaderTest, MultiDocumentFileWithOtherObjects) {
  const std::string text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\n" +
                           ConfigMap("device-config.yaml", kBare) + "---\n" +
                           ConfigMap("node-config.yaml", "nodes: []\n");
  auto cfg = ParseDeviceConfig(text, "multi", nullptr);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ExpectFullChip(*cfg);
  auto nodes = ParseNodeConfig(text, "multi", nullptr);
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  EXPECT_TRUE(nodes->nodes.empty());
}

TEST(ConfigLoaderTest, NodeConfigBothShapes) {
  const std::string body = R"(nodes:
  - name: "node-a"
    hami-vnpu-core: false
    vDeviceCount: 8
    filterDevices:
      index: [3, 5]
      uuid: ["abc-1"]
  - name: node-b
)";
  for (const std::string& text : {body, ConfigMap("node-config.yaml", body)}) {
    Diagnostics diags;
    auto cfg = ParseNodeConfig(text, "n", &diags);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    EXPECT_TRUE(diags.empty()) << Dump(diags);
    ASSERT_EQ(cfg->nodes.size(), 2u);
    const NodeConfigEntry* a = cfg->Find("node-a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->hami_vnpu_core, std::optional<bool>(false));
    EXPECT_EQ(a->vdevice_count, 8);
    EXPECT_EQ(a->filter_indexes, (std::vector<int32_t>{3, 5}));
    EXPECT_EQ(a->filter_uuids, (std::vector<std::string>{"abc-1"}));
    EXPECT_EQ(cfg->nodes[1].hami_vnpu_core, std::nullopt);
  }
}

TEST(ConfigLoaderTest, DetectConfigKind) {
  EXPECT_EQ(DetectConfigKind(kBare), ConfigKind::kDeviceConfig);
  EXPECT_EQ(DetectConfigKind(ConfigMap("device-config.yaml", kBare)), ConfigKind::kDeviceConfig);
  EXPECT_EQ(DetectConfigKind("nodes: []\n"), ConfigKind::kNodeConfig);
  EXPECT_EQ(DetectConfigKind(ConfigMap("node-config.yaml", "nodes: []\n")),
            ConfigKind::kNodeConfig);
  EXPECT_EQ(DetectConfigKind("kind: Pod\n"), ConfigKind::kUnknown);
  EXPECT_EQ(DetectConfigKind("[unclosed"), ConfigKind::kUnknown);
  EXPECT_EQ(DetectConfigKind(""), ConfigKind::kUnknown);
}

TEST(ConfigLoaderTest, NullDiagnosticsPointerIsAllowed) {
  EXPECT_TRUE(ParseDeviceConfig(kBare, "t", nullptr).ok());
  EXPECT_FALSE(ParseDeviceConfig("vnpus: 3\n", "t", nullptr).ok());
}

TEST(ConfigLoaderTest, FormatDiagnostic) {
  Diagnostic d{Severity::kError, "f.yaml", 42, 17, "vnpus.configs[2].templates[1].memory", "m"};
  EXPECT_EQ(FormatDiagnostic(d), "f.yaml:42:17: error: vnpus.configs[2].templates[1].memory: m");
  d.severity = Severity::kWarning;
  d.line = 0;
  d.field = "";
  EXPECT_EQ(FormatDiagnostic(d), "f.yaml: warning: m");
}

// --- hostile input ---------------------------------------------------------------------

void ExpectRejected(const std::string& text, const char* what) {
  SCOPED_TRACE(what);
  Diagnostics diags;
  auto cfg = ParseDeviceConfig(text, "evil.yaml", &diags);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), StatusCode::kInvalidArgument);
  EXPECT_GE(CountSeverity(diags, Severity::kError), 1);
  EXPECT_EQ(ParseNodeConfig(text, "evil.yaml", nullptr).ok(), false);
  (void)DetectConfigKind(text);  // must not crash either
}

TEST(ConfigLoaderHostileTest, BillionLaughs) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i)
      text += std::string(i ? ", *" : "*") + static_cast<char>(c - 1);
    text += "]\n";
  }
  text += "vnpus:\n  configs: *j\n";
  ExpectRejected(text, "aliases");
}

TEST(ConfigLoaderHostileTest, AliasesWithinLimitsStillWork) {
  std::string text = kBare;
  text.replace(text.find("memoryCapacity: 65536"), 21, "memoryCapacity: *cap");
  text.replace(text.find("memoryAllocatable: 65536"), 24, "memoryAllocatable: &cap 65536");
  auto cfg = ParseDeviceConfig(text, "t", nullptr);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->chips[0].memory_capacity, 65536);
}

TEST(ConfigLoaderHostileTest, DeepNesting) {
  ExpectRejected(std::string(100000, '[') + std::string(100000, ']'), "flow");
  ExpectRejected("vnpus:\n  configs: " + std::string(40, '[') + std::string(40, ']') + "\n",
                 "just over the limit");
  std::string block = "vnpus:\n";
  for (int i = 0; i < 200; ++i)
    block += std::string(static_cast<size_t>(2 * i + 2), ' ') + "a:\n";
  ExpectRejected(block, "block");
}

TEST(ConfigLoaderHostileTest, HugeAndGarbageInput) {
  ExpectRejected(std::string((size_t{4} << 20) + 1, 'a'), "too big");
  ExpectRejected("vnpus:\n  configs:\n" + std::string(300000, '-') + "\n", "many dashes");
  std::string many = "vnpus:\n  configs: [";
  for (int i = 0; i < 250000; ++i)
    many += "1,";
  many += "1]\n";
  ExpectRejected(many, "too many nodes");
  ExpectRejected(std::string("\0\xff\xfe\x01vnpus", 9), "binary");
  ExpectRejected("", "empty");
  ExpectRejected("# only a comment\n", "comment");
  ExpectRejected("- vnpus\n", "list");
  ExpectRejected("vnpus:\n\tconfigs: []\n", "tab");
  ExpectRejected("vnpus: !!binary aGVsbG8=\n", "tagged");
  ExpectRejected("vnpus: {configs: [{templates: [{name: {a: b}}]}]}\n", "map as name");
  ExpectRejected("{? [a]: b}\n", "complex key");
  ExpectRejected("vnpus:\n  configs:\n  - {[1]: 2}\n", "complex key inside");
}

TEST(ConfigLoaderHostileTest, HostileKeysAndValuesStayShortAndPrintable) {
  const std::string key(1000, 'k');  // YAML caps implicit keys at 1024
  Diagnostics diags;
  auto cfg =
      ParseDeviceConfig(std::string(kBare) + key + ": 1\n" + "\"\\x01\\e[2J\": 2\n", "t", &diags);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(diags.size(), 2u) << Dump(diags).substr(0, 1000);
  for (const auto& d : diags) {
    EXPECT_EQ(d.severity, Severity::kWarning);
    EXPECT_LT(d.field.size(), 80u);
    EXPECT_LT(d.message.size(), 200u);
    const std::string text = FormatDiagnostic(d);
    for (char c : text)
      EXPECT_GE(static_cast<unsigned char>(c), 0x20) << text;
  }
  diags.clear();
  EXPECT_FALSE(ParseDeviceConfig(std::string("vnpus: \"\\x01\\e\"\n\x02"), "t", &diags).ok());
  for (const auto& d : diags) {
    for (char c : FormatDiagnostic(d))
      EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  }
}

TEST(ConfigLoaderHostileTest, TooManyListEntries) {
  std::string text = "vnpus:\n  configs:\n";
  for (int i = 0; i < 300; ++i)
    text += "  - {}\n";
  Diagnostics diags;
  EXPECT_FALSE(ParseDeviceConfig(text, "t", &diags).ok());
  EXPECT_NE(FindDiag(diags, "vnpus.configs", Severity::kError), nullptr)
      << Dump(diags).substr(0, 500);
}

// --- files -------------------------------------------------------------------------------

class ConfigFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + "/npushare_cfg_" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

TEST_F(ConfigFileTest, LoadFiles) {
  const std::string dev = Write("dev.yaml", kBare);
  auto cfg = LoadDeviceConfigFile(dev, nullptr);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ExpectFullChip(*cfg);

  const std::string nodes = Write("nodes.yaml", "nodes:\n- name: a\n");
  auto n = LoadNodeConfigFile(nodes, nullptr);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->nodes.size(), 1u);
}

TEST_F(ConfigFileTest, MissingDirectoryAndOversizedFiles) {
  Diagnostics diags;
  auto missing = LoadDeviceConfigFile(::testing::TempDir() + "/npushare_no_such.yaml", &diags);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(diags.size(), 1u);
  EXPECT_EQ(LoadDeviceConfigFile(::testing::TempDir(), nullptr).status().code(),
            StatusCode::kInvalidArgument);
  const std::string big = Write("big.yaml", std::string(kMaxConfigFileBytes + 1, '#'));
  EXPECT_EQ(LoadNodeConfigFile(big, nullptr).status().code(), StatusCode::kInvalidArgument);
}

// Issue 14: the documented codes hold for a file that exists but may not be read (checked in
// a child that drops root, which reads anything) and for a process out of descriptors.
TEST_F(ConfigFileTest, Issue14UnreadableAndOutOfDescriptorsHaveTheirOwnCodes) {
  const std::string dev = Write("private.yaml", kBare);
  ASSERT_EQ(chmod(dev.c_str(), 0600), 0);
  auto in_child = [](const std::function<StatusCode()>& f) {
    pid_t pid = fork();
    if (pid == 0) {
      _exit(static_cast<int>(f()));
    }
    int st = 0;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  };
  EXPECT_EQ(in_child([&] {
              if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0) {
                return StatusCode::kInternal;
              }
              return LoadDeviceConfigFile(dev, nullptr).status().code();
            }),
            static_cast<int>(StatusCode::kPermissionDenied));
  EXPECT_EQ(in_child([&] {
              rlimit none{0, 0};
              if (setrlimit(RLIMIT_NOFILE, &none) != 0) {
                return StatusCode::kInternal;
              }
              return LoadNodeConfigFile(dev, nullptr).status().code();
            }),
            static_cast<int>(StatusCode::kResourceExhausted));
}

TEST_F(ConfigFileTest, ValidateConfigFilesReport) {
  const std::string good = Write("v_good.yaml", ConfigMap("device-config.yaml", kBare));
  const std::string bad_text = std::string(kBare) + "    - commonWord: Ascend910C\n";
  const std::string bad = Write("v_bad.yaml", bad_text);
  const std::string nodes = Write("v_nodes.yaml", "nodes:\n- name: a\n  vDeviceCount: 4\n");
  const std::string other = Write("v_other.yaml", "kind: Pod\n");

  std::ostringstream out;
  EXPECT_EQ(ValidateConfigFiles({good, nodes}, out), 0);
  EXPECT_NE(out.str().find(good + ": OK (1 chip)\n"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(nodes + ": OK (1 node)\n"), std::string::npos) << out.str();

  std::ostringstream out2;
  EXPECT_EQ(ValidateConfigFiles({bad, other, good + ".missing"}, out2), 1);
  const std::string s = out2.str();
  EXPECT_NE(s.find(bad + ":26:"), std::string::npos) << s;  // diagnostics carry the line
  EXPECT_NE(s.find(bad + ": 5 errors, 1 warning\n"), std::string::npos) << s;
  EXPECT_NE(s.find(other + ": 1 error, 0 warnings\n"), std::string::npos) << s;
  EXPECT_NE(s.find(good + ".missing: 1 error, 0 warnings\n"), std::string::npos) << s;
}

TEST_F(ConfigFileTest, ValidateConfigFilesCrossChecksSoftSlicing) {
  std::string off = kBare;
  off.replace(off.find("hamiVnpuCore: true"), 18, "hamiVnpuCore: false");
  const std::string dev = Write("x_dev.yaml", off);
  const std::string nodes = Write("x_nodes.yaml", "nodes:\n- name: a\n");
  std::ostringstream out;
  EXPECT_EQ(ValidateConfigFiles({dev, nodes}, out), 0);
  EXPECT_NE(out.str().find(dev + ":8:"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(dev + ": OK (1 chip), 1 warning\n"), std::string::npos) << out.str();
  // Alone, the device config cannot tell: no warning.
  std::ostringstream alone;
  EXPECT_EQ(ValidateConfigFiles({dev}, alone), 0);
  EXPECT_EQ(alone.str(), dev + ": OK (1 chip)\n");
}

}  // namespace
}  // namespace npushare::config
