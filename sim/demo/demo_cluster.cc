#include "sim/demo/demo_cluster.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/file_reader.h"
#include "common/yaml_json.h"
#include "dashboard/html_report.h"
#include "kube/objects.h"
#include "kube/resource.h"
#include "kube/rest_config.h"
#include "sim/kube/http_client.h"

extern char** environ;

namespace npushare::demo {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr auto kStopGrace = std::chrono::seconds(10);
constexpr auto kPodDrainTimeout = std::chrono::seconds(45);
constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string ToBase64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) {
    out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  }
  while (out.size() % 4 != 0) {
    out.push_back('=');
  }
  return out;
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return InternalError("cannot write " + path);
  }
  return OkStatus();
}

Status MakeDir(const std::string& dir, fs::perms perms = fs::perms(0750)) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return FailedPreconditionError("cannot create " + dir + ": " + ec.message());
  }
  fs::permissions(dir, perms, ec);
  return OkStatus();
}

Result<std::string> ReadText(const std::string& path) {
  auto text = ReadFileLimited(path, size_t{4} << 20);
  if (!text.ok()) {
    return FailedPreconditionError("cannot read " + path + ": " + text.status().message());
  }
  return *text;
}

// FirstDocument: the first YAML document of `path` whose kind is `kind`.
Result<json> FirstDocument(const std::string& path, const std::string& kind) {
  NPUSHARE_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  NPUSHARE_ASSIGN_OR_RETURN(auto docs, ParseYamlDocuments(text));
  for (auto& d : docs) {
    if (d.is_object() && d.value("kind", "") == kind) {
      return d;
    }
  }
  return InvalidArgumentError(path + " has no " + kind);
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

std::vector<DemoNodeSpec> DefaultDemoNodes() {
  return {{.name = "demo-910b-hard", .model = "910B3", .cards = 2, .soft = false},
          {.name = "demo-910b-soft", .model = "910B3", .cards = 2, .soft = true},
          {.name = "demo-310p", .model = "310P3", .cards = 1, .soft = false}};
}

Result<std::unique_ptr<DemoCluster>> DemoCluster::Start(ClusterOptions options) {
  std::unique_ptr<DemoCluster> c(new DemoCluster(std::move(options)));
  Status started = c->StartAll();
  if (!started.ok()) {
    c->Stop();
    return started;
  }
  return c;
}

DemoCluster::~DemoCluster() {
  Stop();
}

void DemoCluster::Progress(const std::string& line) const {
  if (options_.progress) {
    options_.progress(line);
  }
}

std::vector<std::string> DemoCluster::BaseEnv() const {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    if (kv.rfind("NPU_SIM_STATE=", 0) != 0 && kv.rfind("LD_LIBRARY_PATH=", 0) != 0 &&
        kv.rfind("NODE_NAME=", 0) != 0 && kv.rfind("KUBECONFIG=", 0) != 0) {
      env.push_back(kv);
    }
  }
  env.push_back("KUBECONFIG=" + kubeconfig_);
  return env;
}

std::vector<std::string> DemoCluster::NodeEnv(const NodePaths& node) const {
  std::vector<std::string> env = BaseEnv();
  env.push_back("NPU_SIM_STATE=" + node.npu_sim_state);
  env.push_back("LD_LIBRARY_PATH=" + options_.lib_dir);
  env.push_back("NODE_NAME=" + node.spec.name);
  return env;
}

Result<ManagedProcess*> DemoCluster::Launch(const std::string& name, std::vector<std::string> argv,
                                            std::vector<std::string> env) {
  ProcessSpec spec;
  spec.name = name;
  spec.argv = std::move(argv);
  spec.env = std::move(env);
  spec.log_path = options_.run_dir + "/logs/" + name + ".log";
  specs_.push_back(spec);
  auto p = ManagedProcess::Start(std::move(spec));
  if (!p.ok()) {
    specs_.pop_back();
    return p.status();
  }
  processes_.push_back(std::move(*p));
  return processes_.back().get();
}

Result<std::string> DemoCluster::StopComponent(const std::string& name,
                                               std::chrono::milliseconds grace) {
  for (auto& p : processes_) {
    if (p->name() == name) {
      return p->Stop(grace);
    }
  }
  return NotFoundError("no component named " + name);
}

