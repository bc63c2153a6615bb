// The dashboard wired into the scheduler: SchedulerService against kube-local with a hard and
// a soft node, pods allocated through Filter + Bind and one that fits nowhere; DashboardSource
// + Dashboard mounted on SchedulerHttpServer's metrics address as npushare-scheduler does;
// /api/v1/cluster, /ui and /help read over HTTP. Metrics URLs come from the node annotation
// (soft node) and from the template with the device-plugin pod's IP (hard node); both point
// at a fake device plugin /metrics whose memory series must reach the soft slice.
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "dashboard/dashboard.h"
#include "dashboard/html_report.h"
#include "dashboard/http_routes.h"
#include "dashboard/metrics_scraper.h"
#include "integration/scheduler/service/service_env.h"
#include "scheduler/http/admission_webhook.h"
#include "scheduler/http/scheduler_http_server.h"
#include "scheduler/service/dashboard_source.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;
using testing::PodRequest;
using testing::ServiceEnv;
using testing::WaitUntil;

// FakePluginMetrics: a device plugin's /metrics on 127.0.0.1 (one series for b3-core).
class FakePluginMetrics {
 public:
  FakePluginMetrics() {
    server_.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(
          "hami_vgpu_memory_used_bytes{namespace=\"default\",pod=\"b3-core\",container=\"npu\","
          "vdevice_index=\"0\"} 123456789\n",
          "text/plain");
    });
    server_.Get("/b3-hard/metrics", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("# nothing allocated here is measured\n", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    EXPECT_TRUE(WaitUntil([this] { return server_.is_running(); }));
  }
  ~FakePluginMetrics() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class DashboardWiringTest : public ::testing::Test {
 protected:
  std::string Schedule(SchedulerService& svc, const std::string& name, const PodRequest& req) {
    json pod = env_.CreatePod(name, req);
    auto f = svc.Filter(ServiceEnv::FilterArgsFor(pod, {"b3-hard", "b3-soft"}));
    EXPECT_TRUE(f.ok());
    if (!f.ok() || (*f)["NodeNames"].size() != 1) {
      ADD_FAILURE() << name << " not placed";
      return "";
    }
    const std::string node = (*f)["NodeNames"][0];
    auto b = svc.Bind(ServiceEnv::BindArgsFor(pod, node));
    EXPECT_TRUE(b.ok() && (*b)["Error"] == "") << name;
    EXPECT_TRUE(env_.PluginAllocated(name, node).ok());
    return node;
  }

  ServiceEnv env_;
};

const json* FindByName(const json& list, const char* field, const std::string& value) {
  for (const auto& item : list) {
    if (item.value(field, "") == value) {
      return &item;
    }
  }
  return nullptr;
}

TEST_F(DashboardWiringTest, ServesTheSchedulersNodesChipsSlicesAndPendingPods) {
  FakePluginMetrics plugin;
  const std::string base = "http://127.0.0.1:" + std::to_string(plugin.port());
  env_.CreateNode({.name = "b3-hard", .cw = "Ascend910B3", .chips = 2});
  env_.CreateNode({.name = "b3-soft", .cw = "Ascend910B3", .chips = 2, .hami_core = true});
  // Soft node: the demo's override annotation. Hard node: its device-plugin pod's IP.
  ASSERT_TRUE(env_.client()
                  .Patch(kube::kNodes, "", "b3-soft", kube::PatchType::kMerge,
                         {{"metadata",
                           {{"annotations", {{kMetricsUrlNodeAnnotation, base + "/metrics"}}}}}})
                  .ok());
  json plugin_pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", "npushare-device-plugin-b3-hard"},
        {"namespace", "default"},
        {"labels", {{"app.kubernetes.io/name", "npushare-device-plugin"}}}}},
      {"spec", {{"nodeName", "b3-hard"}, {"containers", {{{"name", "plugin"}, {"image", "x"}}}}}},
      {"status", {{"phase", "Running"}, {"podIP", "127.0.0.1"}}}};
  auto created = env_.client().Create(kube::kPods, "default", plugin_pod);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  if (!(*created)["status"].contains("podIP")) {
    ASSERT_TRUE(env_.client()
                    .Patch(kube::kPods, "default", "npushare-device-plugin-b3-hard",
                           kube::PatchType::kMerge, {{"status", plugin_pod["status"]}},
                           {.subresource = "status"})
                    .ok());
  }

  auto svc = env_.StartService(env_.Options());
  ASSERT_TRUE(svc);
  const std::string hard_node =
      Schedule(*svc, "b3-slice", {.cw = "Ascend910B3", .memory_mb = 16384});
  ASSERT_FALSE(hard_node.empty());
  ASSERT_EQ(Schedule(*svc, "b3-core",
                     {.cw = "Ascend910B3", .memory_mb = 8192, .cores = 20, .hami_core = true}),
            "b3-soft");
  json too_big = env_.CreatePod("too-big", {.cw = "Ascend910B3", .count = 3});
  auto f = svc->Filter(ServiceEnv::FilterArgsFor(too_big, {"b3-hard", "b3-soft"}));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)["NodeNames"].empty()) << f->dump();

  // Wired as SchedulerMain does.
  DashboardSourceOptions dso;
  dso.metrics_url_template =
      "http://{podIP}:" + std::to_string(plugin.port()) + "/{nodeName}/metrics";
  DashboardSource source(env_.client(), *svc, dso);
  source.Start();
  dashboard::HttpMetricsFetcher fetcher;
  dashboard::DashboardOptions dopt;
  dopt.refresh_period_ms = 50;
  dashboard::Dashboard dash(source, fetcher, dopt);
  http::AdmissionWebhook webhook({}, [&svc] { return svc->CurrentDeviceConfig(); });
  http::SchedulerHttpOptions ho;
  ho.bind_address = "127.0.0.1:0";
  ho.metrics_bind_address = "127.0.0.1:0";
  ho.metrics_extra_routes = {{"/ui", "dashboard page"}, {"/api/v1/cluster", "dashboard JSON"}};
  ho.register_metrics_routes = [&dash](httplib::Server& s) {
    dashboard::RegisterDashboardRoutes(s, dash, {});
  };
  http::SchedulerHttpServer server(ho, *svc, webhook, [&svc] { return svc->MetricsText(); });
  ASSERT_TRUE(server.Start().ok());
  dash.Start();

  httplib::Client client("127.0.0.1", server.MetricsPort());
  json cluster;
  // The pods' containers arrive through the pod informer and the plugin pod through the
  // source's own informer; wait until a refresh shows them and both scrapes.
  const bool complete = WaitUntil([&] {
    auto res = client.Get("/api/v1/cluster?history_points=5");
    if (!res || res->status != 200) {
      return false;
    }
    cluster = json::parse(res->body, nullptr, false);
    if (cluster.is_discarded() || !cluster["nodes"].is_array() || cluster["nodes"].size() != 2) {
      return false;
    }
    for (const auto& n : cluster["nodes"]) {
      if (!n["metrics"]["scraped"].get<bool>()) {
        return false;
      }
      for (const auto& c : n["chips"]) {
        for (const auto& s : c["slices"]) {
          if (s["container"] != "npu" ||
              (s["pod"] == "b3-core" && s["memory_used_bytes"].is_null())) {
            return false;
          }
        }
      }
    }
    return true;
  });
  ASSERT_TRUE(complete) << cluster.dump(1);
  dash.Stop();

  EXPECT_EQ(cluster["error"], nullptr);
  EXPECT_EQ(cluster["totals"]["chips"], 4);
  EXPECT_EQ(cluster["totals"]["slices"], 2);
  const json* soft = FindByName(cluster["nodes"], "name", "b3-soft");
  const json* hard = FindByName(cluster["nodes"], "name", "b3-hard");
  ASSERT_TRUE(soft && hard) << cluster.dump(1);
  EXPECT_EQ((*soft)["metrics"]["url"], base + "/metrics");
  EXPECT_EQ((*hard)["metrics"]["url"], base + "/b3-hard/metrics");

  int soft_slices = 0;
  for (const auto& c : (*soft)["chips"]) {
    EXPECT_EQ(c["mode"], "soft");
    EXPECT_EQ(c["type"], "Ascend910B3");
    EXPECT_EQ(c["memory_total_bytes"], int64_t{65536} * 1048576);
    EXPECT_EQ(c["healthy"], true);
    for (const auto& s : c["slices"]) {
      ++soft_slices;
      EXPECT_EQ(s["pod"], "b3-core");
      EXPECT_EQ(s["namespace"], "default");
      EXPECT_EQ(s["template"], "");
      EXPECT_EQ(s["memory_quota_bytes"], int64_t{8192} * 1048576);
      EXPECT_EQ(s["core_percent"], 20);
      EXPECT_EQ(s["memory_used_bytes"], 123456789);
    }
  }
  EXPECT_EQ(soft_slices, 1);
  int hard_slices = 0;
  for (const auto& c : (*hard)["chips"]) {
    EXPECT_EQ(c["mode"], "hard");
    EXPECT_EQ(c["cores"], 20);
    for (const auto& s : c["slices"]) {
      ++hard_slices;
      EXPECT_EQ(s["pod"], "b3-slice");
      EXPECT_EQ(s["template"], "vir05_1c_16g");
      EXPECT_EQ(s["kind"], "hard");
      EXPECT_EQ(s["memory_quota_bytes"], int64_t{16384} * 1048576);
      EXPECT_EQ(s["core_percent"], 25);  // the template's 5 of 20 AI cores
      EXPECT_EQ(s["memory_used_bytes"], nullptr);
    }
  }
  EXPECT_EQ(hard_slices, 1);
  ASSERT_EQ(cluster["pending"].size(), 1u) << cluster.dump(1);
  EXPECT_EQ(cluster["pending"][0]["pod"], "too-big");
  EXPECT_GT(cluster["pending"][0]["since_unix_ms"].get<int64_t>(), 0);
  EXPECT_LE(cluster["pending"][0]["since_unix_ms"].get<int64_t>(),
            cluster["time_unix_ms"].get<int64_t>());
  EXPECT_EQ(cluster["pending"][0]["reason"].get<std::string>().rfind("0/2 nodes are available", 0),
            0u)
      << cluster["pending"][0].dump();

  auto ui = client.Get("/ui");
  ASSERT_TRUE(ui);
  EXPECT_EQ(ui->status, 200);
  EXPECT_NE(ui->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(ui->body.find("/api/v1/cluster"), std::string::npos);
  auto help = client.Get("/help");
  ASSERT_TRUE(help);
  EXPECT_NE(help->body.find("/api/v1/cluster"), std::string::npos) << help->body;
  EXPECT_NE(help->body.find("/ui"), std::string::npos);

  // The exit report `npushare demo` writes from the same JSON: self-contained, with the data.
  auto body = client.Get("/api/v1/cluster?history_points=300");
  ASSERT_TRUE(body && body->status == 200);
  const std::string report_path = env_.tmp().path() + "/npushare-report.html";
  ASSERT_TRUE(dashboard::WriteHtmlReportFromJson(report_path, body->body).ok());
  std::ifstream report_file(report_path);
  const std::string report((std::istreambuf_iterator<char>(report_file)),
                           std::istreambuf_iterator<char>());
  EXPECT_NE(report.find("b3-core"), std::string::npos);
  EXPECT_NE(report.find("vir05_1c_16g"), std::string::npos);
  EXPECT_NE(report.find("too-big"), std::string::npos);
  EXPECT_EQ(std::filesystem::status(report_path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms(0644));
  EXPECT_EQ(dashboard::HtmlReportFromJson("not json").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(dashboard::HtmlReportFromJson("[1]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dashboard::HtmlReportFromJson(R"({"nodes":[]})").status().code(),
            StatusCode::kInvalidArgument);

  // Once bound, a pending pod leaves the list.
  ASSERT_TRUE(env_.client().Delete(kube::kPods, "default", "too-big").ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto snap = source.Snapshot();
    return snap.ok() && snap->pending.empty();
  }));
  server.Stop();
  source.Stop();
}

TEST(ExpandMetricsUrlTest, FillsPodIpAndNodeName) {
  EXPECT_EQ(ExpandMetricsUrl("http://{podIP}:9395/metrics", "n1", "10.0.0.5"),
            "http://10.0.0.5:9395/metrics");
  EXPECT_EQ(ExpandMetricsUrl("http://{podIP}:9395/metrics", "n1", ""), "");
  EXPECT_EQ(ExpandMetricsUrl("http://{podIP}:9395/m", "n1", "fd00::5"), "http://[fd00::5]:9395/m");
  EXPECT_EQ(ExpandMetricsUrl("http://{nodeName}.local:9395/metrics", "n1", ""),
            "http://n1.local:9395/metrics");
  EXPECT_EQ(ExpandMetricsUrl("", "n1", "10.0.0.5"), "");
}

}  // namespace
}  // namespace npushare::scheduler
