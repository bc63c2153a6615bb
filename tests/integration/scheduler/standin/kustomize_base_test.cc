// deploy/kustomize/base: rendered by `kubectl kustomize`, internally consistent (flags,
// scheduler name, ports, resource names, the device-config copy), applied to kube-local with
// kubectl (server dry run, then for real), and driving the real clients: the stand-in
// kube-scheduler runs on the very KubeSchedulerConfiguration shipped there, and kubectl's pod
// goes kube-local -> the registered webhook (via its service) -> stand-in -> extender -> bind.
// Skips (with the reason) when kubectl is not on PATH.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/yaml_json.h"
#include "integration/kube/fake_webhook.h"
#include "integration/kube/subprocess.h"
#include "integration/kube/test_pki.h"
#include "integration/kube/test_server.h"
#include "integration/scheduler/standin/fake_extender.h"
#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"
#include "sim/scheduler/kube_scheduler.h"
#include "support/temp_dir.h"

namespace npushare::kube_scheduler_sim {
namespace {

using kube::testing::Subprocess;
using nlohmann::json;
using testing::FakeExtender;

constexpr auto kCommandTimeout = std::chrono::seconds(60);
constexpr kube::ResourceType kDeployments{"apps", "v1", "deployments", "Deployment", true};
constexpr kube::ResourceType kServices{"", "v1", "services", "Service", true};
constexpr kube::ResourceType kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles",
                                           "ClusterRole", false};
constexpr kube::ResourceType kMwc{"admissionregistration.k8s.io", "v1",
                                  "mutatingwebhookconfigurations", "MutatingWebhookConfiguration",
                                  false};
constexpr kube::ResourceType kRuntimeClasses{"node.k8s.io", "v1", "runtimeclasses", "RuntimeClass",
                                             false};

// ConfiguredOtherThanPdb: the lines of kubectl apply's output that report a change, except
// the PodDisruptionBudget's (see the caller).
std::string ConfiguredOtherThanPdb(const std::string& out) {
  std::istringstream in(out);
  std::string line, changed;
  while (std::getline(in, line)) {
    if (line.find("configured") != std::string::npos &&
        line.find("poddisruptionbudget") == std::string::npos) {
      changed += line + "\n";
    }
  }
  return changed;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WaitUntil(const std::function<bool()>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition
  }
  return pred();
}

class KustomizeBaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubectl_ = kube::testing::FindOnPath("kubectl");
    if (kubectl_.empty()) {
      GTEST_SKIP() << "kubectl not found on PATH (it has kustomize built in)";
    }
    ASSERT_FALSE(dir_.path().empty());
    auto [code, out] =
        Run({"kustomize", std::string(NPUSHARE_SOURCE_DIR) + "/deploy/kustomize/base"});
    ASSERT_EQ(code, 0) << out;
    rendered_ = out;
    auto docs = ParseYamlDocuments(rendered_);
    ASSERT_TRUE(docs.ok()) << docs.status().ToString();
    docs_ = *docs;
  }

  // Run: kubectl with args (and the kubeconfig once WriteKubeconfig ran); {exit code, output}.
  std::pair<int, std::string> Run(std::vector<std::string> args) {
    args.insert(args.begin(), kubectl_);
    Subprocess p;
    std::vector<std::string> env = {"HOME=" + dir_.path()};
    if (!kubeconfig_.empty()) {
      env.push_back("KUBECONFIG=" + kubeconfig_);
    }
    if (!p.Spawn(args, env)) {
      return {-1, "spawn failed"};
    }
    std::string out = p.ReadAll(kCommandTimeout);
    p.Kill(SIGKILL);
    int status = p.Wait();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }
  void WriteKubeconfig(const std::string& server) {
    kubeconfig_ = dir_.path() + "/kubeconfig";
    std::ofstream(kubeconfig_) << "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n"
                               << "  cluster:\n    server: " << server << "\n"
                               << "contexts:\n- name: local\n  context: {cluster: local, user: me, "
                                  "namespace: default}\nusers:\n- name: me\n  user: {}\n"
                               << "current-context: local\n";
  }
  std::string WriteRendered() {
    std::string path = dir_.path() + "/rendered.yaml";
    std::ofstream(path) << rendered_;
    return path;
  }
  const json& Find(const std::string& kind, const std::string& name) {
    static const json kNull;
    for (const auto& d : docs_) {
      if (d.value("kind", "") == kind && d["metadata"].value("name", "") == name) {
        return d;
      }
    }
    ADD_FAILURE() << kind << "/" << name << " not rendered";
    return kNull;
  }
  json Container(const std::string& name) {
    for (const auto& c :
         Find("Deployment", "npushare-scheduler")["spec"]["template"]["spec"]["containers"]) {
      if (c["name"] == name) {
        return c;
      }
    }
    ADD_FAILURE() << "no container " << name;
    return json();
  }
  // Flag: the value of --name=value in the npushare-scheduler container's command.
  std::string Flag(const std::string& name) {
    const json container = Container("npushare-scheduler");
    for (const auto& arg : container["command"]) {
      std::string a = arg.get<std::string>();
      if (a.rfind("--" + name + "=", 0) == 0) {
        return a.substr(name.size() + 3);
      }
    }
    return "";
  }
  std::string SchedulerConfigText() {
    return Find("ConfigMap", "npushare-scheduler-config")["data"]["config.yaml"].get<std::string>();
  }

  npushare::testing::ScopedTempDir dir_{"kustomize_base"};
  std::string kubectl_;
  std::string kubeconfig_;
  std::string rendered_;
  std::vector<json> docs_;
};

