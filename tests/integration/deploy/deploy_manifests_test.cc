// deploy/kustomize: the node half of the base (device-plugin DaemonSet with the arbiter) is
// consistent with the binaries it runs (every flag exists in their --help, every config path
// is a mounted ConfigMap, every hostPath is used), privileges are the documented ones, the two
// overlays split the base into disjoint halves, and base and overlays apply to kube-local with
// kubectl (server dry run, then for real). Skips (with the reason) when kubectl is missing.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/yaml_json.h"
#include "integration/kube/subprocess.h"
#include "integration/kube/test_server.h"
#include "kube/api_error.h"
#include "kube/resource.h"
#include "support/temp_dir.h"

namespace npushare {
namespace {

using kube::testing::Subprocess;
using nlohmann::json;

constexpr auto kCommandTimeout = std::chrono::seconds(60);
constexpr kube::ResourceType kDaemonSets{"apps", "v1", "daemonsets", "DaemonSet", true};
constexpr kube::ResourceType kDeployments{"apps", "v1", "deployments", "Deployment", true};
constexpr kube::ResourceType kPdbs{"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget",
                                   true};

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

std::string Dir(const std::string& rel) {
  return std::string(NPUSHARE_SOURCE_DIR) + "/deploy/kustomize/" + rel;
}

std::string Key(const json& d) {
  return d.value("kind", "") + "/" + d["metadata"].value("name", "");
}

class DeployManifestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubectl_ = kube::testing::FindOnPath("kubectl");
    if (kubectl_.empty()) {
      GTEST_SKIP() << "kubectl not found on PATH (it has kustomize built in)";
    }
    base_ = Render("base");
    ASSERT_FALSE(base_.empty());
  }

  // Run: a command with args; {exit code, stdout+stderr}.
  std::pair<int, std::string> Exec(std::vector<std::string> argv) {
    Subprocess p;
    std::vector<std::string> env = {"HOME=" + dir_.path()};
    if (!kubeconfig_.empty()) {
      env.push_back("KUBECONFIG=" + kubeconfig_);
    }
    if (!p.Spawn(argv, env)) {
      return {-1, "spawn failed: " + argv[0]};
    }
    std::string out = p.ReadAll(kCommandTimeout);
    p.Kill(SIGKILL);
    int status = p.Wait();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }
  std::pair<int, std::string> Kubectl(std::vector<std::string> args) {
    args.insert(args.begin(), kubectl_);
    return Exec(std::move(args));
  }
  std::vector<json> Render(const std::string& rel) {
    auto [code, out] = Kubectl({"kustomize", Dir(rel)});
    EXPECT_EQ(code, 0) << out;
    auto docs = ParseYamlDocuments(out);
    EXPECT_TRUE(docs.ok()) << docs.status().ToString();
    return docs.ok() ? *docs : std::vector<json>{};
  }
  static const json& Find(const std::vector<json>& docs, const std::string& kind,
                          const std::string& name) {
    static const json kNull;
    for (const auto& d : docs) {
      if (d.value("kind", "") == kind && d["metadata"].value("name", "") == name) {
        return d;
      }
    }
    ADD_FAILURE() << kind << "/" << name << " not rendered";
    return kNull;
  }
  const json& PodSpec() {
    return Find(base_, "DaemonSet", "npushare-device-plugin")["spec"]["template"]["spec"];
  }
  json Container(const std::string& name) {
    for (const auto& c : PodSpec()["containers"]) {
      if (c["name"] == name) {
        return c;
      }
    }
    ADD_FAILURE() << "no container " << name;
    return json::object();
  }
  // FlagValue: "--name=value" in a container's command, or "".
  static std::string FlagValue(const json& container, const std::string& name) {
    for (const auto& arg : container["command"]) {
      std::string a = arg.get<std::string>();
      if (a.rfind("--" + name + "=", 0) == 0) {
        return a.substr(name.size() + 3);
      }
    }
    return "";
  }
  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  void WriteKubeconfig(const std::string& server) {
    kubeconfig_ = WriteFile("kubeconfig",
                            "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n"
                            "  cluster:\n    server: " +
                                server +
                                "\ncontexts:\n- name: local\n  context: {cluster: local, user: "
                                "me, namespace: default}\nusers:\n- name: me\n  user: {}\n"
                                "current-context: local\n");
  }

