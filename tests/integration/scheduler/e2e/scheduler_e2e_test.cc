// End to end on kube-local with kubectl, the real npushare-scheduler binary and the stand-in
// kube-scheduler (sim/scheduler): pods are applied with kubectl, kube-local calls the
// scheduler's mutating webhook, the stand-in calls /filter and /bind over nodes whose
// annotations are in our device plugin's format (examples/nodes-kubectl.yaml: a hard and a
// soft 910B3 node and a 310P node), and a stand-in device plugin plays the plugin's part after
// a bind (bind-phase success, node lock released). Covered:
//   * the seed's example pods (examples/pods.yaml): the placeable ones are bound where the
//     dry run puts them on these nodes, the unplaceable ones get FailedScheduling events with
//     the right reasons, bad requests are refused by the webhook;
//   * the scheduler killed (SIGKILL) and restarted mid-stream: every placeable pod is bound,
//     no chip is overcommitted;
//   * a node lock left by a deleted pod is taken over (long before the lock timeout);
//   * two replicas contending for the Lease: only the leader binds; once the leader is
//     killed the other takes the Lease and binds.
// Skips (with the reason) without kubectl or without the npushare-scheduler binary.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "common/yaml_json.h"
#include "hami/node_lock.h"
#include "hami/node_register.h"
#include "hami/pod_devices.h"
#include "integration/kube/subprocess.h"
#include "integration/kube/test_pki.h"
#include "integration/kube/test_server.h"
#include "kube/node_lock_client.h"
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
constexpr kube::ResourceType kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};

bool WaitUntil(const std::function<bool()>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling a condition
  }
  return pred();
}

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

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// Replica: one npushare-scheduler process (its output goes to a log file, so a chatty
// process never blocks on a full pipe).
struct Replica {
  std::string identity;
  int port = 0;
  int metrics_port = 0;
  std::string log;
  std::unique_ptr<Subprocess> process;
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }
};

class SchedulerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubectl_ = kube::testing::FindOnPath("kubectl");
    if (kubectl_.empty()) {
      GTEST_SKIP() << "kubectl not found on PATH";
    }
    binary_ = std::string(NPUSHARE_BIN_DIR) + "/npushare-scheduler";
    if (!std::filesystem::exists(binary_)) {
      GTEST_SKIP() << binary_ << " is not built";
    }
    auto pki = kube::testing::MakeTestPki(dir_.path(), "sched");
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
    kubeconfig_ = dir_.path() + "/kubeconfig";
    std::ofstream(kubeconfig_) << "apiVersion: v1\nkind: Config\nclusters:\n- name: l\n  cluster:\n"
                               << "    server: " << env_.server()->url()
                               << "\ncontexts:\n- name: l\n"
                               << "  context: {cluster: l, user: u, namespace: default}\n"
                               << "users:\n- name: u\n  user: {}\ncurrent-context: l\n";
    kenv_ = {"KUBECONFIG=" + kubeconfig_, "HOME=" + dir_.path()};
  }

  void TearDown() override {
    StopPlugin();
    if (standin_) {
      standin_->Stop();
    }
    for (auto& r : replicas_) {
      Kill(r, SIGTERM);
    }
  }

  kube::KubeClient& client() { return env_.client(); }

  std::pair<int, std::string> Kubectl(std::vector<std::string> args) {
    args.insert(args.begin(), kubectl_);
    Subprocess p;
    if (!p.Spawn(args, kenv_)) {
      return {-1, "spawn failed"};
    }
    std::string out = p.ReadAll(kCommandTimeout);
    p.Kill(SIGKILL);
    int status = p.Wait();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  // StartReplica: spawns npushare-scheduler and waits for /readyz. `leader_elect`: contend
  // for the Lease (short durations so a takeover happens within seconds).
  Replica& StartReplica(const std::string& identity, bool leader_elect, int port = 0) {
    Replica& r = replicas_.emplace_back();
    r.identity = identity;
    r.port = port != 0 ? port : FreePort();
    r.metrics_port = FreePort();
    r.log = dir_.path() + "/" + identity + ".log";
    Launch(r, leader_elect);
    return r;
  }

  void Launch(Replica& r, bool leader_elect) {
    std::vector<std::string> argv = {
        binary_,
        "--http_bind=127.0.0.1:" + std::to_string(r.port),
        "--cert_file=" + pki_.server_cert,
        "--key_file=" + pki_.server_key,
        "--scheduler-name=hami-scheduler",
        "--device-config-file=" + std::string(NPUSHARE_SOURCE_DIR) +
            "/deploy/config/device-config.yaml",
        "--kubeconfig=" + kubeconfig_,
        "--metrics-bind-address=127.0.0.1:" + std::to_string(r.metrics_port)};
    if (leader_elect) {
      argv.insert(argv.end(),
                  {"--leader-elect", "--leader-elect-resource-namespace=default",
                   "--leader-elect-identity=" + r.identity, "--leader-elect-lease-duration=3s",
                   "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period=300ms"});
    } else {
      argv.push_back("--leader-elect=false");
    }
    std::string cmd = "exec";
    for (const auto& a : argv) {
      cmd += " " + Quote(a);
    }
    cmd += " >>" + Quote(r.log) + " 2>&1";
    r.process = std::make_unique<Subprocess>();
    ASSERT_TRUE(r.process->Spawn({"/bin/sh", "-c", cmd}));
    ASSERT_TRUE(WaitUntil([&] { return Get(r.url() + "/readyz").first == 200; }))
        << kube::testing::ReadFileForTest(r.log);
  }

  void Kill(Replica& r, int sig) {
    if (r.process) {
      r.process->Kill(sig);
      r.process->Wait();
      r.process.reset();
    }
  }

  std::pair<int, std::string> Get(const std::string& url) {
    kube_local::OutboundRequest req;
    req.method = "GET";
    req.url = url;
    req.insecure_skip_verify = true;
    req.timeout = std::chrono::seconds(2);
    auto resp = http_->Send(req);
    if (!resp.ok()) {
      return {0, resp.status().ToString()};
    }
    return {resp->status_code, resp->body};
  }

  bool IsLeader(const Replica& r) {
    auto [code, body] = Get("http://127.0.0.1:" + std::to_string(r.metrics_port) + "/metrics");
    return code == 200 && body.find("\nnpushare_scheduler_leader 1") != std::string::npos;
  }

  // RegisterWebhook: the scheduler's webhook, called by kube-local for every pod CREATE.
  void RegisterWebhook(const std::string& base_url) {
    json mwc = {{"apiVersion", "admissionregistration.k8s.io/v1"},
                {"kind", "MutatingWebhookConfiguration"},
                {"metadata", {{"name", "npushare-webhook"}}},
                {"webhooks",
                 {{{"name", "vnpu.npushare.io"},
                   {"clientConfig",
                    {{"url", base_url + "/webhook"},
                     {"caBundle", kube::testing::Base64EncodeForTest(
                                      kube::testing::ReadFileForTest(pki_.ca_cert))}}},
                   {"rules",
                    {{{"operations", {"CREATE"}},
                      {"apiGroups", {""}},
                      {"apiVersions", {"v1"}},
                      {"resources", {"pods"}}}}},
                   {"failurePolicy", "Fail"},
                   {"sideEffects", "None"},
                   {"admissionReviewVersions", {"v1"}},
                   {"timeoutSeconds", 10}}}}};
    auto r = client().Create(kMwc, "", mwc);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  void ApplyNodes() {
    auto [code, out] = Kubectl({"apply", "--validate=false", "-f",
                                std::string(NPUSHARE_SOURCE_DIR) + "/examples/nodes-kubectl.yaml"});
    ASSERT_EQ(code, 0) << out;
  }

  // StartStandIn: the stand-in kube-scheduler on the shipped KubeSchedulerConfiguration, its
  // extender pointed at `base_url`.
  void StartStandIn(const std::string& base_url) {
    std::string text = kube::testing::ReadFileForTest(
        std::string(NPUSHARE_SOURCE_DIR) + "/deploy/kustomize/base/scheduler-config.yaml");
    auto docs = ParseYamlDocuments(text);
    ASSERT_TRUE(docs.ok()) << docs.status().ToString();
    std::string config_text;
    for (const auto& doc : *docs) {
      if (doc.value("kind", "") == "ConfigMap" && doc.contains("data") &&
          doc["data"].contains("config.yaml")) {
        config_text = doc["data"]["config.yaml"].get<std::string>();
      }
    }
    auto cfg = ParseSchedulerConfig(config_text, "");
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    cfg->extenders[0].url_prefix = base_url;
    SchedulerOptions so;
    so.config = std::move(*cfg);
    so.unschedulable_flush = std::chrono::seconds(2);
    standin_ = std::make_unique<KubeScheduler>(client(), std::move(so));
    ASSERT_TRUE(standin_->Start(std::chrono::seconds(20)).ok());
  }

  // StartPlugin: what the device plugin does once kubelet allocates a bound pod's devices.
  void StartPlugin() {
    plugin_ = std::thread([this] {
      kube::NodeLockClient locks(client(), kube::RealClock());
      while (!plugin_done_.load()) {
        auto pods = client().ListAll(kube::kPods, "default", {});
        if (pods.ok()) {
          for (const auto& p : (*pods)["items"]) {
            const json ann = p["metadata"].value("annotations", json::object());
            const std::string node = kube::StringField(p["spec"], "nodeName");
            if (node.empty() || ann.value("hami.io/bind-phase", "") != "allocating") {
              continue;
            }
            const std::string name = p["metadata"]["name"];
            client()
                .Patch(kube::kPods, "default", name, kube::PatchType::kMerge,
                       {{"metadata", {{"annotations", {{"hami.io/bind-phase", "success"}}}}}})
                .status()
                .IgnoreError();
            locks.Release(node, hami::PodRef{"default", name}).IgnoreError();
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  void StopPlugin() {
    plugin_done_.store(true);
    if (plugin_.joinable()) {
      plugin_.join();
    }
  }

  std::string NodeOf(const std::string& pod) {
    auto p = client().Get(kube::kPods, "default", pod);
    return p.ok() ? kube::StringField((*p)["spec"], "nodeName") : "";
  }

  // EventsOf: "<reason>: <message>" of every Event about `pod`.
  std::vector<std::string> EventsOf(const std::string& pod) {
    std::vector<std::string> out;
    auto events = client().ListAll(kube::kEvents, "default", {});
    if (!events.ok()) {
      return out;
    }
    for (const auto& e : (*events)["items"]) {
      if (e["involvedObject"].value("name", "") == pod) {
        out.push_back(e.value("reason", "") + ": " + e.value("message", ""));
      }
    }
    return out;
  }

  bool HasEvent(const std::string& pod, const std::string& reason, const std::string& text) {
    for (const auto& e : EventsOf(pod)) {
      if (e.rfind(reason + ": ", 0) == 0 && e.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  // ExpectNoOvercommit: from what the API server holds, no chip gives more slots, memory or
  // cores than it registered, and every bound pod runs where Filter put it.
  void ExpectNoOvercommit() {
    struct Use {
      int slots = 0;
      int64_t mem = 0;
      int cores = 0;
    };
    std::map<std::string, hami::DeviceInfo> chips;
    std::map<std::string, bool> soft;
    auto nodes = client().ListAll(kube::kNodes, "", {});
    ASSERT_TRUE(nodes.ok());
    for (const auto& n : (*nodes)["items"]) {
      const json ann = n["metadata"].value("annotations", json::object());
      for (auto it = ann.begin(); it != ann.end(); ++it) {
        const std::string prefix = "hami.io/node-register-";
        if (it.key().rfind(prefix, 0) != 0) {
          continue;
        }
        auto devices =
            hami::DecodeNodeRegister(it->get<std::string>(), it.key().substr(prefix.size()));
        ASSERT_TRUE(devices.ok()) << it.key();
        for (const auto& d : *devices) {
          chips[d.id] = d;
          soft[d.id] = ann.value("hami-vnpu-core", "") == "true";
        }
      }
    }
    std::map<std::string, Use> use;
    auto pods = client().ListAll(kube::kPods, "default", {});
    ASSERT_TRUE(pods.ok());
    for (const auto& p : (*pods)["items"]) {
      const json ann = p["metadata"].value("annotations", json::object());
      const std::string node = kube::StringField(p["spec"], "nodeName");
      if (!node.empty() && ann.contains("hami.io/vgpu-node")) {
        EXPECT_EQ(ann["hami.io/vgpu-node"], node) << p["metadata"]["name"];
      }
      if (!ann.contains("hami.io/vgpu-node")) {
        continue;
      }
      for (auto it = ann.begin(); it != ann.end(); ++it) {
        const std::string suffix = "-devices-allocated";
        if (it.key().size() <= suffix.size() ||
            it.key().compare(it.key().size() - suffix.size(), suffix.size(), suffix) != 0) {
          continue;
        }
        auto containers = hami::DecodePodDevices(it->get<std::string>());
        ASSERT_TRUE(containers.ok()) << it.key();
        for (const auto& c : *containers) {
          for (const auto& d : c) {
            Use& u = use[d.uuid];
            u.slots += 1;
            u.mem += d.usedmem;
            u.cores += d.usedcores;
          }
        }
      }
    }
    ASSERT_FALSE(use.empty());
    for (const auto& [uuid, u] : use) {
      ASSERT_TRUE(chips.count(uuid)) << uuid;
      const hami::DeviceInfo& c = chips[uuid];
      EXPECT_LE(u.slots, c.count) << uuid;
      EXPECT_LE(u.mem, c.devmem) << uuid;
      EXPECT_LE(u.cores, soft[uuid] ? 100 : c.devcore) << uuid;
    }
  }

  npushare::testing::ScopedTempDir dir_{"scheduler_e2e"};
  kube::testing::ServerAndClient env_;
  kube::testing::TestPki pki_;
  std::string kubectl_;
  std::string binary_;
  std::string kubeconfig_;
  std::vector<std::string> kenv_;
  std::shared_ptr<kube_local::OutboundHttp> http_ = kube_local::NewCurlOutboundHttp();
  std::deque<Replica> replicas_;
  std::unique_ptr<KubeScheduler> standin_;
  std::thread plugin_;
  std::atomic<bool> plugin_done_{false};
};

TEST_F(SchedulerE2eTest, ExamplePodsAreAdmittedFilteredAndBoundOrToldWhyNot) {
  ApplyNodes();
  Replica& r = StartReplica("solo", /*leader_elect=*/false);
  RegisterWebhook(r.url());
  StartStandIn(r.url());
  StartPlugin();

  auto [code, out] = Kubectl({"apply", "--validate=false", "-f",
                              std::string(NPUSHARE_SOURCE_DIR) + "/examples/pods.yaml"});
  // Three pods are refused by the webhook, each with its reason; kubectl creates the rest.
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("looks like bytes"), std::string::npos) << out;
  EXPECT_NE(out.find("only supported in hami-core"), std::string::npos) << out;
  EXPECT_NE(out.find("multiple devices"), std::string::npos) << out;
  for (const char* refused : {"memory-in-bytes", "core-without-soft-mode", "multi-device-slice"}) {
    EXPECT_FALSE(client().Get(kube::kPods, "default", refused).ok()) << refused;
  }

  // Where they may go on these nodes: soft slices need the hami-vnpu-core node, 310P pods
  // the 310P node; the other 910B3 pods go to either 910B3 node (`npushare schedule` puts them
  // all on node-hard when it places them one by one in file order; the stand-in schedules
  // and binds concurrently, so binpack may see a different order).
  const std::map<std::string, std::set<std::string>> placed = {
      {"whole-card", {"node-hard", "node-soft"}},
      {"two-cards", {"node-hard", "node-soft"}},
      {"hard-slice-4g", {"node-hard", "node-soft"}},
      {"hard-slice-20g", {"node-hard", "node-soft"}},
      {"p310-slice-1g", {"node-310p"}},
      {"p310-slice-5g", {"node-310p"}},
      {"soft-slice", {"node-soft"}},
      {"vllm-tp2", {"node-soft"}}};
  EXPECT_TRUE(WaitUntil([&] {
    for (const auto& [pod, nodes] : placed) {
      if (NodeOf(pod).empty()) {
        return false;
      }
    }
    return true;
  }));
  for (const auto& [pod, nodes] : placed) {
    EXPECT_EQ(nodes.count(NodeOf(pod)), 1u) << pod << " on " << NodeOf(pod);
    auto p = client().Get(kube::kPods, "default", pod);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ((*p)["spec"]["schedulerName"], "hami-scheduler") << pod;  // from the webhook
  }
  // The hard slices became the templates the driver creates; the soft ones kept their share.
  auto slice = client().Get(kube::kPods, "default", "hard-slice-20g");
  ASSERT_TRUE(slice.ok());
  EXPECT_NE(kube::StringField((*slice)["metadata"]["annotations"],
                              "hami.io/Ascend910B3-devices-allocated")
                .find(",Ascend910B3,32768,"),
            std::string::npos);

  // The unplaceable ones: FailedScheduling with the extender's reasons, and our own event.
  EXPECT_TRUE(WaitUntil([&] {
    return HasEvent("too-many-cards", "FailedScheduling", "NodeInsufficientDevice") &&
           HasEvent("soft-on-310p", "FailedScheduling", "ModeNotFit");
  })) << ::testing::PrintToString(EventsOf("too-many-cards"))
      << ::testing::PrintToString(EventsOf("soft-on-310p"));
  EXPECT_TRUE(HasEvent("too-many-cards", "FilteringFailed", "0/3 nodes are available"));
  EXPECT_TRUE(NodeOf("too-many-cards").empty());
  EXPECT_TRUE(NodeOf("soft-on-310p").empty());
  // No configured chip asked: the webhook leaves the pod to the default scheduler.
  auto unknown = client().Get(kube::kPods, "default", "unknown-resource");
  ASSERT_TRUE(unknown.ok());
  EXPECT_NE(kube::StringField((*unknown)["spec"], "schedulerName"), "hami-scheduler");
  EXPECT_TRUE(NodeOf("unknown-resource").empty());
  ExpectNoOvercommit();
}

TEST_F(SchedulerE2eTest, SchedulerKilledMidStreamLosesNoPodAndOvercommitsNothing) {
  ApplyNodes();
  Replica& r = StartReplica("first", /*leader_elect=*/false);
  RegisterWebhook(r.url());
  StartPlugin();

  // 24 pods: 16 GB and 32 GB 910B3 slices, whole 910B3 cards, 310P slices: all fit at once.
  std::ofstream yaml(dir_.path() + "/stream.yaml");
  std::vector<std::string> names;
  for (int i = 0; i < 24; ++i) {
    const std::string name = "stream-" + std::to_string(i);
    names.push_back(name);
    std::string limits;
    switch (i % 4) {
      case 0:
        limits = "{huawei.com/Ascend910B3: \"1\", huawei.com/Ascend910B3-memory: \"16384\"}";
        break;
      case 1:
        limits = "{huawei.com/Ascend910B3: \"1\", huawei.com/Ascend910B3-memory: \"32768\"}";
        break;
      case 2:
        limits = "{huawei.com/Ascend310P: \"1\", huawei.com/Ascend310P-memory: \"1024\"}";
        break;
      default:
        limits = i < 12 ? "{huawei.com/Ascend910B3: \"1\"}"
                        : "{huawei.com/Ascend310P: \"1\", huawei.com/Ascend310P-memory: \"2048\"}";
    }
    yaml << "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " << name
         << "}\nspec:\n  containers:\n  - name: main\n    image: busybox\n    resources:\n"
         << "      limits: " << limits << "\n";
  }
  yaml.close();
  auto [code, out] = Kubectl({"apply", "--validate=false", "-f", dir_.path() + "/stream.yaml"});
  ASSERT_EQ(code, 0) << out;

  StartStandIn(r.url());
  auto bound = [&] {
    int n = 0;
    for (const auto& name : names) {
      n += NodeOf(name).empty() ? 0 : 1;
    }
    return n;
  };
  ASSERT_TRUE(WaitUntil([&] { return bound() >= 6; }));
  const int port = r.port;
  Kill(r, SIGKILL);  // mid-stream: filters answered, writes and binds in flight
  const int bound_at_kill = bound();
  // While it is down the stand-in's calls fail and are retried with backoff.
  Replica& again = StartReplica("second", /*leader_elect=*/false, port);
  (void)again;
  EXPECT_TRUE(WaitUntil([&] { return bound() == static_cast<int>(names.size()); }))
      << "bound " << bound() << " of " << names.size() << " (" << bound_at_kill
      << " before the kill)";
  ExpectNoOvercommit();
}

TEST_F(SchedulerE2eTest, LockLeftByADeletedPodIsTakenOver) {
  ApplyNodes();
  // node-310p (the only 310P node) is locked by a pod that no longer exists, taken a moment
  // ago: far from the 5-minute lock timeout.
  const std::string stamp =
      kube::FormatRfc3339(std::chrono::system_clock::now(), /*micros=*/false) + ",default,gone";
  ASSERT_TRUE(client()
                  .Patch(kube::kNodes, "", "node-310p", kube::PatchType::kMerge,
                         {{"metadata", {{"annotations", {{"hami.io/mutex.lock", stamp}}}}}})
                  .ok());
  Replica& r = StartReplica("solo", /*leader_elect=*/false);
  RegisterWebhook(r.url());
  StartStandIn(r.url());
  std::ofstream(dir_.path() + "/pod.yaml")
      << "apiVersion: v1\nkind: Pod\nmetadata: {name: p310}\nspec:\n  containers:\n"
      << "  - name: main\n    image: busybox\n    resources:\n      limits: "
      << "{huawei.com/Ascend310P: \"1\", huawei.com/Ascend310P-memory: \"1024\"}\n";
  auto [code, out] = Kubectl({"apply", "--validate=false", "-f", dir_.path() + "/pod.yaml"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(WaitUntil([&] { return NodeOf("p310") == "node-310p"; }, std::chrono::seconds(30)));
  auto node = client().Get(kube::kNodes, "", "node-310p");
  ASSERT_TRUE(node.ok());
  // No plugin runs here: the lock now names the bound pod.
  EXPECT_NE(kube::StringField((*node)["metadata"]["annotations"], "hami.io/mutex.lock")
                .find(",default,p310"),
            std::string::npos);
}

TEST_F(SchedulerE2eTest, TwoReplicasOnlyTheLeaderBindsAndTheOtherTakesOver) {
  ApplyNodes();
  Replica& a = StartReplica("replica-a", /*leader_elect=*/true);
  Replica& b = StartReplica("replica-b", /*leader_elect=*/true);
  std::string holder;
  ASSERT_TRUE(WaitUntil([&] {
    auto lease = client().Get(kLeases, "default", "npushare-scheduler");
    holder = lease.ok() ? kube::StringField((*lease)["spec"], "holderIdentity") : "";
    return holder == a.identity || holder == b.identity;
  }));
  Replica& leader = holder == a.identity ? a : b;
  Replica& follower = holder == a.identity ? b : a;
  // Exactly one of them says it leads.
  ASSERT_TRUE(WaitUntil([&] { return IsLeader(leader); }));
  EXPECT_FALSE(IsLeader(follower));

  // kube-scheduler reaches the follower: it filters (and writes the annotations) but refuses
  // to bind, so the pod stays pending while the leader lives.
  RegisterWebhook(follower.url());
  StartStandIn(follower.url());
  StartPlugin();
  std::ofstream(dir_.path() + "/pod.yaml")
      << "apiVersion: v1\nkind: Pod\nmetadata: {name: led}\nspec:\n  containers:\n"
      << "  - name: main\n    image: busybox\n    resources:\n      limits: "
      << "{huawei.com/Ascend910B3: \"1\", huawei.com/Ascend910B3-memory: \"16384\"}\n";
  auto [code, out] = Kubectl({"apply", "--validate=false", "-f", dir_.path() + "/pod.yaml"});
  ASSERT_EQ(code, 0) << out;
  ASSERT_TRUE(WaitUntil([&] { return standin_->Stats().extender_bind_calls >= 1; }));
  EXPECT_TRUE(NodeOf("led").empty());
  EXPECT_TRUE(WaitUntil([&] {
    for (const auto& e : EventsOf("led")) {
      if (e.find("not the leader") != std::string::npos) {
        return true;
      }
    }
    return false;
  })) << ::testing::PrintToString(EventsOf("led"));

  // The leader dies: the follower takes the Lease and the retried bind goes through.
  Kill(leader, SIGKILL);
  EXPECT_TRUE(WaitUntil([&] {
    auto lease = client().Get(kLeases, "default", "npushare-scheduler");
    return lease.ok() && kube::StringField((*lease)["spec"], "holderIdentity") == follower.identity;
  }));
  EXPECT_TRUE(WaitUntil([&] { return IsLeader(follower); }));
  EXPECT_TRUE(WaitUntil([&] { return !NodeOf("led").empty(); }))
      << kube::testing::ReadFileForTest(follower.log);
  ExpectNoOvercommit();
}

}  // namespace
}  // namespace npushare::kube_scheduler_sim
