// End to end, the fault and containment cases of issue 12 that demo_e2e_test does not cover,
// each on its own small DemoCluster (sim/demo/demo_cluster.h: every component a real
// process) with only the nodes and pods it needs:
//   * a soft-slice container cannot write its quota file or /etc/ld.so.preload (read-only);
//   * a container that unsets LD_PRELOAD is still limited (207001 at its quota), because
//     /etc/ld.so.preload still loads libvnpu.so;
//   * killing npushare-scheduler mid-run and restarting it loses nothing: bound pods stay,
//     pods created while it was down are placed after the restart, no chip is overcommitted;
//   * killing a device plugin mid-run and restarting it: running pods keep running, a new pod
//     on that node is allocated after the restart;
//   * a hard slice's vNPU is destroyed once its pod is deleted.
// Everything is judged from the components' own outputs: pod status and annotations from the
// API server, node annotations, container logs (kubectl logs -> kube-local -> kubelet),
// npu-sim's vNPUs (npu-smi). Every wait is a condition with a generous deadline.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "common/file_reader.h"
#include "hami/pod_devices.h"
#include "hami/types.h"
#include "kube/objects.h"
#include "kube/resource.h"
#include "sim/demo/command.h"
#include "sim/demo/demo_cluster.h"
#include "support/temp_dir.h"

namespace npushare::demo {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kStartTimeout = std::chrono::seconds(120);
constexpr auto kPodTimeout = std::chrono::seconds(90);
constexpr char kSoftNode[] = "faults-soft";
constexpr char kHardNode[] = "faults-hard";

template <typename F>
bool Eventually(F condition, std::chrono::seconds timeout = kPodTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polling a condition
  }
  return true;
}

// ObjectOrEmpty: `j` when it is an object, else an empty object (to iterate either way).
const json& ObjectOrEmpty(const json& j) {
  static const json kEmpty = json::object();
  return j.is_object() ? j : kEmpty;
}

std::string Annotation(const json& obj, const std::string& key) {
  const json& a = kube::Field(kube::Field(obj, "metadata"), "annotations");
  return a.is_object() && a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : "";
}

// SoftPod: a 1-chip soft-slice pod (hami-core) on a 910B3 with `memory_mb` and `core` %.
// `command` is a YAML flow sequence. An explicit schedulerName lets a pod created while
// npushare-scheduler (and so its webhook, failurePolicy Ignore) is down still be ours.
std::string SoftPod(const std::string& name, int64_t memory_mb, int core,
                    const std::string& command, bool run_once) {
  return "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
         "\n  annotations: {huawei.com/vnpu-mode: hami-core}\nspec:\n"
         "  schedulerName: hami-scheduler\n  runtimeClassName: ascend\n" +
         (run_once ? "  restartPolicy: Never\n" : "") +
         "  containers:\n  - name: main\n    image: npu-sim-workload\n    command: " + command +
         "\n    resources:\n      limits:\n        huawei.com/Ascend910B3: \"1\"\n"
         "        huawei.com/Ascend910B3-memory: \"" +
         std::to_string(memory_mb) + "\"\n        huawei.com/Ascend910B3-core: \"" +
         std::to_string(core) + "\"\n";
}

// Holds its weights and idles (no kernels), so many of them do not load the machine; --hold
// waits for stdin to close, and `sleep` keeps the pipe open.
constexpr char kHoldCommand[] =
    "[/bin/sh, -c, 'sleep 3600 | npu-sim-workload --weights-mb 256 --hold']";

class DemoFaultsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FindOnPath("kubectl").empty()) {
      GTEST_SKIP() << "kubectl not found on PATH (Debian package: kubernetes-client)";
    }
    ASSERT_FALSE(tmp_.path().empty());
  }

  void TearDown() override {
    if (!cluster_) {
      return;
    }
    CleanupReport left = cluster_->Stop();
    std::string what;
    for (const auto* list : {&left.processes, &left.mounts, &left.vnpus, &left.errors}) {
      for (const auto& s : *list) {
        what += s + "\n";
      }
    }
    EXPECT_TRUE(left.clean()) << "left behind:\n" << what;
  }

  void StartCluster(std::vector<DemoNodeSpec> nodes) {
    ClusterOptions o;
    o.run_dir = tmp_.path() + "/run";
    o.bin_dir = NPUSHARE_BIN_DIR;
    o.lib_dir = std::filesystem::weakly_canonical(o.bin_dir + "/../lib").string();
    o.source_dir = NPUSHARE_SOURCE_DIR;
    o.nodes = std::move(nodes);
    o.start_timeout = kStartTimeout;
    auto c = DemoCluster::Start(std::move(o));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
  }

  // Apply: writes `yaml` into the run directory and applies it with kubectl.
  void Apply(const std::string& yaml) {
    const std::string file =
        tmp_.path() + "/run/manifest-" + std::to_string(++manifests_) + ".yaml";
    {
      std::ofstream out(file);
      out << yaml;
    }
    auto r = cluster_->Kubectl({"apply", "--validate=false", "-f", file});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->exit_code, 0) << r->output << "\n" << yaml;
  }

  json Pod(const std::string& name) {
    auto p = cluster_->client().Get(kube::kPods, "default", name);
    return p.ok() ? *p : json::object();
  }
  std::string Phase(const std::string& name) {
    return kube::StringField(kube::Field(Pod(name), "status"), "phase");
  }
  std::string NodeOf(const std::string& name) {
    return kube::StringField(kube::Field(Pod(name), "spec"), "nodeName");
  }
  bool WaitPhase(const std::string& name, const std::set<std::string>& phases) {
    return Eventually([&] { return phases.count(Phase(name)) > 0; });
  }
  // Terminated: the first container's terminated state, or null.
  json Terminated(const std::string& name) {
    const json pod = Pod(name);  // Field() refers into it
    const json& cs = kube::Field(kube::Field(pod, "status"), "containerStatuses");
    if (!cs.is_array() || cs.empty()) {
      return nullptr;
    }
    const json& st = kube::Field(cs[0], "state");
    return st.contains("terminated") ? st["terminated"] : json(nullptr);
  }
  // Started: the first container's startedAt and restartCount, to tell a restart apart.
  std::string Started(const std::string& name) {
    const json pod = Pod(name);  // Field() refers into it
    const json& cs = kube::Field(kube::Field(pod, "status"), "containerStatuses");
    if (!cs.is_array() || cs.empty()) {
      return "";
    }
    return kube::StringField(kube::Field(kube::Field(cs[0], "state"), "running"), "startedAt") +
           " restarts=" + std::to_string(kube::IntField(cs[0], "restartCount", -1));
  }
  std::string Logs(const std::string& name) {
    auto r = cluster_->Kubectl({"logs", name});
    if (!r.ok()) {
      return "kubectl logs: " + r.status().ToString();
    }
    return r->output;
  }
  std::string ComponentLog(const std::string& component) {
    auto text = ReadFileLimited(tmp_.path() + "/run/logs/" + component + ".log", size_t{1} << 20);
    return text.ok() ? text->substr(text->size() > 3000 ? text->size() - 3000 : 0) : "";
  }

  // ChipMemoryMb: devmem of the first chip `node` registered (hami.io/node-register-*).
  int64_t ChipMemoryMb(const std::string& node) {
    int64_t mem = -1;
    Eventually([&] {
      auto n = cluster_->client().Get(kube::kNodes, "", node);
      if (!n.ok()) {
        return false;
      }
      const json& ann = kube::Field(kube::Field(*n, "metadata"), "annotations");
      for (const auto& [k, v] : ObjectOrEmpty(ann).items()) {
        if (k.rfind(hami::kNodeRegisterPrefix, 0) != 0 || !v.is_string()) {
          continue;
        }
        json devs = json::parse(v.get<std::string>(), nullptr, false);
        if (devs.is_array() && !devs.empty() && devs[0].is_object()) {
          mem = devs[0].value("devmem", int64_t{-1});
        }
      }
      return mem > 0;
    });
    return mem;
  }

  // Overcommits: every chip whose allocations (the *-devices-allocated annotations of the pods
  // not yet finished) exceed what its node registered (devmem, devcore, count), and every pod
  // whose allocation names a chip its node does not have. Empty: none.
  std::vector<std::string> Overcommits() {
    struct Chip {
      std::string node;
      int64_t devmem = 0, devcore = 0, count = 0;
      int64_t mem = 0, core = 0, used = 0;
    };
    std::map<std::string, Chip> chips;
    std::vector<std::string> out;
    auto nodes = cluster_->client().ListAll(kube::kNodes, "", {});
    auto pods = cluster_->client().ListAll(kube::kPods, "default", {});
    if (!nodes.ok() || !pods.ok()) {
      return {"cannot list nodes or pods"};
    }
    for (const auto& n : (*nodes)["items"]) {
      const json& ann = kube::Field(kube::Field(n, "metadata"), "annotations");
      for (const auto& [k, v] : ObjectOrEmpty(ann).items()) {
        if (k.rfind(hami::kNodeRegisterPrefix, 0) != 0 || !v.is_string()) {
          continue;
        }
        json devs = json::parse(v.get<std::string>(), nullptr, false);
        for (const auto& d : devs.is_array() ? devs : json::array()) {
          if (!d.is_object() || !d.contains("id") || !d["id"].is_string()) {
            continue;
          }
          Chip& c = chips[d["id"].get<std::string>()];
          c.node = kube::StringField(n["metadata"], "name");
          c.devmem = d.value("devmem", int64_t{0});
          c.devcore = d.value("devcore", int64_t{0});
          c.count = d.value("count", int64_t{0});
        }
      }
    }
    for (const auto& p : (*pods)["items"]) {
      const std::string name = kube::StringField(p["metadata"], "name");
      const std::string phase = kube::StringField(kube::Field(p, "status"), "phase");
      if (phase == "Succeeded" || phase == "Failed") {
        continue;
      }
      const json& ann = kube::Field(p["metadata"], "annotations");
      for (const auto& [k, v] : ObjectOrEmpty(ann).items()) {
        const std::string suffix = "-devices-allocated";
        if (k.size() <= suffix.size() ||
            k.compare(k.size() - suffix.size(), suffix.size(), suffix) != 0 || !v.is_string()) {
          continue;
        }
        auto decoded = hami::DecodePodDevices(v.get<std::string>());
        if (!decoded.ok()) {
          out.push_back(name + ": undecodable " + k);
          continue;
        }
        for (const auto& container : *decoded) {
          for (const auto& d : container) {
            auto c = chips.find(d.uuid);
            if (c == chips.end() || c->second.node != NodeOf(name)) {
              out.push_back(name + ": allocated chip " + d.uuid + " is not on its node " +
                            NodeOf(name));
              continue;
            }
            c->second.mem += d.usedmem;
            c->second.core += d.usedcores;
            c->second.used += 1;
          }
        }
      }
    }
    for (const auto& [id, c] : chips) {
      if (c.mem > c.devmem || (c.devcore > 0 && c.core > c.devcore) ||
          (c.count > 0 && c.used > c.count)) {
        out.push_back(c.node + " chip " + id + ": " + std::to_string(c.mem) + "/" +
                      std::to_string(c.devmem) + " MB, " + std::to_string(c.core) + "/" +
                      std::to_string(c.devcore) + " core, " + std::to_string(c.used) + "/" +
                      std::to_string(c.count) + " slots");
      }
    }
    return out;
  }

  std::string Vnpus(const NodePaths& node) {
    std::string all;
    for (int card = 0; card < node.spec.cards; ++card) {
      auto r = cluster_->NpuSmi(node,
                                {"info", "-t", "info-vnpu", "-i", std::to_string(card), "-c", "0"});
      all += r.ok() ? r->output : r.status().ToString();
    }
    return all;
  }

  npushare::testing::ScopedTempDir tmp_{"npushare-demo-faults"};
  std::unique_ptr<DemoCluster> cluster_;
  int manifests_ = 0;
};

