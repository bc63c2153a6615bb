// Browser test of the dashboard: a real headless Chromium (Debian's `chromium`) loads /ui from
// a test HTTP server (the dashboard routes over a fake SnapshotSource of 3 nodes x 8 chips, one
// node's device-plugin /metrics served by the same server), runs the page's JS, and the
// rendered DOM must hold every node, chip, slice pod and pending pod, plus the values scraped
// from the fake plugin. Saves <build dir>/dashboard.png as an artifact. Also prints how long
// 100 nodes x 8 chips take (live page, and the exit report) — printed, not asserted.
//
// Skipped (with the reason) when chromium is not installed: scripts/packages/dashboard.txt.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "common/file_reader.h"
#include "dashboard/dashboard.h"
#include "dashboard/dashboard_html.h"
#include "dashboard/html_report.h"
#include "dashboard/http_routes.h"
#include "integration/dashboard/chromium_runner.h"
#include "support/temp_dir.h"
#include "unit/dashboard/fake_cluster.h"

extern char** environ;

namespace npushare::dashboard {
namespace {

using testing::ChromiumPath;
using testing::RunChromium;

std::string ReadText(const std::string& path) {
  Result<std::string> r = ReadFileLimited(path, size_t{256} << 20);
  return r.ok() ? *r : std::string();
}

size_t CountIn(std::string_view text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Count: occurrences of `needle` in the rendered DOM minus those in the page's own source (the
// dumped DOM includes the script, which spells the attributes it writes).
size_t Count(const std::string& dom, const std::string& needle) {
  return CountIn(dom, needle) - CountIn(DashboardHtml(), needle);
}

// AttrValue: the value of `name="..."` on <body> (the page writes timings there).
std::string BodyAttr(const std::string& dom, const std::string& name) {
  std::smatch m;
  const std::regex re("<body[^>]*\\s" + name + "=\"([^\"]*)\"");
  return std::regex_search(dom, m, re) ? m[1].str() : std::string();
}

// PluginMetrics: what node-0's device plugin would expose for its soft chip 1 (team-b/job-0-1,
// container trainer): 3 GiB used, device time growing 0.5 s per 2 s scrape (25 %).
std::string PluginMetrics(int scrape) {
  const std::string l =
      "{node=\"node-0\",namespace=\"team-b\",pod=\"job-0-1\",container=\"trainer\","
      "vdevice_index=\"0\",device_uuid=\"npu-0-1\",pod_uid=\"uid-1\"}";
  return "# TYPE hami_vgpu_memory_used_bytes gauge\nhami_vgpu_memory_used_bytes" + l +
         " 3221225472\nnpushare_vnpu_core_device_seconds_total" + l + " " +
         std::to_string(100 + 0.5 * scrape) + "\nnpushare_vnpu_core_granted_seconds_total" + l +
         " " + std::to_string(200 + 0.8 * scrape) + "\n";
}

class DashboardBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ChromiumPath().empty()) {
      GTEST_SKIP() << "chromium is not installed (apt-get install --no-install-recommends "
                      "chromium; scripts/packages/dashboard.txt)";
    }
    ASSERT_FALSE(dir_.path().empty());
  }
  void TearDown() override { StopServer(); }

