// Contract D (issue 12): kube-local serves pods/{name}/log by calling the node's kubelet
// (status.addresses InternalIP + daemonEndpoints.kubeletEndpoint.Port, /containerLogs/...), so
// `kubectl logs` works. The kubelet here is a tiny fake HTTP server in the test.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "integration/kube/subprocess.h"
#include "integration/kube/test_server.h"
#include "support/temp_dir.h"

namespace npushare::kube {
namespace {

using nlohmann::json;
using testing::FindOnPath;
using testing::MakePod;
using testing::ServerAndClient;
using testing::Subprocess;

// FakeKubelet: /containerLogs/{ns}/{pod}/{container}; "follow=true" streams lines until told to
// stop; records the queries it saw.
class FakeKubelet {
 public:
  FakeKubelet() {
    server_.Get(R"(/containerLogs/([^/]+)/([^/]+)/([^/]+))", [this](const httplib::Request& req,
                                                                    httplib::Response& res) {
      std::string who =
          req.matches[1].str() + "/" + req.matches[2].str() + "/" + req.matches[3].str();
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(who + "?" + Query(req));
      }
      if (req.matches[3].str() == "missing") {
        res.status = 404;
        res.set_content("container \"missing\" not found", "text/plain");
        return;
      }
      if (req.get_param_value("follow") != "true") {
        res.set_content("hello from " + who + "\nsecond line\n", "text/plain");
        return;
      }
      res.set_chunked_content_provider(
          "text/plain;charset=utf-8", [this, who, n = 0](size_t, httplib::DataSink& sink) mutable {
            if (stop_.load()) {
              sink.done();
              return true;
            }
            std::string line = "follow " + who + " " + std::to_string(n++) + "\n";
            sink.write(line.data(), line.size());
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            return true;
          });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
  }
  ~FakeKubelet() {
    stop_.store(true);
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  static std::string Query(const httplib::Request& req) {
    std::string q;
    for (const auto& [k, v] : req.params) {
      q += (q.empty() ? "" : "&") + k + "=" + v;
    }
    return q;
  }
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> seen_;
};

PatchOptions StatusPatch() {
  PatchOptions o;
  o.subresource = "status";
  return o;
}

class PodLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json node = {{"metadata", {{"name", "node-a"}}}};
    ASSERT_TRUE(env_.client().Create(kNodes, "", node).ok());
    json status = {{"status",
                    {{"addresses",
                      {{{"type", "Hostname"}, {"address", "node-a"}},
                       {{"type", "InternalIP"}, {"address", "127.0.0.1"}}}},
                     {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", kubelet_.port()}}}}}}}};
    ASSERT_TRUE(env_.client()
                    .Patch(kNodes, "", "node-a", PatchType::kMerge, status,
                           StatusPatch())
                    .ok());
    ASSERT_TRUE(env_.client().Create(kPods, "default", MakePod("web", "node-a")).ok());
    json two = MakePod("two", "node-a");
    two["spec"]["containers"].push_back({{"name", "side"}, {"image", "busybox"}});
    ASSERT_TRUE(env_.client().Create(kPods, "default", two).ok());
    ASSERT_TRUE(env_.client().Create(kPods, "default", MakePod("pending")).ok());
  }
  httplib::Result Get(const std::string& path) {
    httplib::Client cli(env_.server()->url());
    cli.set_read_timeout(30);
    return cli.Get(path);
  }

  FakeKubelet kubelet_;
  ServerAndClient env_;
};

TEST_F(PodLogsTest, ProxiesToTheNodesKubeletWithTheOptions) {
  auto r = Get("/api/v1/namespaces/default/pods/web/log?tailLines=5&timestamps=true");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, "hello from default/web/main\nsecond line\n");
  auto seen = kubelet_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "default/web/main?tailLines=5&timestamps=true");
}

TEST_F(PodLogsTest, ContainerMustBeNamedWhenThereAreSeveralAndMustExist) {
  auto r = Get("/api/v1/namespaces/default/pods/two/log");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("[main side]"), std::string::npos) << r->body;
  r = Get("/api/v1/namespaces/default/pods/two/log?container=side");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello from default/two/side\nsecond line\n");
  r = Get("/api/v1/namespaces/default/pods/two/log?container=nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = Get("/api/v1/namespaces/default/pods/nosuch/log");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = Get("/api/v1/namespaces/default/pods/web/log?tailLines=-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(kubelet_.seen().size() == 1u);  // only the valid request reached the kubelet
}

TEST_F(PodLogsTest, UnscheduledPodHasEmptyLogsAndKubeletErrorsPassThrough) {
  auto r = Get("/api/v1/namespaces/default/pods/pending/log");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  json missing = MakePod("gone", "node-a");
  missing["spec"]["containers"][0]["name"] = "missing";
  ASSERT_TRUE(env_.client().Create(kPods, "default", missing).ok());
  r = Get("/api/v1/namespaces/default/pods/gone/log");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("not found"), std::string::npos);
}

TEST_F(PodLogsTest, KubectlLogsAndFollow) {
  std::string kubectl = FindOnPath("kubectl");
  if (kubectl.empty()) {
    GTEST_SKIP() << "kubectl not found on PATH (Debian package: kubernetes-client)";
  }
  npushare::testing::ScopedTempDir dir("kube_local_logs");
  std::string config = dir.path() + "/config";
  std::ofstream(config) << "apiVersion: v1\nkind: Config\n"
                        << "clusters:\n- name: local\n  cluster:\n    server: "
                        << env_.server()->url() << "\n"
                        << "contexts:\n- name: local\n  context: {cluster: local, user: me, "
                           "namespace: default}\n"
                        << "users:\n- name: me\n  user: {}\ncurrent-context: local\n";
  std::vector<std::string> env = {"KUBECONFIG=" + config, "HOME=" + dir.path()};
  {
    Subprocess p;
    ASSERT_TRUE(p.Spawn({kubectl, "logs", "web"}, env));
    std::string out = p.ReadAll(std::chrono::seconds(60));
    int status = p.Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
    EXPECT_EQ(out, "hello from default/web/main\nsecond line\n");
  }
  {
    Subprocess p;
    ASSERT_TRUE(p.Spawn({kubectl, "logs", "-f", "two", "-c", "side"}, env));
    for (int i = 0; i < 3; ++i) {  // lines keep arriving while the stream is open
      auto line = p.ReadLine(std::chrono::seconds(60));
      ASSERT_TRUE(line.has_value());
      EXPECT_EQ(*line, "follow default/two/side " + std::to_string(i));
    }
    p.Kill(SIGTERM);
    p.Wait();
  }
}

}  // namespace
}  // namespace npushare::kube