  npushare::testing::ScopedTempDir dir_{"deploy_manifests"};
  std::string kubectl_;
  std::string kubeconfig_;
  std::vector<json> base_;
};

TEST_F(DeployManifestsTest, DaemonSetRunsOnAscendNodesOutsideTheWebhook) {
  const json& ds = Find(base_, "DaemonSet", "npushare-device-plugin");
  EXPECT_EQ(ds["metadata"]["namespace"], "kube-system");
  EXPECT_EQ(PodSpec()["nodeSelector"]["ascend"], "on");
  EXPECT_EQ(ds["spec"]["template"]["metadata"]["labels"]["hami.io/webhook"], "ignore");
  EXPECT_EQ(PodSpec()["priorityClassName"], "system-node-critical");
  // Its ServiceAccount exists and is bound to its ClusterRole.
  std::string sa = PodSpec()["serviceAccountName"];
  Find(base_, "ServiceAccount", sa);
  const json& binding = Find(base_, "ClusterRoleBinding", "npushare-device-plugin");
  EXPECT_EQ(binding["subjects"][0]["name"], sa);
  EXPECT_EQ(binding["roleRef"]["name"], "npushare-device-plugin");
}

// Every flag the manifests pass is one the binary accepts (its --help lists it).
TEST_F(DeployManifestsTest, EveryFlagIsKnownToTheBinary) {
  for (const auto& [container, binary] : std::vector<std::pair<std::string, std::string>>{
           {"device-plugin", "npushare-device-plugin"}, {"arbiter", "npushare-arbiter"}}) {
    json c = Container(container);
    ASSERT_EQ(c["command"][0], binary);
    auto [code, help] = Exec({std::string(NPUSHARE_BIN_DIR) + "/" + binary, "--help"});
    ASSERT_EQ(code, 0) << binary << ": " << help;
    for (size_t i = 1; i < c["command"].size(); ++i) {
      std::string arg = c["command"][i];
      ASSERT_EQ(arg.rfind("--", 0), 0u) << arg;
      std::string flag = arg.substr(0, arg.find('='));
      EXPECT_NE(help.find(flag), std::string::npos) << binary << " has no " << flag;
    }
  }
  // The arbiter and the plugin agree on the shared directories and the metrics file.
  json plugin = Container("device-plugin");
  json arbiter = Container("arbiter");
  std::string grant = FlagValue(arbiter, "grant-dir");
  std::string tenants = FlagValue(arbiter, "tenants-dir");
  std::string shares = FlagValue(arbiter, "shares-dir");
  std::string metrics = FlagValue(arbiter, "metrics-file");
  // The plugin's defaults are these paths unless it passes them.
  auto plugin_value = [&](const std::string& flag, const std::string& fallback) {
    std::string v = FlagValue(plugin, flag);
    return v.empty() ? fallback : v;
  };
  EXPECT_EQ(plugin_value("grant-dir", "/run/npushare/arbiter"), grant);
  EXPECT_EQ(plugin_value("tenants-dir", "/run/npushare/tenants"), tenants);
  EXPECT_EQ(plugin_value("shares-dir", "/run/npushare/shares"), shares);
  EXPECT_EQ(plugin_value("arbiter-metrics-file", "/run/npushare/arbiter.metrics"), metrics);
}