// A soft-slice container writes to its quota file and its /etc/ld.so.preload: both writes
// fail with EROFS (the shell reports strerror), the pod exits 30 (EROFS) as its command
// decides, and the node's copies are untouched.
TEST_F(DemoFaultsE2eTest, SoftSliceContainerCannotWriteItsQuotaFileOrLdSoPreload) {
  StartCluster({{.name = kSoftNode, .model = "910B3", .cards = 1, .soft = true}});
  ASSERT_NO_FATAL_FAILURE(Apply(SoftPod("tamper", 2048, 20, R"([/bin/sh, -c, '
      [ -f /run/npushare/vnpu/quota ] || { echo "no quota file"; exit 4; };
      grep -q libvnpu /etc/ld.so.preload || { echo "no libvnpu in /etc/ld.so.preload"; exit 5; };
      rc=30;
      for f in /run/npushare/vnpu/quota /etc/ld.so.preload; do
        if err=`(echo tampered > "$f") 2>&1`; then echo "WROTE $f"; exit 1; fi;
        echo "REFUSED $f: $err";
        case "$err" in *"Read-only file system"*) ;; *) rc=2;; esac;
      done;
      exit $rc'])",
                                        /*run_once=*/true)));
  ASSERT_TRUE(WaitPhase("tamper", {"Succeeded", "Failed"})) << Pod("tamper").dump(2);
  EXPECT_EQ(NodeOf("tamper"), kSoftNode);
  ASSERT_TRUE(Eventually([&] { return Terminated("tamper").is_object(); }))
      << Pod("tamper").dump(2);
  json term = Terminated("tamper");
  const std::string log = Logs("tamper");
  EXPECT_EQ(kube::IntField(term, "exitCode", -1), 30) << log;
  EXPECT_EQ(Phase("tamper"), "Failed");
  EXPECT_NE(log.find("REFUSED /run/npushare/vnpu/quota: "), std::string::npos) << log;
  EXPECT_NE(log.find("REFUSED /etc/ld.so.preload: "), std::string::npos) << log;
  EXPECT_EQ(log.find("WROTE"), std::string::npos) << log;
  // The host side: ld.so.preload still names libvnpu only; no quota file took the text.
  const std::string node_dir = tmp_.path() + "/run/nodes/" + kSoftNode;
  auto preload = ReadFileLimited(node_dir + "/ld.so.preload", 4096);
  ASSERT_TRUE(preload.ok()) << preload.status().ToString();
  EXPECT_NE(preload->find("libvnpu.so"), std::string::npos) << *preload;
  EXPECT_EQ(preload->find("tampered"), std::string::npos) << *preload;
  for (const auto& e : std::filesystem::recursive_directory_iterator(node_dir + "/quota")) {
    if (e.is_regular_file()) {
      auto q = ReadFileLimited(e.path().string(), 65536);
      ASSERT_TRUE(q.ok()) << e.path();
      EXPECT_EQ(q->find("tampered"), std::string::npos) << e.path() << ": " << *q;
    }
  }
}

