// Tests of SchedulerHttpServer over real HTTP on 127.0.0.1 (port 0) with a fake
// ExtenderService: routes, the wire canonicalisation the service sees, and bad input
// (413 / 415 / 400 / 405 / 404) answered with bodies of the route's type.
#include "scheduler/http/scheduler_http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "unit/scheduling/test_chips.h"

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;

class FakeExtenderService : public ExtenderService {
 public:
  Result<json> Filter(const json& args) override {
    std::lock_guard<std::mutex> lock(mu_);
    filter_args_.push_back(args);
    if (!filter_status_.ok()) {
      return filter_status_;
    }
    json names = args["NodeNames"];
    json failed = json::object();
    if (!names.empty()) {
      failed[names.back().get<std::string>()] = "1/8 CardInsufficientMemory";
      names.erase(names.size() - 1);
    }
    return json{{"NodeNames", names}, {"FailedNodes", failed}, {"Error", ""}};
  }
  Result<json> Bind(const json& args) override {
    std::lock_guard<std::mutex> lock(mu_);
    bind_args_.push_back(args);
    return json{{"Error", bind_error_}};
  }
  bool Ready() const override { return ready_.load(); }

  std::vector<json> FilterArgs() {
    std::lock_guard<std::mutex> lock(mu_);
    return filter_args_;
  }
  std::vector<json> BindArgs() {
    std::lock_guard<std::mutex> lock(mu_);
    return bind_args_;
  }
  void SetFilterStatus(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    filter_status_ = std::move(s);
  }
  void SetBindError(std::string e) {
    std::lock_guard<std::mutex> lock(mu_);
    bind_error_ = std::move(e);
  }
  std::atomic<bool> ready_{false};

 private:
  std::mutex mu_;
  std::vector<json> filter_args_;
  std::vector<json> bind_args_;
  Status filter_status_;
  std::string bind_error_;
};

json FilterBody() {
  return json{{"Pod",
               {{"metadata", {{"name", "p"}, {"namespace", "default"}}},
                {"spec", {{"containers", json::array()}}}}},
              {"Nodes", nullptr},
              {"NodeNames", {"node-a", "node-b"}}};
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.bind_address = "127.0.0.1:0";
    options_.metrics_bind_address = "127.0.0.1:0";
    options_.max_body_bytes = 64 * 1024;
    auto cfg = std::make_shared<config::DeviceConfig>();
    cfg->chips.push_back(scheduling::testing::Chip910B3());
    config_ = cfg;
    webhook_ =
        std::make_unique<AdmissionWebhook>(AdmissionWebhookOptions{}, [this] { return config_; });
    server_ = std::make_unique<SchedulerHttpServer>(options_, service_, *webhook_, [] {
      return std::string("# TYPE fake_service_series gauge\nfake_service_series 7\n");
    });
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->Port());
  }
  void TearDown() override { server_->Stop(); }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& type = "application/json") {
    return client_->Post(path, body, type);
  }

  SchedulerHttpOptions options_;
  FakeExtenderService service_;
  std::shared_ptr<const config::DeviceConfig> config_;
  std::unique_ptr<AdmissionWebhook> webhook_;
  std::unique_ptr<SchedulerHttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, FilterPassesCanonicalArgsAndAnswersExtenderFilterResult) {
  json lower = FilterBody();
  lower["nodeNames"] = lower["NodeNames"];
  lower.erase("NodeNames");
  auto res = Post("/filter", lower.dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  json out = json::parse(res->body);
  EXPECT_EQ(out, json::parse(R"({"Nodes":null,"NodeNames":["node-a"],
      "FailedNodes":{"node-b":"1/8 CardInsufficientMemory"},
      "FailedAndUnresolvableNodes":null,"Error":""})"));
  auto seen = service_.FilterArgs();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["NodeNames"], json({"node-a", "node-b"}));
  EXPECT_TRUE(seen[0].contains("Pod"));
}

