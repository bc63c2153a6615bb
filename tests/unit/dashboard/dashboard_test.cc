// Tests of Dashboard (refresh = snapshot + scrape + merge + history) and its HTTP routes.
#include "dashboard/dashboard.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <thread>

#include "dashboard/dashboard_html.h"
#include "dashboard/http_routes.h"
#include "unit/dashboard/fake_cluster.h"

namespace npushare::dashboard {
namespace {

using nlohmann::json;

class ScriptedFetcher : public MetricsFetcher {
 public:
  Result<std::string> Fetch(const std::string& url, size_t) override {
    std::lock_guard<std::mutex> lock(mu);
    auto it = bodies.find(url);
    if (it == bodies.end()) {
      return UnavailableError("connection refused");
    }
    return it->second;
  }
  std::mutex mu;
  std::map<std::string, std::string> bodies;
};

std::string SoftBody(double device_seconds) {
  const std::string l =
      "{namespace=\"team-b\",pod=\"job-0-1\",container=\"trainer\",vdevice_index=\"0\","
      "device_uuid=\"npu-0-1\"}";
  return "hami_vgpu_memory_used_bytes" + l + " 3000000\n" +
         "npushare_vnpu_core_device_seconds_total" + l + " " + std::to_string(device_seconds) +
         "\nbroken{ 1\n";
}

TEST(DashboardTest, RefreshScrapesMergesAndRecordsHistory) {
  ClusterSnapshot base = testing::MakeCluster(2, 2, 1, 0);
  for (NodeView& n : base.nodes) {
    for (ChipView& c : n.chips) {
      for (SliceView& s : c.slices) {  // as the scheduler gives them: nothing measured
        s.memory_used_bytes.reset();
        s.compute_achieved_percent.reset();
        s.compute_granted_percent.reset();
      }
    }
  }
  base.nodes[0].metrics_url = "http://n0/metrics";
  base.nodes[1].metrics_url = "http://n1/metrics";  // unreachable
  testing::FakeSnapshotSource source(base);
  ScriptedFetcher fetcher;
  fetcher.bodies["http://n0/metrics"] = SoftBody(100);
  int64_t now = 1'000'000;
  DashboardOptions o;
  o.now_ms = [&] { return now; };
  Dashboard dash(source, fetcher, o);
  ASSERT_TRUE(dash.Refresh().ok());
  now += 2000;
  fetcher.bodies["http://n0/metrics"] = SoftBody(101);  // 1 s of device time in 2 s = 50 %
  ASSERT_TRUE(dash.Refresh().ok());

  ClusterSnapshot latest = dash.Latest();
  EXPECT_EQ(latest.time_unix_ms, now);
  const SliceView& trainer = latest.nodes[0].chips[1].slices[0];
  EXPECT_EQ(trainer.memory_used_bytes, 3000000);
  ASSERT_TRUE(trainer.compute_achieved_percent.has_value());
  EXPECT_NEAR(*trainer.compute_achieved_percent, 50.0, 1e-6);
  EXPECT_FALSE(latest.nodes[0].chips[1].slices[1].memory_used_bytes.has_value());
  EXPECT_TRUE(latest.nodes[0].metrics_scraped);
  EXPECT_EQ(latest.nodes[0].metrics_skipped_lines, 1u);
  EXPECT_FALSE(latest.nodes[1].metrics_scraped);
  EXPECT_FALSE(latest.nodes[1].metrics_error.empty());

  json j = dash.Json(10);
  const json& hist = j["nodes"][0]["chips"][1]["history"];
  ASSERT_EQ(hist["t_ms"].size(), 2u);
  EXPECT_TRUE(hist["compute_achieved_percent"][0].is_null());
  EXPECT_NEAR(hist["compute_achieved_percent"][1].get<double>(), 50.0, 1e-3);

  // A source error is reported; the last good snapshot stays.
  source.SetError(UnavailableError("caches not synced"));
  EXPECT_EQ(dash.Refresh().code(), StatusCode::kUnavailable);
  j = dash.Json(0);
  EXPECT_EQ(j["error"], "caches not synced");
  EXPECT_EQ(j["nodes"].size(), 2u);
}

TEST(DashboardTest, BackgroundLoopRefreshesUntilStopped) {
  testing::FakeSnapshotSource source(testing::MakeCluster(1, 1, 0));
  ScriptedFetcher fetcher;
  DashboardOptions o;
  o.refresh_period_ms = 10;
  Dashboard dash(source, fetcher, o);
  dash.Start();
  dash.Start();  // idempotent
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (source.calls() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  dash.Stop();
  const int calls = source.calls();
  EXPECT_GE(calls, 3);
  dash.Stop();
  EXPECT_EQ(source.calls(), calls) << "no refresh after Stop";
}

// RendezvousFetcher: each fetch waits (up to 10 s) until `want` fetches are in flight at once.
class RendezvousFetcher : public MetricsFetcher {
 public:
  explicit RendezvousFetcher(int want) : want_(want) {}
  Result<std::string> Fetch(const std::string&, size_t) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return max_in_flight_ >= want_; });
    --in_flight_;
    return std::string("up 1\n");
  }
  int max_in_flight() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
  }

 private:
  const int want_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