// Config files live in directory mounts of the right ConfigMaps (so edits reach the plugin),
// every volume is mounted somewhere, and host paths are the ones the plugin uses.
TEST_F(DeployManifestsTest, ConfigPathsAndHostPathsAreMounted) {
  json plugin = Container("device-plugin");
  std::map<std::string, json> volumes;
  for (const auto& v : PodSpec()["volumes"]) {
    volumes[v["name"]] = v;
  }
  auto volume_for = [&](const std::string& file) -> json {
    for (const auto& m : plugin["volumeMounts"]) {
      std::string mp = m["mountPath"];
      if (file.rfind(mp + "/", 0) == 0) {
        EXPECT_FALSE(m.contains("subPath")) << "subPath mounts never see ConfigMap updates";
        return volumes[m["name"]];
      }
    }
    ADD_FAILURE() << file << " is not under any mount";
    return json::object();
  };
  json device = volume_for(FlagValue(plugin, "config_file"));
  EXPECT_EQ(device["configMap"]["name"], "hami-scheduler-device");
  json node = volume_for(FlagValue(plugin, "node_config_file"));
  EXPECT_EQ(node["configMap"]["name"], "hami-device-node-config");
  // The ConfigMaps carry the keys the flags name.
  EXPECT_TRUE(
      Find(base_, "ConfigMap", "hami-scheduler-device")["data"].contains("device-config.yaml"));
  EXPECT_TRUE(
      Find(base_, "ConfigMap", "hami-device-node-config")["data"].contains("node-config.yaml"));
  auto plugin_dir = volume_for(FlagValue(plugin, "device-plugin-path") + "kubelet.sock");
  EXPECT_EQ(plugin_dir["hostPath"]["path"], "/var/lib/kubelet/device-plugins");

  std::set<std::string> used;
  for (const auto& section : {"containers", "initContainers"}) {
    for (const auto& c : PodSpec()[section]) {
      for (const auto& m : c.value("volumeMounts", json::array())) {
        used.insert(m["name"]);
      }
    }
  }
  for (const auto& [name, v] : volumes) {
    EXPECT_TRUE(used.count(name)) << "volume " << name << " is mounted nowhere";
  }
  // The init container installs the assets where Allocate's mounts take them from.
  auto init = PodSpec()["initContainers"][0];
  std::string script = init["command"].back();
  EXPECT_NE(script.find("/host/usr/local/npushare/lib/libvnpu.so"), std::string::npos);
  EXPECT_NE(script.find("/host/usr/local/npushare/ld.so.preload"), std::string::npos);
  EXPECT_EQ(volumes["npushare-assets"]["hostPath"]["path"], "/usr/local/npushare");
}

// Privileges are the documented ones: only the device plugin is privileged; everything has
// requests and limits and no privilege escalation where it is not privileged.
TEST_F(DeployManifestsTest, LeastPrivilegeAndResources) {
  for (const auto& section : {"containers", "initContainers"}) {
    for (const auto& c : PodSpec()[section]) {
      std::string name = c["name"];
      ASSERT_TRUE(c.contains("securityContext")) << name;
      const json& sc = c["securityContext"];
      EXPECT_EQ(sc.value("privileged", false), name == "device-plugin") << name;
      if (name != "device-plugin") {
        EXPECT_EQ(sc["allowPrivilegeEscalation"], false) << name;
        EXPECT_EQ(sc["capabilities"]["drop"], json::array({"ALL"})) << name;
      }
      EXPECT_EQ(sc["readOnlyRootFilesystem"], true) << name;
      EXPECT_TRUE(c["resources"].contains("requests")) << name;
      EXPECT_TRUE(c["resources"].contains("limits")) << name;
    }
  }
  // The plugin's ClusterRole is exactly what src/deviceplugin calls (docs in the manifest).
  std::map<std::string, std::set<std::string>> verbs;
  for (const auto& rule : Find(base_, "ClusterRole", "npushare-device-plugin")["rules"]) {
    for (const auto& r : rule["resources"]) {
      for (const auto& v : rule["verbs"]) {
        verbs[r].insert(v);
      }
    }
  }
  EXPECT_EQ(verbs["pods"], (std::set<std::string>{"get", "list", "patch"}));
  EXPECT_EQ(verbs["nodes"], (std::set<std::string>{"get", "patch"}));
  EXPECT_EQ(verbs["events"], (std::set<std::string>{"create"}));
  EXPECT_EQ(verbs.size(), 3u);
  Find(base_, "PodDisruptionBudget", "npushare-scheduler");
}

