// The npushare-scheduler binary end to end against an in-process kube-local: HAMi-style flags,
// HTTPS on --http_bind with a `npushare certs`-style pair, /healthz and /readyz, the webhook
// mutating a pod, /metrics on --metrics-bind-address, leader election on a Lease, and a clean
// SIGTERM (exit 0, Lease released).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "cli/dev_pki.h"
#include "common/atomic_file.h"
#include "integration/kube/test_server.h"
#include "kube/resource.h"
#include "support/temp_dir.h"
#include "unit/sim/run_process.h"

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;

template <typename F>
bool WaitFor(F condition, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// WaitExit: the child's exit status, or -1 if it is still running after `limit`.
int WaitExit(pid_t pid, std::chrono::seconds limit) {
  int status = 0;
  int result = -1;
  WaitFor(
      [&] {
        if (waitpid(pid, &status, WNOHANG) == pid) {
          result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          return true;
        }
        return false;
      },
      limit);
  return result;
}

TEST(SchedulerBinaryTest, ServesLeadsAndStopsCleanly) {
  testing::ScopedTempDir dir("npushare-sched-bin");
  ASSERT_FALSE(dir.path().empty());
  kube::testing::ServerAndClient env;
  const std::string kubeconfig = dir.path() + "/kubeconfig";
  ASSERT_TRUE(WriteFileAtomically(kubeconfig,
                                  "apiVersion: v1\nkind: Config\n"
                                  "clusters: [{name: c, cluster: {server: \"" +
                                      env.server()->url() +
                                      "\"}}]\n"
                                      "users: [{name: u, user: {}}]\n"
                                      "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                                      "current-context: x\n",
                                  0600)
                  .ok());
  auto pki = cli::MakeDevelopmentPki({"localhost", "127.0.0.1"}, 1);
  ASSERT_TRUE(pki.ok());
  ASSERT_TRUE(WriteFileAtomically(dir.path() + "/ca.crt", pki->ca_cert_pem, 0644).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.path() + "/tls.crt", pki->cert_pem, 0644).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.path() + "/tls.key", pki->key_pem, 0600).ok());

  sim::testing::Child child = sim::testing::Spawn({
      std::string(NPUSHARE_BIN_DIR) + "/npushare-scheduler",
      "--kubeconfig=" + kubeconfig,
      "--http_bind=127.0.0.1:0",
      "--cert_file=" + dir.path() + "/tls.crt",
      "--key_file=" + dir.path() + "/tls.key",
      "--metrics-bind-address=127.0.0.1:0",
      "--scheduler-name=hami-scheduler",
      "--device-config-file=" + std::string(NPUSHARE_SOURCE_DIR) +
          "/deploy/config/device-config.yaml",
      "--node-scheduler-policy=binpack",
      "--gpu-scheduler-policy=spread",
      "--node-lock-timeout=5m",
      "--leader-elect",
      "--leader-elect-resource-name=npushare-scheduler",
      "--leader-elect-resource-namespace=kube-system",
      "--leader-elect-identity=replica-1",
      "--leader-elect-retry-period=1s",
      "-v=4",
  });
  ASSERT_GT(child.pid, 0);
  // The log line "serving HTTPS on ... (port N), metrics on ... (port M)" gives the ports.
  int port = 0;
  int metrics_port = 0;
  const std::regex ports(R"(serving HTTPS on \S+ \(port (\d+)\), metrics on \S+ \(port (\d+)\))");
  for (int i = 0; i < 50 && port == 0; ++i) {
    const std::string line = sim::testing::ReadLine(child.out_fd);
    if (line.empty()) {
      break;
    }
    std::smatch m;
    if (std::regex_search(line, m, ports)) {
      port = std::stoi(m[1]);
      metrics_port = std::stoi(m[2]);
    }
  }
  ASSERT_GT(port, 0) << "no serving line in the log";

  httplib::SSLClient https("localhost", port);
  https.set_ca_cert_path((dir.path() + "/ca.crt").c_str());
  https.enable_server_certificate_verification(true);
  EXPECT_TRUE(WaitFor([&] {
    auto r = https.Get("/readyz");
    return r && r->status == 200;
  }));
  auto health = https.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  // Webhook: a 910B3 pod asking 10000 MB is rounded to a template and given our scheduler.
  const json review = json::parse(R"({"apiVersion":"admission.k8s.io/v1beta1",
      "kind":"AdmissionReview",
      "request":{"uid":"u-1","operation":"CREATE","namespace":"default",
        "kind":{"group":"","version":"v1","kind":"Pod"},
        "object":{"metadata":{"name":"p"},"spec":{"schedulerName":"default-scheduler",
          "containers":[{"name":"c","resources":{"limits":{
            "huawei.com/Ascend910B3":"1","huawei.com/Ascend910B3-memory":"10000"}}}]}}}})");
  auto admitted = https.Post("/webhook?timeout=10s", review.dump(), "application/json");
  ASSERT_TRUE(admitted);
  EXPECT_EQ(admitted->status, 200);
  json answer = json::parse(admitted->body);
  EXPECT_EQ(answer["apiVersion"], "admission.k8s.io/v1beta1");
  EXPECT_EQ(answer["response"]["uid"], "u-1");
  EXPECT_EQ(answer["response"]["allowed"], true);
  EXPECT_EQ(answer["response"]["patchType"], "JSONPatch");

  // Filter over HTTPS for a node the caches do not know: a well-formed result.
  auto filtered = https.Post(
      "/filter",
      R"({"Pod":{"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c",
          "resources":{"limits":{"huawei.com/Ascend910B3":"1"}}}]}},"NodeNames":["ghost"]})",
      "application/json");
  ASSERT_TRUE(filtered);
  EXPECT_EQ(filtered->status, 200);
  EXPECT_TRUE(json::parse(filtered->body).contains("FailedNodes"));

  // Leader election: the Lease names this replica.
  EXPECT_TRUE(WaitFor([&] {
    auto lease = env.client().Get(kube::kLeases, "kube-system", "npushare-scheduler");
    return lease.ok() && (*lease)["spec"].value("holderIdentity", "") == "replica-1";
  }));

  httplib::Client metrics("127.0.0.1", metrics_port);
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_EQ(scraped->status, 200);
  EXPECT_NE(scraped->body.find(
                R"(npushare_scheduler_http_requests_total{route="/webhook",code="200"} 1)"),
            std::string::npos)
      << scraped->body.substr(0, 2000);

  ASSERT_EQ(kill(child.pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(child.pid, std::chrono::seconds(30)), 0);
  auto lease = env.client().Get(kube::kLeases, "kube-system", "npushare-scheduler");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"].value("holderIdentity", ""), "");  // released on the way out
  close(child.in_fd);
  close(child.out_fd);
}