Result<ManagedProcess*> DemoCluster::RestartComponent(const std::string& name) {
  for (size_t i = 0; i < processes_.size(); ++i) {
    if (processes_[i]->name() != name) {
      continue;
    }
    if (processes_[i]->Running()) {
      return FailedPreconditionError(name + " is still running; StopComponent it first");
    }
    // Same slot: Stop() keeps stopping components in the original start order.
    NPUSHARE_ASSIGN_OR_RETURN(processes_[i], ManagedProcess::Start(specs_[i]));
    Progress("restarted " + name);
    return processes_[i].get();
  }
  return NotFoundError("no component named " + name);
}

Result<CommandResult> DemoCluster::Kubectl(const std::vector<std::string>& args,
                                           std::chrono::seconds timeout) const {
  std::string kubectl = FindOnPath("kubectl");
  if (kubectl.empty()) {
    return NotFoundError("kubectl not found on PATH (Debian package: kubernetes-client)");
  }
  std::vector<std::string> argv = {kubectl};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env = BaseEnv();
  env.push_back("HOME=" + options_.run_dir);  // kubectl's discovery cache stays in the run dir
  return RunCommand(argv, env, timeout);
}

Result<CommandResult> DemoCluster::NpuSmi(const NodePaths& node,
                                          const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {Bin("npu-smi")};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, NodeEnv(node), std::chrono::seconds(20));
}

int DemoCluster::VnpuCount(const NodePaths& node, int card) const {
  auto r = NpuSmi(node, {"info", "-t", "info-vnpu", "-i", std::to_string(card), "-c", "0"});
  if (!r.ok() || r->exit_code != 0) {
    return -1;
  }
  const std::string key = "Total number of vnpu:";
  size_t at = r->output.find(key);
  if (at == std::string::npos) {
    return -1;
  }
  return std::atoi(r->output.c_str() + at + key.size());
}

Status DemoCluster::StartAll() {
  const std::string& run = options_.run_dir;
  for (const char* d : {"", "/logs", "/pki", "/kube-local", "/nodes"}) {
    NPUSHARE_RETURN_IF_ERROR(MakeDir(run + d));
  }
  kubeconfig_ = run + "/kubeconfig";
  NPUSHARE_RETURN_IF_ERROR(StartControlPlane());
  for (const DemoNodeSpec& spec : options_.nodes) {
    NodePaths node;
    node.spec = spec;
    node.dir = run + "/nodes/" + spec.name;
    node.npu_sim_state = node.dir + "/npu-sim";
    if (spec.soft) {
      node.arbiter_metrics = node.dir + "/arbiter.metrics";
    }
    NPUSHARE_RETURN_IF_ERROR(StartNode(node));
    nodes_.push_back(node);
  }
  return OkStatus();
}