// `env -u LD_PRELOAD` does not take libvnpu.so out: /etc/ld.so.preload loads it, so the
// over-allocating probe still gets 207001 at its 2048 MB quota on a 64 GB chip.
TEST_F(DemoFaultsE2eTest, ContainerThatUnsetsLdPreloadIsStillLimited) {
  StartCluster({{.name = kSoftNode, .model = "910B3", .cards = 1, .soft = true}});
  ASSERT_NO_FATAL_FAILURE(Apply(SoftPod(
      "no-preload-env", 2048, 20,
      R"([env, -u, LD_PRELOAD, /bin/sh, -c, 'echo "LD_PRELOAD=[${LD_PRELOAD-unset}]"; exec npu-sim-workload --oom-probe --chunk-mb 512'])",
      /*run_once=*/true)));
  ASSERT_TRUE(WaitPhase("no-preload-env", {"Succeeded", "Failed"}))
      << Pod("no-preload-env").dump(2);
  const std::string log = Logs("no-preload-env");
  EXPECT_EQ(Phase("no-preload-env"), "Succeeded") << log;
  EXPECT_NE(log.find("LD_PRELOAD=[unset]"), std::string::npos) << log;
  EXPECT_NE(log.find("oom_code=207001"), std::string::npos) << log;
  const size_t at = log.find("alloc_mb=");
  ASSERT_NE(at, std::string::npos) << log;
  const long long alloc_mb = std::atoll(log.c_str() + at + 9);
  EXPECT_GT(alloc_mb, 0) << log;
  EXPECT_LE(alloc_mb, 2048) << "allocated past its quota:\n" << log;
}

