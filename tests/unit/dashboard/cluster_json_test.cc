// Tests of ClusterJson's shape (docs/dashboard.md) and EmbeddableJson.
#include "dashboard/cluster_json.h"

#include <gtest/gtest.h>

#include <set>

#include "common/file_reader.h"
#include "dashboard/dashboard_html.h"
#include "dashboard/html_report.h"
#include "support/temp_dir.h"
#include "unit/dashboard/fake_cluster.h"

namespace npushare::dashboard {
namespace {

using nlohmann::json;

std::set<std::string> Keys(const json& o) {
  std::set<std::string> k;
  for (auto it = o.begin(); it != o.end(); ++it) {
    k.insert(it.key());
  }
  return k;
}

TEST(ClusterJsonTest, DocumentedShapeAndValues) {
  History h({});
  ClusterSnapshot s = testing::MakeCluster(2, 8, 3, 10000);
  s.nodes[0].metrics_url = "http://10.0.0.1:9395/metrics";
  s.nodes[0].metrics_error = "connection refused";
  h.Record(s);
  json j = ClusterJson(s, h, {.history_points = 5, .error = ""});
  // Top level: every documented field (fields are only ever added: this list only grows).
  EXPECT_EQ(Keys(j), (std::set<std::string>{"version", "time_unix_ms", "error", "history", "totals",
                                            "nodes", "pending"}));
  EXPECT_EQ(j["version"], kClusterJsonVersion);
  EXPECT_EQ(j["time_unix_ms"], 10000);
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_EQ(j["history"]["max_points"], 5);
  EXPECT_EQ(j["totals"]["nodes"], 2);
  EXPECT_EQ(j["totals"]["chips"], 16);
  EXPECT_EQ(j["totals"]["pending"], 3);
  ASSERT_EQ(j["nodes"].size(), 2u);
  const json& n0 = j["nodes"][0];
  EXPECT_EQ(Keys(n0), (std::set<std::string>{"name", "metrics", "chips"}));
  EXPECT_EQ(Keys(n0["metrics"]),
            (std::set<std::string>{"url", "scraped", "error", "skipped_lines"}));
  EXPECT_EQ(n0["metrics"]["error"], "connection refused");
  EXPECT_TRUE(j["nodes"][1]["metrics"]["error"].is_null());
  const json& chip0 = n0["chips"][0];
  EXPECT_EQ(Keys(chip0),
            (std::set<std::string>{"index", "uuid", "type", "memory_total_bytes", "cores",
                                   "healthy", "mode", "memory_allocated_bytes",
                                   "core_allocated_percent", "slices", "history"}));
  EXPECT_EQ(chip0["mode"], "hard");
  EXPECT_EQ(chip0["uuid"], "npu-0-0");
  EXPECT_EQ(chip0["memory_allocated_bytes"], int64_t{48} << 30);
  EXPECT_EQ(chip0["core_allocated_percent"], 75);
  const json& hard = chip0["slices"][0];
  EXPECT_EQ(Keys(hard), (std::set<std::string>{
                            "namespace", "pod", "container", "container_index", "kind", "template",
                            "memory_quota_bytes", "core_percent", "memory_used_bytes",
                            "compute_granted_percent", "compute_achieved_percent"}));
  EXPECT_EQ(hard["kind"], "hard");
  EXPECT_EQ(hard["template"], "vir05_1c_16g");
  EXPECT_TRUE(hard["memory_used_bytes"].is_null()) << "unknown is null, never 0";
  const json& soft = n0["chips"][1]["slices"][1];
  EXPECT_EQ(soft["kind"], "soft");
  EXPECT_EQ(soft["container"], "sidecar");
  EXPECT_EQ(soft["memory_used_bytes"], int64_t{512} << 20);
  EXPECT_EQ(soft["compute_achieved_percent"], 9.0);
  EXPECT_EQ(n0["chips"][7]["healthy"], false);
  const json& hist = n0["chips"][1]["history"];
  EXPECT_EQ(Keys(hist),
            (std::set<std::string>{"t_ms", "memory_used_bytes", "memory_allocated_bytes",
                                   "compute_achieved_percent", "compute_granted_percent"}));
  ASSERT_EQ(hist["t_ms"].size(), 1u);
  EXPECT_EQ(hist["compute_achieved_percent"][0], 37.5);
  EXPECT_TRUE(chip0["history"]["memory_used_bytes"][0].is_null());
  EXPECT_EQ(j["pending"][0], (json{{"namespace", "queue"},
                                   {"pod", "waiting-0"},
                                   {"reason", "0/2 nodes are available: 2 CardInsufficientMemory."},
                                   {"since_unix_ms", 5000}}));
  EXPECT_EQ(ClusterJson(s, h, {.history_points = 5, .error = "caches not synced"})["error"],
            "caches not synced");
}

// A whole chip allocated on a hard-slicing node has no template and no soft quota: it is
// "whole", not "soft" (it used to be labelled soft).
TEST(ClusterJsonTest, WholeChipOnAHardNodeIsNotASoftSlice) {
  ClusterSnapshot s = testing::MakeCluster(1, 2, 0, 10000);
  ASSERT_EQ(s.nodes[0].chips[0].mode, ChipMode::kHard);
  ASSERT_EQ(s.nodes[0].chips[1].mode, ChipMode::kSoft);
  SliceView whole;
  whole.pod_namespace = "ns";
  whole.pod_name = "train";
  whole.memory_quota_bytes = s.nodes[0].chips[0].memory_total_bytes;
  whole.core_percent = 100;
  s.nodes[0].chips[0].slices = {whole};
  s.nodes[0].chips[1].slices = {whole};
  History h({});
  json j = ClusterJson(s, h);
  EXPECT_EQ(j["nodes"][0]["chips"][0]["slices"][0]["kind"], "whole");
  EXPECT_EQ(j["nodes"][0]["chips"][1]["slices"][0]["kind"], "soft");
}

TEST(ClusterJsonTest, EmbeddableJsonCannotCloseAScriptElement) {
  ClusterSnapshot s;
  s.pending.push_back({"ns", "</script><script>alert(1)</script>", "a & b", 0});
  History h({});
  const std::string text = EmbeddableJson(ClusterJson(s, h));
  EXPECT_EQ(text.find('<'), std::string::npos);
  EXPECT_EQ(text.find('>'), std::string::npos);
  EXPECT_EQ(json::parse(text)["pending"][0]["pod"], "</script><script>alert(1)</script>");
  // Invalid UTF-8 in a name does not throw.
  s.pending[0].pod_name = "bad\xff";
  EXPECT_FALSE(EmbeddableJson(ClusterJson(s, h)).empty());
}

TEST(DashboardHtmlTest, PageIsSelfContainedAndReportEmbedsTheData) {
  const std::string_view page = DashboardHtml();
  EXPECT_NE(page.find("<!DOCTYPE html>"), std::string_view::npos);
  EXPECT_NE(page.find("/*NPUSHARE_EMBEDDED_DATA*/"), std::string_view::npos);
  // No external assets: nothing loads from another origin.
  for (const char* bad : {"src=\"http", "href=\"http", "src=\"//", "@import", "url(http"}) {
    EXPECT_EQ(page.find(bad), std::string_view::npos) << bad;
  }
  npushare::testing::ScopedTempDir dir("dashboard-report");
  History h({});
  ClusterSnapshot s = testing::MakeCluster(1, 2, 1, 5000);
  h.Record(s);
  const std::string path = dir.path() + "/report.html";
  ASSERT_TRUE(WriteHtmlReport(path, h, s).ok());
  Result<std::string> text = ReadFileLimited(path, size_t{1} << 24);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("/*NPUSHARE_EMBEDDED_DATA*/"), std::string::npos);
  const size_t at = text->find("<script id=\"npushare-data\" type=\"application/json\">");
  ASSERT_NE(at, std::string::npos);
  const size_t start = text->find('>', at) + 1;
  const json embedded = json::parse(text->substr(start, text->find("</script>", start) - start));
  EXPECT_EQ(embedded["nodes"][0]["chips"][1]["uuid"], "npu-0-1");
  EXPECT_EQ(embedded["history"]["max_points"], h.Capacity());
  EXPECT_EQ(WriteHtmlReport(dir.path() + "/missing/dir/r.html", h, s).code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace npushare::dashboard