TEST(DashboardTest, NodesAreScrapedInParallel) {
  ClusterSnapshot cluster = testing::MakeCluster(10, 1, 0);
  for (NodeView& n : cluster.nodes) {
    n.metrics_url = "http://" + n.name + "/metrics";
  }
  testing::FakeSnapshotSource source(cluster);
  RendezvousFetcher fetcher(4);
  DashboardOptions o;
  o.scrape_parallelism = 4;
  Dashboard dash(source, fetcher, o);
  ASSERT_TRUE(dash.Refresh().ok());
  EXPECT_EQ(fetcher.max_in_flight(), 4) << "four fetches at once, never more";
  for (const NodeView& n : dash.Latest().nodes) {
    EXPECT_TRUE(n.metrics_scraped) << n.name;
  }
}

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dash_ = std::make_unique<Dashboard>(source_, fetcher_, DashboardOptions{});
    ASSERT_TRUE(dash_->Refresh().ok());
    DashboardRouteOptions ro;
    ro.max_response_bytes = max_bytes_;
    RegisterDashboardRoutes(server_, *dash_, ro);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // The socket listens since bind; wait for the accept loop so stop() is clean.
    for (int i = 0; i < 30000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  httplib::Client Client() { return httplib::Client("127.0.0.1", port_); }

  testing::FakeSnapshotSource source_{testing::MakeCluster(3, 8, 2)};
  ScriptedFetcher fetcher_;
  std::unique_ptr<Dashboard> dash_;
  httplib::Server server_;
  size_t max_bytes_ = size_t{32} << 20;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(RoutesTest, ServesPageAndJsonReadOnly) {
  httplib::Client c = Client();
  auto page = c.Get("/ui");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("connect-src 'self'"),
            std::string::npos);
  EXPECT_EQ(page->body, std::string(DashboardHtml()));

  auto api = c.Get("/api/v1/cluster?history_points=3");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 200);
  EXPECT_EQ(api->get_header_value("Cache-Control"), "no-store");
  json j = json::parse(api->body);
  EXPECT_EQ(j["version"], kClusterJsonVersion);
  EXPECT_EQ(j["totals"]["chips"], 24);
  EXPECT_EQ(j["history"]["max_points"], 3);

  auto head = c.Head("/api/v1/cluster");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());

  for (const char* bad : {"-1", "abc", "301", "", "1e3"}) {
    auto r = c.Get((std::string("/api/v1/cluster?history_points=") + bad).c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad;
  }
  for (const char* path : {"/ui", "/api/v1/cluster"}) {
    auto post = c.Post(path, "{}", "application/json");
    ASSERT_TRUE(post);
    EXPECT_EQ(post->status, 405);
    EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
    auto del = c.Delete(path);
    ASSERT_TRUE(del);
    EXPECT_EQ(del->status, 405);
    auto put = c.Put(path, "x", "text/plain");
    ASSERT_TRUE(put);
    EXPECT_EQ(put->status, 405);
  }
}

class TinyRoutesTest : public RoutesTest {
 protected:
  void SetUp() override {
    max_bytes_ = 200;
    RoutesTest::SetUp();
  }
};

TEST_F(TinyRoutesTest, OversizedResponseIsRefusedNotTruncated) {
  httplib::Client c = Client();
  auto api = c.Get("/api/v1/cluster");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 503);
  json j = json::parse(api->body);
  EXPECT_EQ(j["error"], "response too large");
}

}  // namespace
}  // namespace npushare::dashboard
