// File: sim/demo/demo_cluster.h
//
// DemoCluster: a whole Ascend-sharing cluster on this machine, every component a real process
// (issue 12): kube-local (persisting into the run directory), npushare-scheduler (its webhook
// registered through a MutatingWebhookConfiguration, TLS from `npushare certs`),
// kube-scheduler-sim on the shipped KubeSchedulerConfiguration, and per simulated node its own
// npu-sim state, kubelet-sim with the pod lifecycle, npushare-device-plugin and, on a
// soft-slicing node, npushare-arbiter.
//
// Layout of the run directory:
//   kubeconfig, pki/, kube-local/ (the store), logs/<component>.log, scheduler-config.yaml,
//   webhook.json, node-config.yaml, nodes/<node>/{npu-sim,device-plugins,kubelet,shares,quota,
//   arbiter,tenants,ld.so.preload,arbiter.metrics}
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(auto cluster, DemoCluster::Start(options));
//   cluster->Kubectl({"apply", "-f", "pods.yaml"});
//   CleanupReport leftovers = cluster->Stop();
//
// Thread safety: one controlling thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"
#include "sim/demo/command.h"
#include "sim/demo/managed_process.h"

namespace npushare::demo {

// DemoNodeSpec: one simulated node.
struct DemoNodeSpec {
  std::string name;
  std::string model;  // npu-sim model: 910B3, 310P3
  int cards = 2;
  bool soft = false;  // hami-vnpu-core: soft slicing (and an arbiter) on this node
};

// DefaultDemoNodes: 910B3 hard-slice node, 910B3 soft-slice node, 310P3 node.
std::vector<DemoNodeSpec> DefaultDemoNodes();

struct ClusterOptions {
  std::string run_dir;           // created if missing (0750)
  std::string bin_dir;           // where the npushare and sim binaries are
  std::string lib_dir;           // npu-sim libraries, libvnpu.so
  std::string source_dir;        // deploy/ and examples/ are read from here
  std::string runtime = "auto";  // kubelet-sim --runtime
  std::vector<DemoNodeSpec> nodes = DefaultDemoNodes();
  std::chrono::seconds start_timeout{60};
  std::function<void(const std::string&)> progress;  // one line per step (may be empty)
};

// NodePaths: where a node's pieces live.
struct NodePaths {
  DemoNodeSpec spec;
  std::string dir;
  std::string npu_sim_state;
  std::string arbiter_metrics;  // empty on a hard node
  int metrics_port = 0;         // device plugin /metrics
};

// CleanupReport: what Stop() found left behind (empty lists: clean).
struct CleanupReport {
  std::vector<std::string> processes;  // components whose process group survived
  std::vector<std::string> mounts;     // mount points under the run directory
  std::vector<std::string> vnpus;      // "<node> card <c>: <n> vNPU(s)"
  std::vector<std::string> errors;     // checks that could not be made
  bool clean() const {
    return processes.empty() && mounts.empty() && vnpus.empty() && errors.empty();
  }
};

class DemoCluster {
 public:
  // Start: brings every component up in dependency order, each awaited on its own ready
  // signal. On failure everything started so far is stopped and the error names the
  // component and its log.
  static Result<std::unique_ptr<DemoCluster>> Start(ClusterOptions options);
  ~DemoCluster();
  DemoCluster(const DemoCluster&) = delete;
  DemoCluster& operator=(const DemoCluster&) = delete;

  // Kubectl: kubectl with this cluster's kubeconfig. kNotFound when kubectl is not installed.
  Result<CommandResult> Kubectl(const std::vector<std::string>& args,
                                std::chrono::seconds timeout = std::chrono::seconds(60)) const;
  // NpuSmi: npu-smi against `node`'s npu-sim state.
  Result<CommandResult> NpuSmi(const NodePaths& node, const std::vector<std::string>& args) const;
  // VnpuCount: vNPUs on `node`'s card (npu-smi info -t info-vnpu), -1 when unreadable.
  int VnpuCount(const NodePaths& node, int card) const;

  // Stop: deletes the pods (so kubelets stop containers and the Ascend hook destroys vNPUs),
  // stops every component (SIGTERM, then SIGKILL to its process group), then checks for
  // leftovers. Idempotent; the second call returns an empty report.
  CleanupReport Stop();

  kube::KubeClient& client() { return *client_; }
  const std::string& kubeconfig() const { return kubeconfig_; }
  const std::string& server_url() const { return url_; }
  // dashboard_url: npushare-scheduler's dashboard page (its metrics port, /ui).
  std::string dashboard_url() const {
    return "http://127.0.0.1:" + std::to_string(scheduler_metrics_port_) + "/ui";
  }
  // WriteDashboardReport: fetches the scheduler's /api/v1/cluster (whole history) and writes
  // the self-contained HTML report (dashboard/html_report.h) to `path`. Call before Stop().
  Status WriteDashboardReport(const std::string& path) const;
  const std::vector<NodePaths>& nodes() const { return nodes_; }
  const ClusterOptions& options() const { return options_; }

  // Fault injection (issue 12's "delete the scheduler or a device plugin mid-run"). `name` is
  // the component's log name: "npushare-scheduler", "<node>-device-plugin", "<node>-kubelet".
  // StopComponent: SIGTERM, then SIGKILL to its process group after `grace` (0: killed at
  // once, as a crash). @return the exit status text; kNotFound for an unknown name.
  Result<std::string> StopComponent(const std::string& name, std::chrono::milliseconds grace);
  // RestartComponent: starts a stopped component again with its original command line and
  // environment, appending to its log; the caller awaits its ready signal on the result
  // (e.g. WaitForLine("READY metrics_port=")). kFailedPrecondition while it still runs.
  Result<ManagedProcess*> RestartComponent(const std::string& name);

 private:
  explicit DemoCluster(ClusterOptions options) : options_(std::move(options)) {}
  Status StartAll();
  Status StartControlPlane();
  Status StartNode(NodePaths& node);
  Result<ManagedProcess*> Launch(const std::string& name, std::vector<std::string> argv,
                                 std::vector<std::string> env);
  std::vector<std::string> BaseEnv() const;
  std::vector<std::string> NodeEnv(const NodePaths& node) const;
  std::string Bin(const std::string& name) const { return options_.bin_dir + "/" + name; }
  void Progress(const std::string& line) const;

  ClusterOptions options_;
  std::string kubeconfig_;
  std::string url_;
  std::string ca_cert_;
  int scheduler_metrics_port_ = 0;
  std::vector<NodePaths> nodes_;
  // processes_ in start order; stopped in reverse.
  std::vector<std::unique_ptr<ManagedProcess>> processes_;
  std::vector<ProcessSpec> specs_;  // specs_[i] started processes_[i] (for RestartComponent)
  std::unique_ptr<kube::CurlTransport> transport_;
  std::unique_ptr<kube::KubeClient> client_;
  bool stopped_ = false;
};

}  // namespace npushare::demo
