// Tests of MetricsScraper and MergeUsage: series -> container usage, counters -> rates.
#include "dashboard/metrics_scraper.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <map>
#include <thread>

#include "dashboard/dashboard.h"

namespace npushare::dashboard {
namespace {

// FakeFetcher: answers each URL with a scripted body or error; records max_bytes asked.
class FakeFetcher : public MetricsFetcher {
 public:
  Result<std::string> Fetch(const std::string& url, size_t max_bytes) override {
    last_max_bytes = max_bytes;
    auto it = bodies.find(url);
    if (it == bodies.end()) {
      return UnavailableError("no such peer");
    }
    return it->second;
  }
  std::map<std::string, std::string> bodies;
  size_t last_max_bytes = 0;
};

std::string Body(double device_s, double granted_s, int64_t used) {
  const std::string l =
      "{node=\"n1\",namespace=\"team-b\",pod=\"job\",container=\"trainer\",vdevice_index=\"0\","
      "device_uuid=\"npu-1\",pod_uid=\"u1\"}";
  return "# TYPE hami_vgpu_memory_used_bytes gauge\n"
         "hami_vgpu_memory_used_bytes" +
         l + " " + std::to_string(used) + "\n" + "hami_vgpu_memory_limit_bytes" + l +
         " 4294967296\n" + "npushare_vnpu_core_share_percent" + l + " 30\n" +
         "npushare_vnpu_core_device_seconds_total" + l + " " + std::to_string(device_s) + "\n" +
         "npushare_vnpu_core_granted_seconds_total" + l + " " + std::to_string(granted_s) + "\n" +
         // no namespace/pod: the plugin did not know the pod yet
         "hami_vgpu_memory_used_bytes{container=\"x\",vdevice_index=\"0\"} 5\n"
         "npushare_device_plugin_chip_healthy{node=\"n1\"} 1\n";
}

TEST(MetricsScraperTest, ExtractsUsageAndComputesRatesBetweenScrapes) {
  FakeFetcher f;
  MetricsScraper scraper(f, {});
  f.bodies["u"] = Body(10.0, 20.0, 1000);
  Result<NodeUsage> first = scraper.Scrape("n1", "u", 100000);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->containers.size(), 1u);
  EXPECT_EQ(first->unmatched_series, 1u);
  const ContainerUsage& c = first->containers[0];
  EXPECT_EQ(c.key.device_uuid, "npu-1");
  EXPECT_EQ(c.memory_used_bytes, 1000);
  EXPECT_EQ(c.memory_limit_bytes, int64_t{4294967296});
  EXPECT_EQ(c.core_share_percent, 30.0);
  EXPECT_FALSE(c.compute_achieved_percent.has_value()) << "first scrape has no rate";

  // 2 s later: +0.5 s of device time (25 %), +1 s granted (50 %).
  f.bodies["u"] = Body(10.5, 21.0, 2000);
  Result<NodeUsage> second = scraper.Scrape("n1", "u", 102000);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->containers.size(), 1u);
  EXPECT_NEAR(*second->containers[0].compute_achieved_percent, 25.0, 1e-9);
  EXPECT_NEAR(*second->containers[0].compute_granted_percent, 50.0, 1e-9);
  EXPECT_EQ(second->containers[0].memory_used_bytes, 2000);
}

TEST(MetricsScraperTest, CounterResetAndTooCloseScrapesGiveNoRate) {
  FakeFetcher f;
  MetricsScraper scraper(f, {});
  f.bodies["u"] = Body(10.0, 20.0, 0);
  ASSERT_TRUE(scraper.Scrape("n1", "u", 0).ok());
  f.bodies["u"] = Body(1.0, 2.0, 0);  // restarted container: counters went down
  Result<NodeUsage> reset = scraper.Scrape("n1", "u", 2000);
  ASSERT_TRUE(reset.ok());
  EXPECT_FALSE(reset->containers[0].compute_achieved_percent.has_value());
  // 100 ms later: too close, no rate, and the 2000 ms baseline is kept...
  f.bodies["u"] = Body(1.1, 2.0, 0);
  Result<NodeUsage> close = scraper.Scrape("n1", "u", 2100);
  ASSERT_TRUE(close.ok());
  EXPECT_FALSE(close->containers[0].compute_achieved_percent.has_value());
  // ...so the next one measures from 2000 ms: (1.5 - 1.0) / 1 s = 50 %.
  f.bodies["u"] = Body(1.5, 2.0, 0);
  Result<NodeUsage> next = scraper.Scrape("n1", "u", 3000);
  ASSERT_TRUE(next.ok());
  EXPECT_NEAR(*next->containers[0].compute_achieved_percent, 50.0, 1e-9);
}

