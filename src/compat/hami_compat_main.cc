// hami-compat: runs HAMi compatibility vectors (shared/compat/hami-vectors.json schema)
// against npushare and prints one line per failing case, then "N passed, M failed".
#include <CLI/CLI.hpp>
#include <iostream>

#include "common/file_reader.h"
#include "compat/case_runner.h"
#include "compat/deviations.h"
#include "compat/vector_limits.h"

#ifndef NPUSHARE_DEFAULT_DEVIATIONS
#define NPUSHARE_DEFAULT_DEVIATIONS ""
#endif

namespace npushare::compat {
namespace {

constexpr size_t kMaxFileBytes = 64 << 20;

int Run(int argc, char** argv) {
  CLI::App app{
      "Runs HAMi compatibility vectors against npushare. Prints one line per failing case\n"
      "(id, expected, got) and ends with 'N passed, M failed, K skipped'. Cases listed as\n"
      "deliberate deviations in docs/compat.md are checked against the documented result."};
  std::string vectors_path, deviations_path = NPUSHARE_DEFAULT_DEVIATIONS, only_category;
  bool verbose = false;
  app.add_option("--vectors", vectors_path, "vector file (hami-vectors.json schema)")->required();
  app.add_option("--deviations", deviations_path,
                 "markdown file with compat-deviation blocks (default: the repository's "
                 "docs/compat.md; empty string disables)");
  app.add_option("--category", only_category, "run only this category");
  app.add_flag("-v,--verbose", verbose, "print every case, not only failures");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto text = ReadFileLimited(vectors_path, kMaxFileBytes);
  if (!text.ok()) {
    std::cerr << "hami-compat: " << text.status().message() << "\n";
    return 2;
  }
  auto parsed_doc = ParseVectorFile(*text);
  if (!parsed_doc.ok()) {
    std::cerr << "hami-compat: " << vectors_path << ": " << parsed_doc.status().message() << "\n";
    return 2;
  }
  const nlohmann::json doc = std::move(*parsed_doc);
  DeviationTable deviations;
  if (!deviations_path.empty()) {
    auto md = ReadFileLimited(deviations_path, kMaxFileBytes);
    if (!md.ok()) {
      std::cerr << "hami-compat: deviations: " << md.status().message() << "\n";
      return 2;
    }
    auto parsed = ParseDeviations(*md);
    if (!parsed.ok()) {
      std::cerr << "hami-compat: " << deviations_path << ": " << parsed.status().message() << "\n";
      return 2;
    }
    deviations = std::move(*parsed);
  }

  HandlerTable handlers;
  RegisterCodecHandlers(handlers);
  RegisterSchedulingHandlers(handlers);
  RegisterDevicePluginHandlers(handlers);
  RegisterWebhookHandlers(handlers);
  RegisterPluginHandlers(handlers);
  VectorContext ctx(doc.value("fixtures", nlohmann::json::object()));

  int passed = 0, failed = 0, skipped = 0;
  std::map<std::string, int> skipped_by_category;
  for (const auto& c : doc["cases"]) {
    if (!only_category.empty() &&
        !(c.is_object() && c.contains("category") && c["category"].is_string() &&
          c["category"].get_ref<const std::string&>() == only_category)) {
      continue;
    }
    if (Status valid = ValidateVectorCase(c); !valid.ok()) {
      // A malformed case fails like any other case; its fields cannot be trusted, so the id
      // is printed only when it is a short string.
      ++failed;
      const bool id_ok = c.is_object() && c.contains("id") && c["id"].is_string() &&
                         c["id"].get_ref<const std::string&>().size() <= kMaxIdBytes;
      std::cout << "FAIL " << (id_ok ? c["id"].get<std::string>() : std::string("<no id>"))
                << " []\n  expected: a well-formed case\n  got:      " << valid.message() << "\n";
      continue;
    }
    const std::string id = c.value("id", std::string("<no id>"));
    const std::string category = c["category"].get<std::string>();
    auto h = handlers.find(category);
    CaseOutcome out;
    if (h == handlers.end()) {
      out = CaseOutcome::Fail("a handler for category '" + category + "'", "none");
    } else {
      auto dev = deviations.find(id);
      const nlohmann::json& expected =
          dev != deviations.end() ? dev->second : c.value("expected", nlohmann::json::object());
      try {
        out = h->second(c, expected, ctx);
      } catch (const std::exception& e) {
        out = CaseOutcome::Fail("no exception", std::string("exception: ") + e.what());
      }
      if (dev != deviations.end() && out.kind == CaseOutcome::Kind::kPass && verbose) {
        std::cout << "DEVIATION " << id << " (checked against docs/compat.md)\n";
      }
    }
    switch (out.kind) {
      case CaseOutcome::Kind::kPass:
        ++passed;
        if (verbose) {
          std::cout << "PASS " << id << "\n";
        }
        break;
      case CaseOutcome::Kind::kSkip:
        ++skipped;
        ++skipped_by_category[category];
        if (verbose) {
          std::cout << "SKIP " << id << ": " << out.got << "\n";
        }
        break;
      case CaseOutcome::Kind::kFail:
      default:
        ++failed;
        std::cout << "FAIL " << id << " [" << category << "]\n  expected: " << out.expected
                  << "\n  got:      " << out.got << "\n";
        break;
    }
  }
  for (const auto& [category, n] : skipped_by_category) {
    std::cout << "skipped " << n << " " << category << " case(s): component not built yet\n";
  }
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace npushare::compat

int main(int argc, char** argv) {
  return npushare::compat::Run(argc, argv);
}
