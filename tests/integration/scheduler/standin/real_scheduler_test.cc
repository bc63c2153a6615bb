// The real clients and the real npushare-scheduler binary together: the kustomize base applied
// to kube-local with kubectl, its webhook pointed at a running npushare-scheduler, the stand-in
// kube-scheduler on the shipped KubeSchedulerConfiguration calling that binary's /filter and
// /bind. A pod applied with kubectl gets its scheduler name from the webhook and is bound with
// HAMi's allocation annotations. Skips (with the reason) without kubectl or without the
// npushare-scheduler binary (it is built by its own target).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/yaml_json.h"
#include "integration/kube/subprocess.h"
#include "integration/kube/test_pki.h"
#include "integration/kube/test_server.h"
#include "kube/objects.h"
#include "kube/resource.h"
#include "sim/kube/http_client.h"
#include "sim/scheduler/kube_scheduler.h"
#include "support/temp_dir.h"

namespace npushare::kube_scheduler_sim {
namespace {

using kube::testing::Subprocess;
using nlohmann::json;

constexpr auto kCommandTimeout = std::chrono::seconds(60);
constexpr kube::ResourceType kMwc{"admissionregistration.k8s.io", "v1",
                                  "mutatingwebhookconfigurations", "MutatingWebhookConfiguration",
                                  false};

bool WaitUntil(const std::function<bool()>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition
  }
  return pred();
}

// FreePort: a port that was free a moment ago (the binary takes an explicit --http_bind).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::pair<int, std::string> Kubectl(const std::string& kubectl, std::vector<std::string> args,
                                    const std::vector<std::string>& env) {
  args.insert(args.begin(), kubectl);
  Subprocess p;
  if (!p.Spawn(args, env)) {
    return {-1, "spawn failed"};
  }
  std::string out = p.ReadAll(kCommandTimeout);
  p.Kill(SIGKILL);
  int status = p.Wait();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(RealSchedulerTest, KubectlPodGoesThroughTheRealWebhookFilterAndBind) {
  std::string kubectl = kube::testing::FindOnPath("kubectl");
  if (kubectl.empty()) {
    GTEST_SKIP() << "kubectl not found on PATH";
  }
  std::string binary = std::string(NPUSHARE_BIN_DIR) + "/npushare-scheduler";
  if (!std::filesystem::exists(binary)) {
    GTEST_SKIP() << binary << " is not built";
  }
  npushare::testing::ScopedTempDir dir("real_scheduler");
  auto pki = kube::testing::MakeTestPki(dir.path(), "sched");
  ASSERT_TRUE(pki.ok()) << pki.status().ToString();
  kube::testing::ServerAndClient env;
  kube::KubeClient& client = env.client();
  std::string kubeconfig = dir.path() + "/kubeconfig";
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\nclusters:\n- name: l\n  cluster:\n"
                            << "    server: " << env.server()->url() << "\ncontexts:\n- name: l\n"
                            << "  context: {cluster: l, user: u, namespace: default}\n"
                            << "users:\n- name: u\n  user: {}\ncurrent-context: l\n";
  std::vector<std::string> kenv = {"KUBECONFIG=" + kubeconfig, "HOME=" + dir.path()};

  // The base, as shipped.
  auto [code, rendered] = Kubectl(
      kubectl, {"kustomize", std::string(NPUSHARE_SOURCE_DIR) + "/deploy/kustomize/base"}, kenv);
  ASSERT_EQ(code, 0) << rendered;
  std::ofstream(dir.path() + "/rendered.yaml") << rendered;
  std::string out;
  std::tie(code, out) =
      Kubectl(kubectl, {"apply", "--validate=false", "-f", dir.path() + "/rendered.yaml"}, kenv);
  ASSERT_EQ(code, 0) << out;

  // npushare-scheduler as the Deployment runs it, on a local port.
  int port = FreePort();
  ASSERT_GT(port, 0);
  std::string base_url = "https://127.0.0.1:" + std::to_string(port);
  Subprocess scheduler;
  ASSERT_TRUE(scheduler.Spawn({binary, "--http_bind=127.0.0.1:" + std::to_string(port),
                               "--cert_file=" + pki->server_cert, "--key_file=" + pki->server_key,
                               "--scheduler-name=hami-scheduler",
                               "--device-config-file=" + std::string(NPUSHARE_SOURCE_DIR) +
                                   "/deploy/config/device-config.yaml",
                               "--kubeconfig=" + kubeconfig, "--leader-elect=false",
                               "--metrics-bind-address=127.0.0.1:" + std::to_string(FreePort())}));
  auto http = kube_local::NewCurlOutboundHttp();
  ASSERT_TRUE(WaitUntil([&] {
    kube_local::OutboundRequest r;
    r.method = "GET";
    r.url = base_url + "/readyz";
    r.insecure_skip_verify = true;
    r.timeout = std::chrono::seconds(2);
    auto resp = http->Send(r);
    return resp.ok() && resp->status_code == 200;
  })) << scheduler.ReadAll(std::chrono::seconds(1));

  // The registered webhook now points at it (a url instead of the Service: kube-local has no
  // cluster network), with its CA.
  auto patched = client.Patch(
      kMwc, "", "npushare-webhook", kube::PatchType::kJson,
      json::array({{{"op", "replace"},
                    {"path", "/webhooks/0/clientConfig"},
                    {"value",
                     {{"url", base_url + "/webhook"},
                      {"caBundle", kube::testing::Base64EncodeForTest(
                                       kube::testing::ReadFileForTest(pki->ca_cert))}}}}}));
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();

  // A 910B3 node as a device plugin registers it (hami-protocol.md §2.1-2.2).
  char stamp[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::strftime(stamp, sizeof(stamp), "Reported_%Y.%m.%d %H:%M:%S", &tm);
  json devices = json::array();
  for (int i = 0; i < 2; ++i) {
    devices.push_back({{"id", "NPU-" + std::to_string(i)},
                       {"index", i},
                       {"count", 4},
                       {"devmem", 65536},
                       {"devcore", 20},
                       {"type", "Ascend910B3"},
                       {"health", true},
                       {"custominfo", {{"NetworkID", 0}}}});
  }
  json node = {
      {"metadata",
       {{"name", "ascend-0"},
        {"annotations",
         {{"hami.io/node-register-Ascend910B3", devices.dump()},
          {"hami.io/node-handshake-Ascend910B3", stamp}}}}},
      {"status",
       {{"allocatable",
         {{"cpu", "32"}, {"memory", "128Gi"}, {"pods", "110"}, {"huawei.com/Ascend910B3", "8"}}}}}};
  ASSERT_TRUE(client.Create(kube::kNodes, "", node).ok());

  // The stand-in kube-scheduler on the shipped configuration, extender at the binary's port.
  std::string config_text;
  auto docs = ParseYamlDocuments(rendered);
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  for (const auto& doc : *docs) {
    if (doc.value("kind", "") == "ConfigMap" &&
        doc["metadata"].value("name", "") == "npushare-scheduler-config") {
      config_text = doc["data"]["config.yaml"].get<std::string>();
    }
  }
  auto cfg = ParseSchedulerConfig(config_text, "");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  cfg->extenders[0].url_prefix = base_url;
  SchedulerOptions so;
  so.config = std::move(*cfg);
  KubeScheduler standin(client, std::move(so));
  ASSERT_TRUE(standin.Start(std::chrono::seconds(20)).ok());

  std::ofstream(dir.path() + "/pod.yaml")
      << "apiVersion: v1\nkind: Pod\nmetadata:\n  name: slice\nspec:\n  containers:\n"
      << "  - name: main\n    image: busybox\n    resources:\n      limits:\n"
      << "        huawei.com/Ascend910B3: 1\n        huawei.com/Ascend910B3-memory: 4096\n";
  std::tie(code, out) =
      Kubectl(kubectl, {"apply", "--validate=false", "-f", dir.path() + "/pod.yaml"}, kenv);
  ASSERT_EQ(code, 0) << out;
  json pod;
  EXPECT_TRUE(WaitUntil([&] {
    auto p = client.Get(kube::kPods, "default", "slice");
    if (p.ok()) {
      pod = *p;
    }
    return p.ok() && kube::StringField((*p)["spec"], "nodeName") == "ascend-0";
  })) << pod.dump();
  EXPECT_EQ(pod["spec"]["schedulerName"], "hami-scheduler");  // set by the real webhook
  const json& annotations = pod["metadata"]["annotations"];
  EXPECT_EQ(kube::StringField(annotations, "hami.io/vgpu-node"), "ascend-0");
  EXPECT_FALSE(kube::StringField(annotations, "hami.io/Ascend910B3-devices-to-allocate").empty());
  EXPECT_GE(standin.Stats().extender_bind_calls, 1u);
  standin.Stop();
  scheduler.Kill(SIGTERM);
  scheduler.Wait();
}

}  // namespace
}  // namespace npushare::kube_scheduler_sim