TEST(MetricsScraperTest, FetchErrorsAndHostileValuesAreContained) {
  FakeFetcher f;
  ScraperOptions o;
  o.max_body_bytes = 12345;
  MetricsScraper scraper(f, o);
  EXPECT_EQ(scraper.Scrape("n1", "missing", 0).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(f.last_max_bytes, 12345u);
  f.bodies["u"] =
      "hami_vgpu_memory_used_bytes{namespace=\"a\",pod=\"p\",container=\"c\"} -5\n"
      "hami_vgpu_memory_limit_bytes{namespace=\"a\",pod=\"p\",container=\"c\"} 1e300\n";
  Result<NodeUsage> u = scraper.Scrape("n1", "u", 0);
  ASSERT_TRUE(u.ok());
  ASSERT_EQ(u->containers.size(), 1u);
  EXPECT_FALSE(u->containers[0].memory_used_bytes.has_value());
  EXPECT_FALSE(u->containers[0].memory_limit_bytes.has_value());
}

TEST(HttpMetricsFetcherTest, FetchesBoundsTheBodyAndRejectsBadUrls) {
  httplib::Server server;
  server.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(5000, '#'), "text/plain");
  });
  server.Get("/gone", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  // The socket listens since bind; wait for the accept loop so stop() is clean.
  for (int i = 0; i < 30000 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  HttpMetricsFetcher fetcher;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  Result<std::string> ok = fetcher.Fetch(base + "/metrics", 10000);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 5000u);
  EXPECT_EQ(fetcher.Fetch(base + "/metrics", 100).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fetcher.Fetch(base + "/gone", 100).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(fetcher.Fetch("https://x/metrics", 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fetcher.Fetch("http:///metrics", 100).status().code(), StatusCode::kInvalidArgument);
  server.stop();
  t.join();
}

TEST(MergeUsageTest, MatchesByChipUuidContainerAndFallsBackToThePod) {
  NodeView node;
  node.name = "n1";
  ChipView c1;
  c1.uuid = "npu-1";
  SliceView named;
  named.pod_namespace = "a";
  named.pod_name = "p";
  named.container = "main";
  c1.slices.push_back(named);
  ChipView c2;
  c2.uuid = "npu-2";
  SliceView unnamed;  // the source knew only the container index
  unnamed.pod_namespace = "a";
  unnamed.pod_name = "q";
  c2.slices.push_back(unnamed);
  node.chips = {c1, c2};

  NodeUsage usage;
  ContainerUsage u1;
  u1.key = {"a", "p", "main", "npu-1", "0"};
  u1.memory_used_bytes = 100;
  u1.compute_achieved_percent = 12.5;
  ContainerUsage u2;
  u2.key = {"a", "q", "worker", "npu-2", "0"};
  u2.memory_used_bytes = 200;
  ContainerUsage u3;  // no uuid: the one slice of a/p/main on the node
  u3.key = {"a", "p", "main", "", "1"};
  u3.memory_used_bytes = 1;
  ContainerUsage stray;
  stray.key = {"a", "zzz", "main", "npu-1", "0"};
  usage.containers = {u1, u2, u3, stray};

  EXPECT_EQ(MergeUsage(node, usage), 1u);
  EXPECT_EQ(node.chips[0].slices[0].memory_used_bytes, 101);
  EXPECT_EQ(node.chips[0].slices[0].compute_achieved_percent, 12.5);
  EXPECT_EQ(node.chips[1].slices[0].memory_used_bytes, 200);
  EXPECT_FALSE(node.chips[1].slices[0].compute_achieved_percent.has_value());
}

}  // namespace
}  // namespace npushare::dashboard