// npushare-scheduler killed mid-run (SIGKILL) and restarted: the pods it bound stay where
// they are, pods created while it was down are placed after the restart, and the chips are
// not overcommitted. Pods ask 3/8 of a chip each: two fit a chip, three do not, so a restarted
// scheduler that forgot the bound pods would put a third on their chip.
TEST_F(DemoFaultsE2eTest, SchedulerKilledAndRestartedLosesNothing) {
  StartCluster({{.name = kSoftNode, .model = "910B3", .cards = 2, .soft = true}});
  const int64_t chip_mb = ChipMemoryMb(kSoftNode);
  ASSERT_GT(chip_mb, 0);
  const int64_t pod_mb = chip_mb * 3 / 8;
  std::string before;
  for (const char* name : {"before-0", "before-1"}) {
    before += SoftPod(name, pod_mb, 10, kHoldCommand, false);
  }
  ASSERT_NO_FATAL_FAILURE(Apply(before));
  std::map<std::string, std::string> placed;
  for (const char* name : {"before-0", "before-1"}) {
    ASSERT_TRUE(WaitPhase(name, {"Running"})) << name << "\n" << Pod(name).dump(2);
    placed[name] = Started(name);
  }

  auto stopped = cluster_->StopComponent("npushare-scheduler", 0ms);
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  std::string during;
  for (int i = 0; i < 4; ++i) {
    during += SoftPod("during-" + std::to_string(i), pod_mb, 10, kHoldCommand, false);
  }
  ASSERT_NO_FATAL_FAILURE(Apply(during));
  for (int i = 0; i < 4; ++i) {
    // Created while the scheduler is down: nobody can have placed it yet.
    EXPECT_EQ(NodeOf("during-" + std::to_string(i)), "") << i;
  }

  auto restarted = cluster_->RestartComponent("npushare-scheduler");
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  // Two of the four fit beside the bound pods; wait for them and for the others to have
  // been tried (a FailedScheduling event each) after the restart.
  auto running = [&] {
    int n = 0;
    for (int i = 0; i < 4; ++i) {
      n += Phase("during-" + std::to_string(i)) == "Running";
    }
    return n;
  };
  ASSERT_TRUE(Eventually([&] { return running() >= 2; }, std::chrono::seconds(120)))
      << ComponentLog("npushare-scheduler") << ComponentLog("kube-scheduler-sim");
  for (int i = 0; i < 4; ++i) {
    const std::string name = "during-" + std::to_string(i);
    if (Phase(name) == "Running") {
      continue;
    }
    EXPECT_TRUE(Eventually([&] {
      auto ev = cluster_->Kubectl(
          {"get", "events", "--field-selector", "involvedObject.name=" + name, "-o", "json"});
      return ev.ok() && ev->output.find("FailedScheduling") != std::string::npos;
    })) << name;
    EXPECT_EQ(NodeOf(name), "") << name << " was placed on a full chip";
  }
  EXPECT_EQ(running(), 2);
  for (const auto& [name, started] : placed) {
    EXPECT_EQ(Phase(name), "Running") << name;
    EXPECT_EQ(NodeOf(name), kSoftNode) << name;
    EXPECT_EQ(Started(name), started) << name << " was restarted";
  }
  std::vector<std::string> over = Overcommits();
  std::string text;
  for (const auto& o : over) {
    text += o + "\n";
  }
  EXPECT_TRUE(over.empty()) << text;
  // The scheduler's own bookkeeping after the restart: every Running pod carries the node it
  // was assigned (hami.io/vgpu-node) and that is where it runs.
  for (const std::string name :
       {"before-0", "before-1", "during-0", "during-1", "during-2", "during-3"}) {
    if (Phase(name) == "Running") {
      EXPECT_EQ(Annotation(Pod(name), hami::kAssignedNodeAnnotation), NodeOf(name)) << name;
    }
  }
}