TEST_F(HttpServerTest, ContentTypeWithCharsetIsAccepted) {
  auto res = Post("/filter", FilterBody().dump(), "Application/JSON; charset=utf-8");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpServerTest, WrongContentTypeIs415WithAFilterResultBody) {
  auto res = Post("/filter", FilterBody().dump(), "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  json out = json::parse(res->body);
  EXPECT_FALSE(out["Error"].get<std::string>().empty());
  EXPECT_TRUE(out.contains("NodeNames"));
  EXPECT_TRUE(service_.FilterArgs().empty());
}

TEST_F(HttpServerTest, MalformedJsonIs400WithTheParserMessage) {
  auto res = Post("/filter", R"({"Pod": {"metadata": )");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  json out = json::parse(res->body);
  EXPECT_NE(out["Error"].get<std::string>().find("not valid JSON"), std::string::npos);
  EXPECT_TRUE(service_.FilterArgs().empty());
}

TEST_F(HttpServerTest, UnknownFieldAndWrongShapeAre400) {
  json extra = FilterBody();
  extra["Surprise"] = true;
  auto res = Post("/filter", extra.dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(json::parse(res->body)["Error"].get<std::string>().find("Surprise"), std::string::npos);
  auto shape = Post("/filter", R"({"Pod":[],"NodeNames":["a"]})");
  ASSERT_TRUE(shape);
  EXPECT_EQ(shape->status, 400);
  EXPECT_TRUE(service_.FilterArgs().empty());
}

TEST_F(HttpServerTest, DeepNestingIs400) {
  std::string deep = R"({"Pod":{"x":)" + std::string(10000, '[') + std::string(10000, ']') +
                     R"(},"NodeNames":["a"]})";
  auto res = Post("/filter", deep);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(HttpServerTest, OversizedBodyIs413WithAFilterResultBody) {
  json big = FilterBody();
  big["Pod"]["metadata"]["annotations"] = {{"a", std::string(options_.max_body_bytes, 'x')}};
  auto res = Post("/filter", big.dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  json out = json::parse(res->body);
  EXPECT_FALSE(out["Error"].get<std::string>().empty());
  EXPECT_TRUE(service_.FilterArgs().empty());
  // The server keeps serving.
  httplib::Client again("127.0.0.1", server_->Port());
  auto ok = again.Post("/filter", FilterBody().dump(), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, OversizedChunkedBodyIsRefused) {
  const std::string chunk(16 * 1024, ' ');
  size_t sent = 0;
  auto res = client_->Post(
      "/filter",
      [&](size_t, httplib::DataSink& sink) {
        if (sent > 4 * options_.max_body_bytes) {
          sink.done();
          return true;
        }
        sent += chunk.size();
        return sink.write(chunk.data(), chunk.size());
      },
      "application/json");
  // cpp-httplib 0.11 refuses an over-long chunked body with 400 (a Content-Length one with 413),
  // or closes the connection mid-upload; either way the service never sees it.
  if (res) {
    EXPECT_TRUE(res->status == 413 || res->status == 400) << res->status;
    EXPECT_TRUE(json::parse(res->body, nullptr, false).contains("Error"));
  }
  EXPECT_TRUE(service_.FilterArgs().empty());
  httplib::Client again("127.0.0.1", server_->Port());
  auto ok = again.Post("/filter", FilterBody().dump(), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, ServiceInvalidArgumentIs400OtherErrorsAre200WithError) {
  service_.SetFilterStatus(InvalidArgumentError("pod has no name"));
  auto bad = Post("/filter", FilterBody().dump());
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["Error"], "pod has no name");
  service_.SetFilterStatus(UnavailableError("caches not synced"));
  auto unavailable = Post("/filter", FilterBody().dump());
  ASSERT_TRUE(unavailable);
  EXPECT_EQ(unavailable->status, 200);
  EXPECT_EQ(json::parse(unavailable->body)["Error"], "caches not synced");
}

TEST_F(HttpServerTest, BindPassesArgsAndReturnsTheError) {
  auto ok = Post("/bind", R"({"PodName":"p","PodNamespace":"ns","PodUID":"u","Node":"n1"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(json::parse(ok->body), json::parse(R"({"Error":""})"));
  service_.SetBindError("not the leader");
  auto refused = Post("/bind", R"({"PodName":"p","PodNamespace":"ns","PodUID":"u","Node":"n1"})");
  ASSERT_TRUE(refused);
  EXPECT_EQ(json::parse(refused->body)["Error"], "not the leader");
  ASSERT_EQ(service_.BindArgs().size(), 2u);
  EXPECT_EQ(service_.BindArgs()[0]["Node"], "n1");
  auto missing = Post("/bind", R"({"PodName":"p"})");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  EXPECT_TRUE(json::parse(missing->body).contains("Error"));
  EXPECT_EQ(service_.BindArgs().size(), 2u);
}

TEST_F(HttpServerTest, WebhookAnswersOnBothPathsIgnoringTheTimeoutQuery) {
  const json review = json::parse(R"({"apiVersion":"admission.k8s.io/v1beta1",
      "kind":"AdmissionReview",
      "request":{"uid":"abc","operation":"CREATE","namespace":"default",
        "object":{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c",
          "resources":{"limits":{"huawei.com/Ascend910B3":"1"}}}]}}}})");
  for (const char* path : {"/webhook?timeout=10s", "/webhook/mutating?timeout=10s"}) {
    auto res = Post(path, review.dump());
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    json out = json::parse(res->body);
    EXPECT_EQ(out["apiVersion"], "admission.k8s.io/v1beta1");
    EXPECT_EQ(out["response"]["uid"], "abc");
    EXPECT_EQ(out["response"]["allowed"], true);
    EXPECT_EQ(out["response"]["patchType"], "JSONPatch");
  }
  auto bad = Post("/webhook", R"({"apiVersion":"v1","kind":"Pod"})");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["kind"], "Status");
}

TEST_F(HttpServerTest, ReadyzFollowsTheService) {
  auto before = client_->Get("/readyz");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 503);
  service_.ready_ = true;
  auto after = client_->Get("/readyz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  auto health = client_->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(HttpServerTest, WrongMethodIs405UnknownPathIs404HelpListsRoutes) {
  auto get_filter = client_->Get("/filter");
  ASSERT_TRUE(get_filter);
  EXPECT_EQ(get_filter->status, 405);
  EXPECT_EQ(get_filter->get_header_value("Allow"), "POST");
  auto missing = Post("/nothing", "{}");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto help = client_->Get("/help");
  ASSERT_TRUE(help);
  for (const char* path :
       {"/filter", "/bind", "/webhook", "/webhook/mutating", "/readyz", "/healthz", "/metrics"}) {
    EXPECT_NE(help->body.find(path), std::string::npos) << path;
  }
}

TEST_F(HttpServerTest, MetricsCountRequestsAndIncludeTheServiceSeries) {
  ASSERT_TRUE(Post("/filter", FilterBody().dump()));
  ASSERT_TRUE(Post("/filter", "nope", "text/plain"));
  ASSERT_TRUE(Post("/random", "{}"));
  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const std::string& m = res->body;
  EXPECT_NE(m.find(R"(npushare_scheduler_http_requests_total{route="/filter",code="200"} 1)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(R"(npushare_scheduler_http_requests_total{route="/filter",code="415"} 1)"),
            std::string::npos);
  EXPECT_NE(m.find(R"(npushare_scheduler_http_requests_total{route="other",code="404"} 1)"),
            std::string::npos);
  EXPECT_NE(m.find(R"(npushare_scheduler_http_request_duration_seconds_count{route="/filter"} 2)"),
            std::string::npos);
  EXPECT_NE(m.find("fake_service_series 7"), std::string::npos);

  // The metrics address serves /metrics (and not the extender).
  httplib::Client metrics("127.0.0.1", server_->MetricsPort());
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_EQ(scraped->status, 200);
  EXPECT_NE(scraped->body.find("fake_service_series 7"), std::string::npos);
  auto filter = metrics.Post("/filter", FilterBody().dump(), "application/json");
  ASSERT_TRUE(filter);
  EXPECT_EQ(filter->status, 404);
}

TEST_F(HttpServerTest, ConcurrentGoodAndBadRequestsAreAllAnswered) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", server_->Port());
      for (int i = 0; i < kPerThread; ++i) {
        const bool good = (i + t) % 2 == 0;
        auto res = good ? c.Post("/filter", FilterBody().dump(), "application/json")
                        : c.Post("/filter", "{\"Pod\":", "application/json");
        if (!res || res->status != (good ? 200 : 400)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(service_.FilterArgs().size(), static_cast<size_t>(kThreads * kPerThread / 2));
}

TEST(ParseBindAddressTest, Forms) {
  auto a = ParseBindAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto any = ParseBindAddress(":9395");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->host, "0.0.0.0");
  EXPECT_EQ(any->port, 9395);
  auto v6 = ParseBindAddress("[::1]:443");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 443);
  for (const char* bad :
       {"", "8080", "host:", "host:99999", "host:-1", "::1:80", "[::1]80", "h:8x"}) {
    EXPECT_EQ(ParseBindAddress(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SchedulerHttpServerStartTest, TakenPortIsUnavailable) {
  FakeExtenderService service;
  AdmissionWebhook webhook({}, [] { return nullptr; });
  SchedulerHttpOptions o;
  o.bind_address = "127.0.0.1:0";
  SchedulerHttpServer first(o, service, webhook);
  ASSERT_TRUE(first.Start().ok());
  o.bind_address = "127.0.0.1:" + std::to_string(first.Port());
  SchedulerHttpServer second(o, service, webhook);
  EXPECT_EQ(second.Start().code(), StatusCode::kUnavailable);
}

TEST(SchedulerHttpServerStartTest, CertWithoutKeyIsInvalid) {
  FakeExtenderService service;
  AdmissionWebhook webhook({}, [] { return nullptr; });
  SchedulerHttpOptions o;
  o.bind_address = "127.0.0.1:0";
  o.cert_file = "/nonexistent.crt";
  SchedulerHttpServer server(o, service, webhook);
  EXPECT_EQ(server.Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare::scheduler::http
