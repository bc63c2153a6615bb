// Keeps docs/ in step with the code: every reason string, Event reason and error or log
// message a user can see has an entry in docs/troubleshooting.md; every flag of every binary's
// --help, every config key, annotation constant and runtime environment variable is in
// docs/configuration.md; every metric series is in docs/metrics.md. A new message, flag or
// series without documentation fails here, naming what is missing and where it came from.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "unit/docs/source_scan.h"
#include "unit/sim/run_process.h"

namespace npushare::docs_test {
namespace {

namespace fs = std::filesystem;

const std::string kSource = NPUSHARE_SOURCE_DIR;
const std::string kBin = NPUSHARE_BIN_DIR;

std::string Doc(const std::string& name) {
  return ReadText(kSource + "/docs/" + name);
}

// Files: the regular files of `dir` (relative to the source tree) whose names end in one of
// `extensions`, recursively, sorted.
std::vector<std::string> Files(const std::string& dir, std::vector<std::string> extensions) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(kSource + "/" + dir)) {
    const std::string path = e.path().string();
    for (const auto& ext : extensions) {
      if (e.is_regular_file() && path.size() > ext.size() &&
          path.compare(path.size() - ext.size(), ext.size(), ext) == 0) {
        out.push_back(path);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Relative(const std::string& path) {
  return path.substr(kSource.size() + 1);
}

// MissingFrom: the needles not found in `doc` (whitespace-normalised on both sides).
std::vector<std::string> MissingFrom(const std::vector<std::string>& needles,
                                     const std::string& doc) {
  const std::string text = NormalizeSpace(doc);
  std::vector<std::string> missing;
  for (const auto& n : needles) {
    if (text.find(NormalizeSpace(n)) == std::string::npos) {
      missing.push_back(n);
    }
  }
  return missing;
}

std::string Lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    out += "\n  " + i;
  }
  return out;
}

// ------------------------------------------------------------------ the scanners themselves

TEST(SourceScanTest, CallLiteralsJoinsAdjacentLiteralsAndSkipsComments) {
  const std::string code = R"cc(
    // InvalidArgumentError("in a comment");
    return InvalidArgumentError(resource + " " + text +
                                " is not a valid "
                                "quantity: " +
                                q.status().message());
    Log("launch gate %s open", why);
    SetLog("not a call of Log");
    auto s = "FilterError(\"inside a literal\")";
  )cc";
  EXPECT_EQ(CallLiterals(code, "Error(", true),
            (std::vector<std::string>{" ", " is not a valid quantity: "}));
  EXPECT_EQ(CallLiterals(code, "Log(", false), (std::vector<std::string>{"launch gate %s open"}));
}

TEST(SourceScanTest, MessageFragmentsSplitAtConversionsAndDropShortPieces) {
  EXPECT_EQ(MessageFragments({"no ledger slot (error %d): allocations %llu ms fail"}, true),
            (std::vector<std::string>{"no ledger slot (error", "): allocations", "ms fail"}));
  EXPECT_EQ(MessageFragments({" MB", " (", " is negative", ".commonWord"}, false),
            (std::vector<std::string>{"is negative"}));
}

TEST(SourceScanTest, EventReasonsAndFlags) {
  EXPECT_EQ(EventReasons(R"(client_.RecordEvent(node, "Warning", "DeviceShareFailed", m);
                            RecordPodEvent(*pod, "Normal",
                                           "Scheduled", summary);)"),
            (std::set<std::string>{"DeviceShareFailed", "Scheduled"}));
  EXPECT_EQ(LongFlags("  --http_bind TEXT=127.0.0.1:8080\n  -v,--v INT  (see --cert_file)\n"),
            (std::set<std::string>{"--cert_file", "--http_bind", "--v"}));
  EXPECT_EQ(Subcommands("Options:\n  -h\n\nSubcommands:\n  schedule    Dry-run\n"
                        "                 more text\n  config      Tools\n\n"),
            (std::vector<std::string>{"schedule", "config"}));
}

// The check that guards the docs must notice a missing entry, not only pass.
TEST(SourceScanTest, MissingFromReportsAnEntryThatWasRemoved) {
  const std::string doc = "| `CardNotHealth` | the chip reports\nunhealthy |";
  EXPECT_TRUE(MissingFrom({"`CardNotHealth`", "reports unhealthy"}, doc).empty());
  EXPECT_EQ(MissingFrom({"`CardNotHealth`", "`CardTypeMismatch`"}, doc),
            (std::vector<std::string>{"`CardTypeMismatch`"}));
}

// ------------------------------------------------------------------ troubleshooting.md

TEST(TroubleshootingDocTest, EveryFilterReasonHasAnEntry) {
  const auto reasons = ConstexprStrings(ReadText(kSource + "/src/scheduling/fit.h"));
  ASSERT_GE(reasons.size(), 18u) << "fit.h no longer declares its reasons the scanned way";
  std::vector<std::string> needles;
  for (const auto& [name, value] : reasons) {
    needles.push_back("`" + value + "`");
  }
  needles.push_back("nodes are available");  // the summary format
  const auto missing = MissingFrom(needles, Doc("troubleshooting.md"));
  EXPECT_TRUE(missing.empty()) << "docs/troubleshooting.md has no entry for these reasons of "
                                  "src/scheduling/fit.h:"
                               << Lines(missing);
}

TEST(TroubleshootingDocTest, EveryEventReasonHasAnEntry) {
  std::map<std::string, std::string> where;  // reason -> file
  for (const std::string& f : Files("src", {".cc", ".h"})) {
    for (const std::string& r : EventReasons(ReadText(f))) {
      where.emplace(r, Relative(f));
    }
  }
  ASSERT_TRUE(where.count("FilteringFailed") && where.count("DeviceShareFailed"))
      << "the Event call sites are no longer spelled the scanned way";
  std::vector<std::string> needles;
  for (const auto& [reason, file] : where) {
    needles.push_back("`" + reason + "`");
  }
  const auto missing = MissingFrom(needles, Doc("troubleshooting.md"));
  std::vector<std::string> report;
  for (const auto& m : missing) {
    report.push_back(m + " (" + where[m.substr(1, m.size() - 2)] + ")");
  }
  EXPECT_TRUE(missing.empty()) << "docs/troubleshooting.md has no entry for these Event reasons:"
                               << Lines(report);
}

// What is scanned for user-visible messages: the files, the call whose literals are the
// message, and whether the message is a printf format.
struct MessageSource {
  std::string dir_or_file;
  std::string callee;
  bool suffix_match;
  bool printf_format;
};

const std::vector<MessageSource>& MessageSources() {
  static const std::vector<MessageSource> kSources = {
      // Admission: the webhook's denials and the admission rules' messages.
      {"src/scheduling/admission.cc", "Error(", true, false},
      {"src/scheduling/pod_filter.cc", "Error(", true, false},
      {"src/scheduler/http/admission_webhook.cc", "Denied(", false, false},
      {"src/scheduler/http/admission_webhook.cc", "Errored(", false, false},
      // Extender: /filter and /bind errors kube-scheduler reports.
      {"src/scheduler/service/scheduler_service.cc", "Error(", true, false},
      {"src/kube/node_lock_client.cc", "Error(", true, false},
      {"src/hami/node_lock.cc", "Error(", true, false},
      // Device plugin: Allocate errors (in the pod's events), start-up and device errors.
      {"src/deviceplugin/allocate", "Error(", true, false},
      {"src/deviceplugin/devices", "Error(", true, false},
      {"src/hami/pod_devices.cc", "Error(", true, false},
      // Configuration diagnostics (npushare config validate, DeviceConfigInvalid, daemon logs).
      {"src/config/config_validation.cc", "Error(", true, false},
      {"src/config/config_validation.cc", "Warning(", false, false},
      {"src/config/internal/yaml_fields.cc", "Error(", true, false},
      {"src/config/internal/yaml_fields.cc", "Warning(", false, false},
      {"src/config/internal/yaml_fields.cc", "Invalid(", false, false},
      {"src/config/internal/device_config_decoder.cc", "Error(", true, false},
      {"src/config/internal/device_config_decoder.cc", "Warning(", false, false},
      {"src/config/config_loader.cc", "Error(", true, false},
      // The CLI (npushare schedule, certs).
      {"src/cli", "Error(", true, false},
      // Soft slicing: libvnpu's log lines in the container, the arbiter's on its stderr.
      {"src/softslice/interceptor", "Log(", false, true},
      {"src/softslice/arbiter", "fprintf(stderr,", false, true},
  };
  return kSources;
}

TEST(TroubleshootingDocTest, EveryUserVisibleMessageHasAnEntry) {
  const std::string doc = Doc("troubleshooting.md");
  std::vector<std::string> report;
  size_t scanned = 0;
  for (const MessageSource& s : MessageSources()) {
    std::vector<std::string> files;
    if (fs::is_directory(kSource + "/" + s.dir_or_file)) {
      files = Files(s.dir_or_file, {".cc"});
    } else {
      files = {kSource + "/" + s.dir_or_file};
    }
    for (const std::string& f : files) {
      const std::string code = ReadText(f);
      ASSERT_FALSE(code.empty()) << f;
      const auto fragments =
          MessageFragments(CallLiterals(code, s.callee, s.suffix_match), s.printf_format);
      scanned += fragments.size();
      for (const auto& m : MissingFrom(fragments, doc)) {
        report.push_back(Relative(f) + ": \"" + m + "\"");
      }
    }
  }
  EXPECT_GE(scanned, 100u) << "the message scan found too little: the call sites changed shape";
  EXPECT_TRUE(report.empty())
      << "docs/troubleshooting.md does not contain these message fragments (quote each message "
         "in the entry that explains it):"
      << Lines(report);
}

// ------------------------------------------------------------------ configuration.md

std::string Help(const std::vector<std::string>& argv) {
  auto r = sim::testing::RunBinary(argv);
  EXPECT_EQ(r.exit_code, 0) << argv[0] << " --help";
  return r.out;
}

TEST(ConfigurationDocTest, EveryFlagOfEveryBinaryIsDocumented) {
  std::map<std::string, std::string> flags;  // flag -> binary
  for (const char* binary : {"npushare-scheduler", "npushare-device-plugin", "npushare-arbiter"}) {
    const std::string help = Help({kBin + "/" + binary, "--help"});
    for (const auto& f : LongFlags(help)) {
      flags.emplace(f + " (" + binary + ")", f);
    }
  }
  // The CLI: every subcommand, recursively.
  std::vector<std::vector<std::string>> todo = {{}};
  size_t commands = 0;
  while (!todo.empty()) {
    std::vector<std::string> path = todo.back();
    todo.pop_back();
    std::vector<std::string> argv = {kBin + "/npushare"};
    argv.insert(argv.end(), path.begin(), path.end());
    argv.push_back("--help");
    const std::string help = Help(argv);
    ++commands;
    std::string name = "npushare";
    for (const auto& p : path) {
      name += " " + p;
    }
    for (const auto& f : LongFlags(help)) {
      flags.emplace(f + " (" + name + ")", f);
    }
    for (const auto& sub : Subcommands(help)) {
      auto next = path;
      next.push_back(sub);
      todo.push_back(std::move(next));
    }
  }
  ASSERT_GE(commands, 4u) << "npushare lists fewer subcommands than schedule, config, certs";
  ASSERT_GE(flags.size(), 40u);
  const std::string doc = NormalizeSpace(Doc("configuration.md"));
  std::vector<std::string> missing;
  for (const auto& [where, flag] : flags) {
    if (flag == "--help") {
      continue;
    }
    if (doc.find("`" + flag + "`") == std::string::npos &&
        doc.find("`" + flag + " ") == std::string::npos &&
        doc.find("`" + flag + "=") == std::string::npos) {
      missing.push_back(where);
    }
  }
  EXPECT_TRUE(missing.empty()) << "docs/configuration.md does not document these flags (write "
                                  "each as `--flag` in its binary's table):"
                               << Lines(missing);
}

TEST(ConfigurationDocTest, EveryConfigKeyIsDocumented) {
  static const std::regex kReadMap(R"re(ReadMap\([^{;]*\{([^}]*)\})re");
  static const std::regex kAny(".+");
  std::vector<std::string> needles;
  for (const char* f : {"src/config/internal/device_config_decoder.cc",
                        "src/config/internal/node_config_decoder.cc"}) {
    const std::string code = StripComments(ReadText(kSource + "/" + f));
    for (std::sregex_iterator it(code.begin(), code.end(), kReadMap); it != std::sregex_iterator();
         ++it) {
      for (const auto& key : QuotedStrings((*it)[1], kAny)) {
        needles.push_back(key);
      }
    }
  }
  ASSERT_GE(needles.size(), 20u) << "the decoders no longer list their keys in ReadMap";
  // A key is documented as `key` or as the last part of a path (`vnpus.configs`).
  const std::string doc = NormalizeSpace(Doc("configuration.md"));
  std::vector<std::string> missing;
  for (const auto& key : needles) {
    if (doc.find("`" + key + "`") == std::string::npos &&
        doc.find("." + key + "`") == std::string::npos) {
      missing.push_back(key);
    }
  }
  EXPECT_TRUE(missing.empty()) << "docs/configuration.md does not document these config keys:"
                               << Lines(missing);
}

TEST(ConfigurationDocTest, EveryWellKnownAnnotationIsDocumented) {
  std::vector<std::string> needles;
  for (const auto& [name, value] : ConstexprStrings(ReadText(kSource + "/src/hami/types.h"))) {
    needles.push_back(value);
  }
  ASSERT_GE(needles.size(), 10u);
  const auto missing = MissingFrom(needles, Doc("configuration.md"));
  EXPECT_TRUE(missing.empty())
      << "docs/configuration.md does not mention these annotation keys/values of "
         "src/hami/types.h:"
      << Lines(missing);
}

TEST(ConfigurationDocTest, EveryRuntimeEnvironmentVariableIsDocumented) {
  static const std::regex kEnvName("(NPUSHARE|NPU|ASCEND)_[A-Z0-9_]+=?");
  std::set<std::string> names;
  for (const std::string& dir :
       {std::string("src/softslice/interceptor"), std::string("src/deviceplugin/allocate")}) {
    for (const std::string& f : Files(dir, {".cc", ".h"})) {
      for (std::string n : QuotedStrings(ReadText(f), kEnvName)) {
        if (n.back() == '=') {
          n.pop_back();
        }
        names.insert(n);
      }
    }
  }
  ASSERT_TRUE(names.count("NPU_MEM_QUOTA") && names.count("NPUSHARE_VNPU_CORE_PCT"));
  std::vector<std::string> needles;
  for (const auto& n : names) {
    needles.push_back("`" + n + "`");
  }
  const auto missing = MissingFrom(needles, Doc("configuration.md"));
  EXPECT_TRUE(missing.empty()) << "docs/configuration.md does not document these variables:"
                               << Lines(missing);
}

// ------------------------------------------------------------------ metrics.md

TEST(MetricsDocTest, EverySeriesIsDocumented) {
  static const std::regex kSeries("(hami|npushare)_[a-z0-9_]+[a-z0-9]");
  std::map<std::string, std::string> where;
  for (const std::string& dir :
       {std::string("src/scheduler"), std::string("src/deviceplugin/daemon")}) {
    for (const std::string& f : Files(dir, {".cc"})) {
      for (const auto& n : QuotedStrings(ReadText(f), kSeries)) {
        where.emplace(n, Relative(f));
      }
    }
  }
  ASSERT_TRUE(where.count("hami_gpu_memory_limit_bytes") &&
              where.count("npushare_device_plugin_chip_healthy"));
  const std::string doc = NormalizeSpace(Doc("metrics.md"));
  std::vector<std::string> missing;
  for (const auto& [name, file] : where) {
    if (doc.find("`" + name + "`") == std::string::npos) {
      missing.push_back(name + " (" + file + ")");
    }
  }
  EXPECT_TRUE(missing.empty()) << "docs/metrics.md does not document these series:"
                               << Lines(missing);
}

// ------------------------------------------------------------------ links between the docs

// GithubAnchor: the fragment GitHub gives a Markdown heading: lowercase, characters other
// than letters, digits, '-', '_' and spaces dropped, spaces as '-'.
std::string GithubAnchor(std::string_view heading) {
  std::string out;
  for (char c : heading) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_') {
      out.push_back(static_cast<char>(std::tolower(u)));
    } else if (c == ' ') {
      out.push_back('-');
    }
  }
  return out;
}