TEST_F(KustomizeBaseTest, RendersEveryPart) {
  std::multiset<std::string> kinds;
  for (const auto& d : docs_) {
    kinds.insert(d.value("kind", ""));
    if (d["metadata"].contains("namespace")) {
      EXPECT_EQ(d["metadata"]["namespace"], "kube-system") << d.dump();
    }
  }
  for (const char* kind :
       {"Deployment", "Service", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
        "RoleBinding", "MutatingWebhookConfiguration", "ConfigMap", "RuntimeClass"}) {
    EXPECT_GE(kinds.count(kind), 1u) << kind;
  }
  EXPECT_EQ(kinds.count("ConfigMap"), 3u);  // + hami-device-node-config
  EXPECT_EQ(Find("RuntimeClass", "ascend")["handler"], "ascend");
  auto containers =
      Find("Deployment", "npushare-scheduler")["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
}

TEST_F(KustomizeBaseTest, DeviceConfigIsTheShippedOne) {
  std::string base =
      ReadFile(std::string(NPUSHARE_SOURCE_DIR) + "/deploy/kustomize/base/device-config.yaml");
  EXPECT_FALSE(base.empty());
  EXPECT_EQ(base, ReadFile(std::string(NPUSHARE_SOURCE_DIR) + "/deploy/config/device-config.yaml"));
  EXPECT_TRUE(Find("ConfigMap", "hami-scheduler-device")["data"].contains("device-config.yaml"));
}

TEST_F(KustomizeBaseTest, PartsAgreeWithEachOther) {
  auto cfg = ParseSchedulerConfig(SchedulerConfigText(), "");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  // kube-scheduler's profile is the name the extender/webhook is told.
  ASSERT_EQ(cfg->scheduler_names.size(), 1u);
  EXPECT_EQ(cfg->scheduler_names[0], Flag("scheduler-name"));
  // The extender is the sidecar's --http_bind port, over TLS (certificate files given).
  ASSERT_EQ(cfg->extenders.size(), 1u);
  const ExtenderConfig& x = cfg->extenders[0];
  std::string bind = Flag("http_bind");
  EXPECT_EQ(x.url_prefix, "https://127.0.0.1:" + bind.substr(bind.rfind(':') + 1));
  EXPECT_FALSE(Flag("cert_file").empty());
  EXPECT_FALSE(Flag("key_file").empty());
  EXPECT_TRUE(x.node_cache_capable);  // HAMi's filter writes annotations only in this mode
  EXPECT_EQ(x.filter_verb, "filter");
  EXPECT_EQ(x.bind_verb, "bind");
  // Managed resources: exactly every chip's three resource names of the device config.
  const json& device_cm = Find("ConfigMap", "hami-scheduler-device");
  auto device = ParseYamlDocuments(device_cm["data"]["device-config.yaml"].get<std::string>());
  ASSERT_TRUE(device.ok());
  std::set<std::string> names;
  for (const auto& chip : (*device)[0]["vnpus"]["configs"]) {
    for (const char* k : {"resourceName", "resourceMemoryName", "resourceCoreName"}) {
      names.insert(chip[k].get<std::string>());
    }
  }
  EXPECT_EQ(cfg->IgnoredResources(), names);
  // The device config file flag points into the mounted ConfigMap directory.
  std::string device_file = Flag("device-config-file");
  bool mounted = false;
  const json container = Container("npushare-scheduler");
  for (const auto& m : container["volumeMounts"]) {
    mounted = mounted || (m["name"] == "device-config" &&
                          device_file == m["mountPath"].get<std::string>() + "/device-config.yaml");
  }
  EXPECT_TRUE(mounted) << device_file;
  // The webhook calls the Service in front of that port, in both review versions.
  const json& hook = Find("MutatingWebhookConfiguration", "npushare-webhook")["webhooks"][0];
  EXPECT_EQ(hook["clientConfig"]["service"]["name"],
            Find("Service", "npushare-scheduler")["metadata"]["name"]);
  EXPECT_EQ(hook["admissionReviewVersions"], json({"v1", "v1beta1"}));
  EXPECT_EQ(hook["failurePolicy"], "Ignore");
  // Only kube-scheduler elects; npushare-scheduler follows its Lease by reading the very
  // config file kube-scheduler reads (the scheduler-config volume in both containers), so the
  // Lease is named in one place (scheduler/service/lease_follower.h).
  auto cfg_doc = ParseYamlDocuments(SchedulerConfigText());
  ASSERT_TRUE(cfg_doc.ok());
  EXPECT_EQ((*cfg_doc)[0]["leaderElection"]["leaderElect"], true);
  EXPECT_TRUE(Flag("leader-elect-resource-name").empty());
  EXPECT_TRUE(Flag("leader-elect-follow").empty());
  const std::string follow = Flag("leader-elect-follow-config");
  std::string kube_scheduler_config;
  const json kube_scheduler = Container("kube-scheduler");
  for (const auto& arg : kube_scheduler["command"]) {
    if (arg.get<std::string>().rfind("--config=", 0) == 0) {
      kube_scheduler_config = arg.get<std::string>().substr(9);
    }
  }
  EXPECT_FALSE(follow.empty());
  EXPECT_EQ(follow, kube_scheduler_config);
  auto mount_of = [&](const std::string& name) {
    const json c = Container(name);
    for (const auto& m : c["volumeMounts"]) {
      if (m["name"] == "scheduler-config") {
        return m["mountPath"].get<std::string>();
      }
    }
    return std::string("<not mounted>");
  };
  EXPECT_EQ(mount_of("npushare-scheduler"), mount_of("kube-scheduler"));
  EXPECT_EQ(follow.rfind(mount_of("npushare-scheduler") + "/", 0), 0u) << follow;
}

TEST_F(KustomizeBaseTest, AppliesToKubeLocalDryRunThenForReal) {
  kube::testing::ServerAndClient env;
  WriteKubeconfig(env.server()->url());
  std::string file = WriteRendered();
  auto [code, out] = Run({"apply", "--validate=false", "--dry-run=server", "-f", file});
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(kube::IsNotFound(
      env.client().Get(kDeployments, "kube-system", "npushare-scheduler").status()));
  std::tie(code, out) = Run({"apply", "--validate=false", "-f", file});
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(env.client().Get(kDeployments, "kube-system", "npushare-scheduler").ok());
  EXPECT_TRUE(env.client().Get(kServices, "kube-system", "npushare-scheduler").ok());
  EXPECT_TRUE(env.client().Get(kClusterRoles, "", "npushare-scheduler").ok());
  EXPECT_TRUE(env.client().Get(kMwc, "", "npushare-webhook").ok());
  EXPECT_TRUE(env.client().Get(kRuntimeClasses, "", "ascend").ok());
  auto cm = env.client().Get(kube::kConfigMaps, "kube-system", "npushare-scheduler-config");
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ((*cm)["data"]["config.yaml"], SchedulerConfigText());
  // Applying again changes nothing.
  std::tie(code, out) = Run({"apply", "--validate=false", "-f", file});
  ASSERT_EQ(code, 0) << out;
  // Except the PodDisruptionBudget: its selector has patchStrategy "replace", so kubectl
  // always sends it and reports "configured", whatever the server.
  EXPECT_EQ(ConfiguredOtherThanPdb(out), "") << out;
}

// The whole chain with real clients: kubectl apply of a pod -> kube-local -> the webhook the
// base registers (its Service dialled through kube-local's endpoint map, TLS checked against
// the caBundle) -> the stand-in kube-scheduler on the shipped configuration -> the extender's
// filter and bind (fakes standing in for npushare-scheduler).
TEST_F(KustomizeBaseTest, ShippedConfigDrivesTheStandInFromKubectlToBind) {
  auto pki = kube::testing::MakeTestPki(dir_.path(), "svc", {"npushare-scheduler.kube-system.svc"});
  ASSERT_TRUE(pki.ok()) << pki.status().ToString();
  // The webhook: sets the scheduler name, as npushare-scheduler's webhook does for NPU pods.
  kube::testing::FakeWebhook webhook(*pki, [](const json& review) {
    return kube::testing::AllowWithPatch(
        review,
        json::array(
            {{{"op", "replace"}, {"path", "/spec/schedulerName"}, {"value", "hami-scheduler"}}}));
  });
  kube_local::LocalApiServerOptions options;
  options.webhooks.service_endpoints["kube-system/npushare-scheduler:443"] =
      "127.0.0.1:" + std::to_string(webhook.port());
  kube::testing::ServerAndClient env(options);
  WriteKubeconfig(env.server()->url());
  auto [code, out] = Run({"apply", "--validate=false", "-f", WriteRendered()});
  ASSERT_EQ(code, 0) << out;
  // The CA a real install injects (cert-manager) or patches in.
  auto patched = env.client().Patch(
      kMwc, "", "npushare-webhook", kube::PatchType::kJson,
      json::array({{{"op", "add"},
                    {"path", "/webhooks/0/clientConfig/caBundle"},
                    {"value", kube::testing::Base64EncodeForTest(
                                  kube::testing::ReadFileForTest(pki->ca_cert))}}}));
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();

  // The extender, over HTTPS like the shipped urlPrefix (enableHTTPS + insecure).
  FakeExtender extender(env.client(), pki->server_cert, pki->server_key);
  auto cfg = ParseSchedulerConfig(SchedulerConfigText(), "");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(cfg->extenders.size(), 1u);
  ASSERT_EQ(cfg->extenders[0].url_prefix.rfind("https://", 0), 0u);
  cfg->extenders[0].url_prefix = "https://127.0.0.1:" + std::to_string(extender.port());
  SchedulerOptions so;
  so.config = std::move(*cfg);
  KubeScheduler scheduler(env.client(), std::move(so));
  ASSERT_TRUE(scheduler.Start(std::chrono::seconds(20)).ok());
  json node = {{"metadata", {{"name", "ascend-0"}}},
               {"status", {{"allocatable", {{"cpu", "16"}, {"memory", "64Gi"}, {"pods", "110"}}}}}};
  ASSERT_TRUE(env.client().Create(kube::kNodes, "", node).ok());

  std::string pod_file = dir_.path() + "/pod.yaml";
  std::ofstream(pod_file) << "apiVersion: v1\nkind: Pod\nmetadata:\n  name: slice\nspec:\n"
                             "  containers:\n  - name: main\n    image: busybox\n"
                             "    resources:\n      limits:\n"
                             "        huawei.com/Ascend910B3: 1\n"
                             "        huawei.com/Ascend910B3-memory: 4096\n";
  std::tie(code, out) = Run({"apply", "--validate=false", "-f", pod_file});
  ASSERT_EQ(code, 0) << out;
  ASSERT_TRUE(WaitUntil([&] {
    auto pod = env.client().Get(kube::kPods, "default", "slice");
    return pod.ok() && kube::StringField((*pod)["spec"], "nodeName") == "ascend-0";
  }));
  auto calls = webhook.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].target, "/webhook?timeout=10s");
  EXPECT_EQ(calls[0].review["apiVersion"], "admission.k8s.io/v1");
  auto filters = extender.calls("filter");
  ASSERT_EQ(filters.size(), 1u);
  EXPECT_EQ(filters[0].body["NodeNames"], json({"ascend-0"}));
  EXPECT_EQ(extender.calls("bind").size(), 1u);
  scheduler.Stop();
}