  // Serve(cluster): a dashboard over `cluster`, refreshed `refreshes` times 2 s apart (fake
  // clock), behind a test server; node-0's metrics_url points at the same server.
  void Serve(ClusterSnapshot cluster, int refreshes) {
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    for (ChipView& c : cluster.nodes[0].chips) {
      for (SliceView& s : c.slices) {  // measured only through the scrape
        s.memory_used_bytes.reset();
        s.compute_achieved_percent.reset();
        s.compute_granted_percent.reset();
      }
    }
    cluster.time_unix_ms = 0;  // the dashboard's clock stamps it
    cluster.nodes[0].metrics_url =
        "http://127.0.0.1:" + std::to_string(port_) + "/plugin/node-0/metrics";
    source_ = std::make_unique<testing::FakeSnapshotSource>(std::move(cluster));
    server_.Get("/plugin/node-0/metrics", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(PluginMetrics(scrapes_.fetch_add(1)), "text/plain; version=0.0.4");
    });
    DashboardOptions o;
    o.now_ms = [this] { return now_ms_.load(); };
    dashboard_ = std::make_unique<Dashboard>(*source_, fetcher_, o);
    RegisterDashboardRoutes(server_, *dashboard_, {});
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < refreshes; ++i) {
      ASSERT_TRUE(dashboard_->Refresh().ok());
      now_ms_ += 2000;
    }
  }
  void StopServer() {
    server_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // DumpDom: the DOM after `budget_ms` of virtual time (the page's fetch + render).
  std::string DumpDom(const std::string& url, const std::string& tag, double* seconds) {
    const std::string out = dir_.path() + "/" + tag + ".dom.html";
    const std::string err = dir_.path() + "/" + tag + ".stderr";
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = RunChromium(url, {"--virtual-time-budget=5000", "--dump-dom"}, out, err,
                               dir_.path() + "/profile-" + tag);
    if (seconds != nullptr) {
      *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    EXPECT_EQ(rc, 0) << ReadText(err).substr(0, 4000);
    return ReadText(out);
  }

  npushare::testing::ScopedTempDir dir_{"dashboard-browser"};
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> scrapes_{0};
  std::atomic<int64_t> now_ms_{1'764'000'000'000};
  HttpMetricsFetcher fetcher_;
  std::unique_ptr<testing::FakeSnapshotSource> source_;
  std::unique_ptr<Dashboard> dashboard_;
};

TEST_F(DashboardBrowserTest, RendersEveryNodeChipAndPodAndSavesAScreenshot) {
  const ClusterSnapshot cluster = testing::MakeCluster(3, 8, 4);
  Serve(cluster, 4);
  const std::string dom = DumpDom(Url("/ui"), "small", nullptr);
  ASSERT_FALSE(dom.empty());
  EXPECT_NE(BodyAttr(dom, "data-rendered"), "0") << "the page's JS never rendered";
  EXPECT_EQ(BodyAttr(dom, "data-mode"), "live");
  for (const NodeView& n : cluster.nodes) {
    EXPECT_EQ(Count(dom, "data-node=\"" + n.name + "\""), 1u) << n.name;
    for (const ChipView& c : n.chips) {
      EXPECT_EQ(Count(dom, "data-chip=\"" + n.name + "/" + c.uuid + "\""), 1u) << c.uuid;
      for (const SliceView& s : c.slices) {
        EXPECT_NE(dom.find("data-pod=\"" + s.pod_namespace + "/" + s.pod_name + "\""),
                  std::string::npos)
            << s.pod_name;
      }
    }
  }
  for (const PendingPodView& p : cluster.pending) {
    EXPECT_EQ(Count(dom, "data-pending-pod=\"" + p.pod_namespace + "/" + p.pod_name + "\""), 1u);
  }
  EXPECT_NE(dom.find("CardInsufficientMemory"), std::string::npos) << "pending reason shown";
  // Hard slices show their template, soft ones quota and share.
  EXPECT_NE(dom.find(">vir05_1c_16g<"), std::string::npos);
  EXPECT_NE(dom.find(">4096 MB · 30%<"), std::string::npos);
  // Scraped from the fake plugin through the dashboard: 3 GiB used of the 4 GiB quota and
  // 25 % achieved of 40 % granted.
  EXPECT_NE(dom.find(">3072/4096 MB<"), std::string::npos);
  EXPECT_NE(dom.find(">25/40%<"), std::string::npos);
  // History charts drew lines.
  EXPECT_GT(Count(dom, "<path d=\"M"), 10u);

  const std::string png = std::string(NPUSHARE_BIN_DIR) + "/../dashboard.png";
  std::filesystem::remove(png);
  const int rc = RunChromium(Url("/ui"),
                             {"--virtual-time-budget=5000", "--hide-scrollbars",
                              "--window-size=1400,1600", "--screenshot=" + png},
                             dir_.path() + "/shot.out", dir_.path() + "/shot.err",
                             dir_.path() + "/profile-shot");
  EXPECT_EQ(rc, 0) << ReadText(dir_.path() + "/shot.err").substr(0, 4000);
  const std::string bytes = ReadText(png);
  ASSERT_GT(bytes.size(), 10000u) << "screenshot missing or blank: " << png;
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  std::printf("dashboard screenshot: %s (%zu bytes)\n", png.c_str(), bytes.size());
}

TEST_F(DashboardBrowserTest, PageStaysUsableWith100NodesOf8Chips) {
  const ClusterSnapshot cluster = testing::MakeCluster(100, 8, 20);
  Serve(cluster, 10);
  double small_seconds = 0;
  double big_seconds = 0;
  // Same server, two sizes: the difference is what 100 x 8 costs over a near-empty page.
  source_->Set(testing::MakeCluster(1, 1, 0));
  ASSERT_TRUE(dashboard_->Refresh().ok());
  const std::string small = DumpDom(Url("/ui"), "one-chip", &small_seconds);
  ASSERT_NE(BodyAttr(small, "data-rendered"), "0");
  source_->Set(cluster);
  ASSERT_TRUE(dashboard_->Refresh().ok());
  httplib::Client client("127.0.0.1", port_);
  auto api = client.Get("/api/v1/cluster");
  ASSERT_TRUE(api);
  const std::string dom = DumpDom(Url("/ui"), "big", &big_seconds);
  ASSERT_NE(BodyAttr(dom, "data-rendered"), "0");
  EXPECT_EQ(Count(dom, "data-node=\""), 100u);
  EXPECT_EQ(Count(dom, "data-chip=\""), 800u);
  std::printf(
      "dashboard 100 nodes x 8 chips: /api/v1/cluster %zu bytes; chromium --dump-dom %.2f s "
      "(1 chip: %.2f s); in-page render %s ms, fetch %s ms (virtual-time run: indicative)\n",
      api->body.size(), big_seconds, small_seconds, BodyAttr(dom, "data-render-ms").c_str(),
      BodyAttr(dom, "data-fetch-ms").c_str());

  // The exit report: the whole history embedded; renders at load, no network.
  // Kept in the build dir as an artifact, beside dashboard.png.
  const std::string report = std::string(NPUSHARE_BIN_DIR) + "/../dashboard-report-100x8.html";
  ASSERT_TRUE(WriteHtmlReport(report, dashboard_->history(), dashboard_->Latest()).ok());
  double report_seconds = 0;
  const std::string rdom = DumpDom("file://" + report, "report", &report_seconds);
  EXPECT_EQ(BodyAttr(rdom, "data-mode"), "report");
  EXPECT_EQ(Count(rdom, "data-node=\""), 100u);
  EXPECT_EQ(Count(rdom, "data-chip=\""), 800u);
  std::printf("dashboard report 100 x 8: %zu bytes; chromium --dump-dom %.2f s; render %s ms\n",
              ReadText(report).size(), report_seconds, BodyAttr(rdom, "data-render-ms").c_str());
}

}  // namespace
}  // namespace npushare::dashboard