TEST(SchedulerBinaryTest, BadFlagsExit2AndHelpExits0) {
  for (const auto& [args, code] : std::vector<std::pair<std::vector<std::string>, int>>{
           {{"--node-scheduler-policy=random"}, 2}, {{"--help"}, 0}}) {
    std::vector<std::string> argv = {std::string(NPUSHARE_BIN_DIR) + "/npushare-scheduler"};
    argv.insert(argv.end(), args.begin(), args.end());
    sim::testing::Child child = sim::testing::Spawn(argv);
    ASSERT_GT(child.pid, 0);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = read(child.out_fd, buf, sizeof buf)) > 0;) {
      out.append(buf, static_cast<size_t>(n));
    }
    EXPECT_EQ(WaitExit(child.pid, std::chrono::seconds(10)), code) << args[0];
    if (code == 0) {
      EXPECT_NE(out.find("--http_bind"), std::string::npos);
      EXPECT_NE(out.find("--leader-elect"), std::string::npos);
    }
    close(child.in_fd);
    close(child.out_fd);
  }
}

TEST(SchedulerBinaryTest, MissingKubeconfigExits1) {
  sim::testing::Child child =
      sim::testing::Spawn({std::string(NPUSHARE_BIN_DIR) + "/npushare-scheduler",
                           "--kubeconfig=/nonexistent/kubeconfig", "--http_bind=127.0.0.1:0",
                           "--metrics-bind-address=0"});
  ASSERT_GT(child.pid, 0);
  EXPECT_EQ(WaitExit(child.pid, std::chrono::seconds(20)), 1);
  close(child.in_fd);
  close(child.out_fd);
}

}  // namespace
}  // namespace npushare::scheduler::http