Status DemoCluster::StartControlPlane() {
  const std::string& run = options_.run_dir;
  const std::string deploy = options_.source_dir + "/deploy";
  // TLS for the scheduler: its webhook is called as the service
  // npushare-scheduler.kube-system.svc (kube-local dials the address below instead).
  Progress("certificates (npushare certs)");
  NPUSHARE_ASSIGN_OR_RETURN(auto certs, RunCommand({Bin("npushare"), "certs", "--out", run + "/pki",
                                                    "--host", "npushare-scheduler.kube-system.svc",
                                                    "--host", "127.0.0.1", "--force"},
                                                   {}, std::chrono::seconds(60)));
  if (certs.exit_code != 0) {
    return FailedPreconditionError("npushare certs failed: " + certs.output);
  }
  ca_cert_ = run + "/pki/ca.crt";
  NPUSHARE_ASSIGN_OR_RETURN(int sched_port, FreeLoopbackPort());
  NPUSHARE_ASSIGN_OR_RETURN(int sched_metrics_port, FreeLoopbackPort());
  scheduler_metrics_port_ = sched_metrics_port;

  Progress("kube-local (persisting into " + run + "/kube-local)");
  NPUSHARE_ASSIGN_OR_RETURN(
      ManagedProcess * api,
      Launch("kube-local",
             {Bin("kube-local"), "--address", "127.0.0.1", "--port", "0", "--persist",
              run + "/kube-local", "--service-endpoint",
              "kube-system/npushare-scheduler:443=127.0.0.1:" + std::to_string(sched_port)},
             {}));
  NPUSHARE_ASSIGN_OR_RETURN(url_, api->WaitForLine("http://", options_.start_timeout));
  NPUSHARE_RETURN_IF_ERROR(
      WriteText(kubeconfig_,
                "apiVersion: v1\nkind: Config\nclusters:\n- name: npushare-demo\n  cluster:\n"
                "    server: " +
                    url_ +
                    "\ncontexts:\n- name: npushare-demo\n  context: {cluster: npushare-demo, "
                    "user: demo, namespace: default}\nusers:\n- name: demo\n  user: {}\n"
                    "current-context: npushare-demo\n"));
  ::chmod(kubeconfig_.c_str(), 0600);
  kube::RestConfig rc;
  rc.server = url_;
  rc.request_timeout = std::chrono::seconds(20);
  transport_ = std::make_unique<kube::CurlTransport>(rc);
  kube::ClientOptions co;
  co.qps = 0;
  client_ = std::make_unique<kube::KubeClient>(*transport_, co);

  Progress("npushare-scheduler (extender + webhook on 127.0.0.1:" + std::to_string(sched_port) +
           ")");
  NPUSHARE_ASSIGN_OR_RETURN(
      ManagedProcess * sched,
      Launch("npushare-scheduler",
             {Bin("npushare-scheduler"), "--http_bind=127.0.0.1:" + std::to_string(sched_port),
              "--cert_file=" + run + "/pki/tls.crt", "--key_file=" + run + "/pki/tls.key",
              "--scheduler-name=hami-scheduler",
              "--device-config-file=" + deploy + "/config/device-config.yaml",
              "--kubeconfig=" + kubeconfig_,
              "--metrics-bind-address=127.0.0.1:" + std::to_string(sched_metrics_port),
              "--leader-elect=false"},
             BaseEnv()));
  {
    auto http = kube_local::NewCurlOutboundHttp();
    kube_local::OutboundRequest req;
    req.method = "GET";
    req.url = "https://127.0.0.1:" + std::to_string(sched_port) + "/readyz";
    req.insecure_skip_verify = true;
    req.timeout = std::chrono::seconds(2);
    const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    for (;;) {
      auto r = http->Send(req);
      if (r.ok() && r->status_code == 200) {
        break;
      }
      if (!sched->Running() || std::chrono::steady_clock::now() > deadline) {
        return UnavailableError("npushare-scheduler did not become ready; its log " +
                                sched->log_path() + " ends with:\n" + sched->LogTail(1500));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling /readyz
    }
  }

  Progress("MutatingWebhookConfiguration + RuntimeClass (kubectl apply)");
  NPUSHARE_ASSIGN_OR_RETURN(json mwc,
                            FirstDocument(deploy + "/kustomize/base/mutating-webhook.yaml",
                                          "MutatingWebhookConfiguration"));
  NPUSHARE_ASSIGN_OR_RETURN(std::string ca_pem, ReadText(ca_cert_));
  for (auto& hook : mwc["webhooks"]) {
    hook["clientConfig"]["caBundle"] = ToBase64(ca_pem);
  }
  const std::string webhook_file = run + "/webhook.json";
  NPUSHARE_RETURN_IF_ERROR(WriteText(webhook_file, mwc.dump(2)));
  for (const std::string& file : {webhook_file, deploy + "/kustomize/base/runtimeclass.yaml"}) {
    NPUSHARE_ASSIGN_OR_RETURN(auto applied, Kubectl({"apply", "--validate=false", "-f", file}));
    if (applied.exit_code != 0) {
      return FailedPreconditionError("kubectl apply -f " + file + ": " + applied.output);
    }
  }

  Progress("kube-scheduler-sim (deploy/kustomize/base/scheduler-config.yaml)");
  NPUSHARE_ASSIGN_OR_RETURN(
      json cm, FirstDocument(deploy + "/kustomize/base/scheduler-config.yaml", "ConfigMap"));
  if (!cm.contains("data") || !cm["data"].contains("config.yaml") ||
      !cm["data"]["config.yaml"].is_string()) {
    return InvalidArgumentError("scheduler-config.yaml has no data.config.yaml");
  }
  // The shipped extender is the scheduler container beside kube-scheduler (127.0.0.1:443);
  // here it listens on sched_port. The stand-in does not elect a leader.
  std::string config = cm["data"]["config.yaml"].get<std::string>();
  config =
      Replace(config, "https://127.0.0.1:443", "https://127.0.0.1:" + std::to_string(sched_port));
  config = Replace(config, "leaderElect: true", "leaderElect: false");
  const std::string config_file = run + "/scheduler-config.yaml";
  NPUSHARE_RETURN_IF_ERROR(WriteText(config_file, config));
  NPUSHARE_ASSIGN_OR_RETURN(ManagedProcess * ks, Launch("kube-scheduler-sim",
                                                        {Bin("kube-scheduler-sim"), "--config",
                                                         config_file, "--kubeconfig", kubeconfig_},
                                                        BaseEnv()));
  NPUSHARE_RETURN_IF_ERROR(ks->WaitForLine("ready", options_.start_timeout).status());

  std::string node_config = "nodes:\n";
  for (const auto& n : options_.nodes) {
    node_config +=
        "- name: \"" + n.name + "\"\n  hami-vnpu-core: " + (n.soft ? "true" : "false") + "\n";
  }
  return WriteText(run + "/node-config.yaml", node_config);
}

Status DemoCluster::StartNode(NodePaths& node) {
  const std::string& d = node.dir;
  for (const char* sub :
       {"", "/device-plugins", "/kubelet", "/shares", "/quota", "/arbiter", "/tenants"}) {
    NPUSHARE_RETURN_IF_ERROR(MakeDir(d + sub));
  }
  NPUSHARE_RETURN_IF_ERROR(MakeDir(node.npu_sim_state, fs::perms(0700)));
  Progress("node " + node.spec.name + ": npu-sim " + std::to_string(node.spec.cards) + "x " +
           node.spec.model + (node.spec.soft ? " (soft slicing)" : ""));
  NPUSHARE_RETURN_IF_ERROR(WriteText(d + "/node.yaml",
                                     "version: 1\ndriver_version: \"25.5.2\"\n"
                                     "model: " +
                                         node.spec.model +
                                         "\ncards: " + std::to_string(node.spec.cards) + "\n"));
  NPUSHARE_ASSIGN_OR_RETURN(auto init, RunCommand({Bin("npu-sim"), "init", d + "/node.yaml"},
                                                  NodeEnv(node), std::chrono::seconds(30)));
  if (init.exit_code != 0) {
    return FailedPreconditionError("npu-sim init for " + node.spec.name + ": " + init.output);
  }
  const std::string& name = node.spec.name;
  if (node.spec.soft) {
    NPUSHARE_ASSIGN_OR_RETURN(ManagedProcess * arbiter,
                              Launch(name + "-arbiter",
                                     {Bin("npushare-arbiter"), "--grant-dir", d + "/arbiter",
                                      "--tenants-dir", d + "/tenants", "--shares-dir",
                                      d + "/shares", "--metrics-file", node.arbiter_metrics},
                                     NodeEnv(node)));
    NPUSHARE_RETURN_IF_ERROR(arbiter->WaitForLine("READY", options_.start_timeout).status());
  }
  NPUSHARE_ASSIGN_OR_RETURN(ManagedProcess * kubelet,
                            Launch(name + "-kubelet",
                                   {Bin("kubelet-sim"),
                                    "--dir",
                                    d + "/device-plugins",
                                    "--node",
                                    name,
                                    "--kubeconfig",
                                    kubeconfig_,
                                    "--root-dir",
                                    d + "/kubelet",
                                    "--runtime",
                                    options_.runtime,
                                    "--ascend-hook",
                                    Bin("npushare-ascend-hook"),
                                    "--driver-dir",
                                    options_.bin_dir,
                                    "--driver-dir",
                                    options_.lib_dir,
                                    "--driver-env",
                                    "NPU_SIM_STATE=" + node.npu_sim_state,
                                    "--driver-env",
                                    "LD_LIBRARY_PATH=" + options_.lib_dir,
                                    "--driver-env",
                                    "PATH=" + options_.bin_dir + ":" + kDefaultPath,
                                    "--label",
                                    "ascend=on",
                                    "--label",
                                    "kubernetes.io/hostname=" + name,
                                    "--port",
                                    "0"},
                                   NodeEnv(node)));
  NPUSHARE_RETURN_IF_ERROR(kubelet->WaitForLine("NODE ", options_.start_timeout).status());
  std::vector<std::string> argv = {Bin("npushare-device-plugin"),
                                   "--config_file",
                                   options_.source_dir + "/deploy/config/device-config.yaml",
                                   "--node_config_file",
                                   options_.run_dir + "/node-config.yaml",
                                   "--device-plugin-path",
                                   d + "/device-plugins/",
                                   "--kubeconfig",
                                   kubeconfig_,
                                   "--metrics-bind-address",
                                   "127.0.0.1:0",
                                   "--device-poll-interval-ms",
                                   "1000",
                                   "--npu-smi",
                                   Bin("npu-smi"),
                                   "--shares-dir",
                                   d + "/shares",
                                   "--quota-root",
                                   d + "/quota",
                                   "--grant-dir",
                                   d + "/arbiter",
                                   "--tenants-dir",
                                   d + "/tenants",
                                   "--arbiter-metrics-file",
                                   d + "/arbiter.metrics",
                                   "--report_time_offset",
                                   "1"};
  if (node.spec.soft) {
    argv.insert(argv.end(), {"--libvnpu", options_.lib_dir + "/libvnpu.so", "--ld-so-preload",
                             d + "/ld.so.preload"});
  }
  NPUSHARE_ASSIGN_OR_RETURN(ManagedProcess * plugin,
                            Launch(name + "-device-plugin", argv, NodeEnv(node)));
  NPUSHARE_ASSIGN_OR_RETURN(std::string ready,
                            plugin->WaitForLine("READY metrics_port=", options_.start_timeout));
  node.metrics_port = std::atoi(ready.c_str() + std::string("READY metrics_port=").size());
  // A restart (RestartComponent) must come back on the same port: the node annotation below
  // names it, and nothing would update it. The spec is the one Launch just recorded.
  for (std::string& arg : specs_.back().argv) {
    if (arg == "127.0.0.1:0") {
      arg = "127.0.0.1:" + std::to_string(node.metrics_port);
    }
  }
  // The dashboard finds a plugin's /metrics by its pod IP in a real cluster; these plugins are
  // processes on 127.0.0.1 ports, so tell it with the override annotation.
  const std::string metrics_url =
      "http://127.0.0.1:" + std::to_string(node.metrics_port) + "/metrics";
  NPUSHARE_RETURN_IF_ERROR(
      client_
          ->Patch(kube::kNodes, "", name, kube::PatchType::kMerge,
                  {{"metadata", {{"annotations", {{"npushare.io/metrics-url", metrics_url}}}}}})
          .status()
          .WithContext("while annotating node " + name + " with its metrics URL"));
  return OkStatus();
}

Status DemoCluster::WriteDashboardReport(const std::string& path) const {
  auto http = kube_local::NewCurlOutboundHttp();
  kube_local::OutboundRequest req;
  req.method = "GET";
  req.url = "http://127.0.0.1:" + std::to_string(scheduler_metrics_port_) +
            "/api/v1/cluster?history_points=300";
  req.timeout = std::chrono::seconds(10);
  NPUSHARE_ASSIGN_OR_RETURN(auto res, http->Send(req));
  if (res.status_code != 200) {
    return UnavailableError("GET " + req.url + " answered HTTP " + std::to_string(res.status_code));
  }
  return dashboard::WriteHtmlReportFromJson(path, res.body);
}

CleanupReport DemoCluster::Stop() {
  CleanupReport report;
  if (stopped_) {
    return report;
  }
  stopped_ = true;
  if (client_) {
    // Pods first, while the kubelets run: they stop the containers (the Ascend hook's poststop
    // destroys the vNPUs) and finish each deletion.
    auto pods = client_->ListAll(kube::kPods, "", {});
    if (pods.ok()) {
      for (const auto& p : (*pods)["items"]) {
        client_
            ->Delete(kube::kPods, kube::StringField(p["metadata"], "namespace"),
                     kube::StringField(p["metadata"], "name"))
            .IgnoreError();
      }
      const auto deadline = std::chrono::steady_clock::now() + kPodDrainTimeout;
      for (;;) {
        auto left = client_->ListAll(kube::kPods, "", {});
        if (!left.ok() || (*left)["items"].empty() || std::chrono::steady_clock::now() > deadline) {
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polling the pod list
      }
    }
    client_.reset();
    transport_.reset();
  }
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
    Progress("stopping " + (*it)->name() + ": " + (*it)->Stop(kStopGrace));
  }
  for (const auto& p : processes_) {
    if (!p->GroupGone()) {
      report.processes.push_back(p->name() + " (process group " + std::to_string(p->pid()) + ")");
    }
  }
  std::ifstream mountinfo("/proc/self/mountinfo");
  const std::string prefix = options_.run_dir + "/";
  for (std::string line; std::getline(mountinfo, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    if (point.rfind(prefix, 0) == 0) {
      report.mounts.push_back(point);
    }
  }
  for (const auto& node : nodes_) {
    if (node.spec.soft) {
      continue;  // soft slices never create vNPUs
    }
    for (int card = 0; card < node.spec.cards; ++card) {
      int n = VnpuCount(node, card);
      if (n < 0) {
        report.errors.push_back(node.spec.name + " card " + std::to_string(card) +
                                ": cannot list vNPUs");
      } else if (n > 0) {
        report.vnpus.push_back(node.spec.name + " card " + std::to_string(card) + ": " +
                               std::to_string(n) + " vNPU(s)");
      }
    }
  }
  processes_.clear();
  return report;
}

}  // namespace npushare::demo