// A device plugin killed mid-run (SIGKILL) and restarted: the pod it allocated keeps running
// (same container, no restart) and a pod created after the restart is allocated on that node.
TEST_F(DemoFaultsE2eTest, DevicePluginKilledAndRestartedKeepsPodsAndAllocatesNewOnes) {
  StartCluster({{.name = kSoftNode, .model = "910B3", .cards = 1, .soft = true}});
  ASSERT_NO_FATAL_FAILURE(Apply(SoftPod("plugin-before", 4096, 20, kHoldCommand, false)));
  ASSERT_TRUE(WaitPhase("plugin-before", {"Running"})) << Pod("plugin-before").dump(2);
  const std::string started = Started("plugin-before");
  const std::string plugin = std::string(kSoftNode) + "-device-plugin";

  auto stopped = cluster_->StopComponent(plugin, 0ms);
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  auto restarted = cluster_->RestartComponent(plugin);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  auto ready = (*restarted)->WaitForLine("READY metrics_port=", kStartTimeout);
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  // It came back on the port the node's npushare.io/metrics-url annotation names (the
  // dashboard reads it from there; a new ephemeral port would leave it pointing nowhere).
  EXPECT_EQ(std::atoi(ready->c_str() + std::string("READY metrics_port=").size()),
            cluster_->nodes().front().metrics_port)
      << *ready << ": the restarted plugin moved to another metrics port";

  ASSERT_NO_FATAL_FAILURE(Apply(SoftPod("plugin-after", 4096, 20, kHoldCommand, false)));
  ASSERT_TRUE(WaitPhase("plugin-after", {"Running"}))
      << Pod("plugin-after").dump(2) << ComponentLog(plugin)
      << ComponentLog(std::string(kSoftNode) + "-kubelet");
  EXPECT_EQ(NodeOf("plugin-after"), kSoftNode);
  EXPECT_NE(Logs("plugin-after").find("READY alloc_mb="), std::string::npos)
      << Logs("plugin-after");
  EXPECT_EQ(Phase("plugin-before"), "Running");
  EXPECT_EQ(Started("plugin-before"), started) << "the running pod was restarted";
  std::vector<std::string> over = Overcommits();
  EXPECT_TRUE(over.empty()) << (over.empty() ? "" : over.front());
}

// A hard slice's vNPU (4096 MB -> template vir05_1c_16g) exists while its pod runs and is
// destroyed once the pod is deleted.
TEST_F(DemoFaultsE2eTest, HardSliceVnpuIsDestroyedAfterThePodIsDeleted) {
  StartCluster({{.name = kHardNode, .model = "910B3", .cards = 1, .soft = false}});
  ASSERT_NO_FATAL_FAILURE(Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: hard-4g
spec:
  schedulerName: hami-scheduler
  runtimeClassName: ascend
  containers:
  - name: main
    image: npu-sim-workload
    command: [/bin/sh, -c, 'sleep 3600 | npu-sim-workload --weights-mb 256 --hold']
    resources:
      limits: {huawei.com/Ascend910B3: "1", huawei.com/Ascend910B3-memory: "4096"}
)"));
  ASSERT_TRUE(WaitPhase("hard-4g", {"Running"})) << Pod("hard-4g").dump(2);
  const NodePaths& node = cluster_->nodes().front();
  EXPECT_NE(Vnpus(node).find("vir05_1c_16g"), std::string::npos) << Vnpus(node);
  EXPECT_EQ(cluster_->VnpuCount(node, 0), 1);

  auto del = cluster_->Kubectl({"delete", "pod", "hard-4g", "--wait=true"});
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->exit_code, 0) << del->output;
  EXPECT_TRUE(Eventually([&] { return cluster_->VnpuCount(node, 0) == 0; }))
      << "the hard slice's vNPU outlived its pod:\n"
      << Vnpus(node) << ComponentLog(std::string(kHardNode) + "-kubelet");
}

}  // namespace
}  // namespace npushare::demo