// The kube-scheduler-sim binary reads the shipped configuration file as kube-scheduler would
// (only the extender's address differs: the fake's port instead of the sidecar's 443).
TEST_F(KustomizeBaseTest, BinaryRunsOnTheShippedConfigFile) {
  kube::testing::ServerAndClient env;
  WriteKubeconfig(env.server()->url());
  auto pki = kube::testing::MakeTestPki(dir_.path(), "ext");
  ASSERT_TRUE(pki.ok());
  FakeExtender extender(env.client(), pki->server_cert, pki->server_key);
  std::string text = SchedulerConfigText();
  const std::string shipped = "https://127.0.0.1:443";
  auto at = text.find(shipped);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, shipped.size(), "https://127.0.0.1:" + std::to_string(extender.port()));
  std::string config = dir_.path() + "/scheduler-config.yaml";
  std::ofstream(config) << text;
  json node = {{"metadata", {{"name", "ascend-0"}}},
               {"status", {{"allocatable", {{"cpu", "16"}, {"memory", "64Gi"}}}}}};
  ASSERT_TRUE(env.client().Create(kube::kNodes, "", node).ok());

  Subprocess sim;
  ASSERT_TRUE(sim.Spawn({std::string(NPUSHARE_BIN_DIR) + "/kube-scheduler-sim", "--config", config,
                         "--kubeconfig", kubeconfig_, "--leader-elect=false"}));
  auto line = sim.ReadLine(kCommandTimeout);
  ASSERT_TRUE(line.has_value());
  ASSERT_EQ(*line, "ready");
  json pod = {{"metadata", {{"name", "whole"}}},
              {"spec",
               {{"schedulerName", "hami-scheduler"},
                {"containers",
                 {{{"name", "main"},
                   {"image", "busybox"},
                   {"resources", {{"limits", {{"huawei.com/Ascend310P", "1"}}}}}}}}}}};
  ASSERT_TRUE(env.client().Create(kube::kPods, "default", pod).ok());
  EXPECT_TRUE(WaitUntil([&] {
    auto p = env.client().Get(kube::kPods, "default", "whole");
    return p.ok() && kube::StringField((*p)["spec"], "nodeName") == "ascend-0";
  }));
  EXPECT_EQ(extender.calls("bind").size(), 1u);
  sim.Kill(SIGTERM);
  int status = sim.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace npushare::kube_scheduler_sim