// The two overlays deploy disjoint halves whose union is the base, each half complete: the node
// half has the DaemonSet and no scheduler; the scheduler half the Deployment, webhook and the
// shared device ConfigMap, and none of what upstream's Ascend plugin ships itself.
TEST_F(DeployManifestsTest, OverlaysSplitTheBaseIntoHalves) {
  auto node_half = Render("overlays/alongside-hami-scheduler");
  auto sched_half = Render("overlays/alongside-hami-device-plugin");
  std::set<std::string> base_keys, node_keys, sched_keys;
  for (const auto& d : base_)
    base_keys.insert(Key(d));
  for (const auto& d : node_half)
    node_keys.insert(Key(d));
  for (const auto& d : sched_half)
    sched_keys.insert(Key(d));
  std::set<std::string> both, all;
  for (const auto& k : node_keys) {
    all.insert(k);
    if (sched_keys.count(k))
      both.insert(k);
  }
  all.insert(sched_keys.begin(), sched_keys.end());
  EXPECT_TRUE(both.empty()) << *both.begin() << " is in both halves";
  EXPECT_EQ(all, base_keys);
  EXPECT_TRUE(node_keys.count("DaemonSet/npushare-device-plugin"));
  EXPECT_TRUE(node_keys.count("RuntimeClass/ascend"));
  EXPECT_FALSE(node_keys.count("ConfigMap/hami-scheduler-device"))
      << "HAMi's scheduler chart owns the shared device ConfigMap";
  EXPECT_TRUE(sched_keys.count("Deployment/npushare-scheduler"));
  EXPECT_TRUE(sched_keys.count("MutatingWebhookConfiguration/npushare-webhook"));
  EXPECT_TRUE(sched_keys.count("ConfigMap/hami-scheduler-device"));
  EXPECT_FALSE(sched_keys.count("ConfigMap/hami-device-node-config"));
  // Unchanged objects are byte-identical to the base's.
  for (const auto& d : node_half) {
    EXPECT_EQ(d, Find(base_, d["kind"], d["metadata"]["name"])) << Key(d);
  }
}

TEST_F(DeployManifestsTest, BaseAndOverlaysApplyToKubeLocal) {
  for (const std::string rel :
       {"base", "overlays/alongside-hami-scheduler", "overlays/alongside-hami-device-plugin"}) {
    SCOPED_TRACE(rel);
    kube::testing::ServerAndClient env;
    WriteKubeconfig(env.server()->url());
    auto [code, out] = Kubectl({"apply", "--validate=false", "--dry-run=server", "-k", Dir(rel)});
    ASSERT_EQ(code, 0) << out;
    EXPECT_TRUE(kube::IsNotFound(
        env.client().Get(kDaemonSets, "kube-system", "npushare-device-plugin").status()));
    std::tie(code, out) = Kubectl({"apply", "--validate=false", "-k", Dir(rel)});
    ASSERT_EQ(code, 0) << out;
    bool has_ds = rel != "overlays/alongside-hami-device-plugin";
    bool has_scheduler = rel != "overlays/alongside-hami-scheduler";
    EXPECT_EQ(env.client().Get(kDaemonSets, "kube-system", "npushare-device-plugin").ok(), has_ds);
    EXPECT_EQ(env.client().Get(kDeployments, "kube-system", "npushare-scheduler").ok(),
              has_scheduler);
    EXPECT_EQ(env.client().Get(kPdbs, "kube-system", "npushare-scheduler").ok(), has_scheduler);
    // A second apply is a no-op.
    std::tie(code, out) = Kubectl({"apply", "--validate=false", "-k", Dir(rel)});
    ASSERT_EQ(code, 0) << out;
    // Except the PodDisruptionBudget: its selector has patchStrategy "replace", so kubectl
    // always sends it and reports "configured", whatever the server.
    EXPECT_EQ(ConfiguredOtherThanPdb(out), "") << out;
    kubeconfig_.clear();
  }
}

}  // namespace
}  // namespace npushare