TEST(DocsLinksTest, GithubAnchorOfACompatHeading) {
  EXPECT_EQ(GithubAnchor("3. NPU memory is MB; byte-like amounts are rejected (§9.8, §9.9)"),
            "3-npu-memory-is-mb-byte-like-amounts-are-rejected-98-99");
}

// Every `other.md#anchor` link in the docs this test guards names a heading of that file.
TEST(DocsLinksTest, AnchorsIntoOtherDocsResolve) {
  static const std::regex kLink(R"re(\]\(([a-z0-9-]+\.md)#([a-z0-9_-]+)\))re");
  static const std::regex kHeading(R"re((^|\n)#+ +([^\n]+))re");
  std::vector<std::string> broken;
  size_t links = 0;
  for (const char* doc : {"troubleshooting.md", "configuration.md", "metrics.md",
                          "migrating-from-hami.md", "architecture.md"}) {
    const std::string text = Doc(doc);
    for (std::sregex_iterator it(text.begin(), text.end(), kLink); it != std::sregex_iterator();
         ++it) {
      ++links;
      const std::string target = Doc((*it)[1]);
      std::set<std::string> anchors;
      for (std::sregex_iterator h(target.begin(), target.end(), kHeading);
           h != std::sregex_iterator(); ++h) {
        anchors.insert(GithubAnchor(std::string((*h)[2])));
      }
      if (anchors.count((*it)[2]) == 0) {
        broken.push_back(std::string(doc) + ": " + std::string((*it)[1]) + "#" +
                         std::string((*it)[2]));
      }
    }
  }
  EXPECT_GE(links, 5u);
  EXPECT_TRUE(broken.empty()) << "links to headings that do not exist:" << Lines(broken);
}

}  // namespace
}  // namespace npushare::docs_test
