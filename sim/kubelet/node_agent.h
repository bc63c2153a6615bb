// File: sim/kubelet/node_agent.h
//
// NodeAgent: the pod side of the kubelet stand-in (local-cluster contract C). Next to KubeletSim
// (the device manager) it plays what kubelet does against the API server for one node:
//   - registers the Node (created, or labels merged into an existing one) with status:
//     capacity/allocatable = each device-plugin resource's ListAndWatch devices / healthy ones,
//     plus fixed cpu/memory/pods; labels (options + kubernetes.io/hostname, os, arch); condition
//     Ready=True; addresses InternalIP 127.0.0.1 and Hostname; daemonEndpoints.kubeletEndpoint.
//     Port = the logs server's port; then a status heartbeat every heartbeat_interval and at
//     once when a plugin's device list changes;
//   - watches the pods bound to it (Informer, fieldSelector spec.nodeName=<node>) and runs each
//     in a PodWorker (pod_worker.h: admission through KubeletSim::Allocate, init then app
//     containers on the ContainerRuntime, restartPolicy, status, deletion);
//   - serves container logs over HTTP (container_logs_server.h) on logs_address:logs_port.
// Not emulated: node leases (kube-node-lease), probes, pod-level resource accounting, image
// pulls (the image is ignored: containers run the host view, see docs/kubelet-sim.md).
//
// Usage:
//   NodeAgent agent(client, *kubelet, *runtime, {.node_name = "node-a", .root_dir = dir});
//   NPUSHARE_RETURN_IF_ERROR(agent.Start());
//   printf("NODE %s port=%d\n", "node-a", agent.port());
//   ...
//   agent.Stop();
//
// Thread safety: Start/Stop from one thread; port/FindLog/Registered from any thread. The
// client, KubeletSim, runtime and clock must outlive the agent.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "kube/clock.h"
#include "kube/informer.h"
#include "kube/kube_client.h"
#include "sim/container/container_runtime.h"
#include "sim/kubelet/container_logs_server.h"
#include "sim/kubelet/kubelet_sim.h"
#include "sim/kubelet/pod_worker.h"

namespace npushare::kubelet_sim {

// NodeAgentOptions: the node's identity and the agent's timing. Defaults suit the demo.
struct NodeAgentOptions {
  // --- correctness ---
  std::string node_name;  // REQUIRES: a DNS subdomain
  // root_dir: pod logs (<root_dir>/pods/<uid>/<container>.log) and emptyDir volumes.
  std::string root_dir;
  // labels: the Node's labels besides kubernetes.io/{hostname,os,arch}. Default ascend=on.
  std::map<std::string, std::string> labels{{"ascend", "on"}};
  std::string logs_address = "127.0.0.1";
  int logs_port = 0;  // 0: ephemeral (see port())
  // Fixed node resources next to the device-plugin ones (generous: the demo's pods fit).
  std::string cpu = "64";
  std::string memory = "256Gi";
  std::string pods = "110";
  // container_runtime_version: nodeInfo.containerRuntimeVersion, e.g. "runc://sim".
  std::string container_runtime_version = "sim://";
  // max_grace: cap on a pod's termination grace period (tests and the demo end quickly).
  std::chrono::milliseconds max_grace{10000};
  // on_phase: told "<ns>/<name>" and the phase each time a pod's written phase changes.
  std::function<void(const std::string&, const std::string&)> on_phase;

  // --- parameters that affect performance ---
  std::chrono::milliseconds heartbeat_interval{10000};
  // poll_interval: how often running containers are checked for exit (lower: status sooner,
  // more wakeups).
  std::chrono::milliseconds poll_interval{100};
  // Restart backoff: initial, doubling per restart, capped (kubelet: 10 s to 5 min; low here so
  // a crash-looping pod is visible within a test).
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{10000};
};

// NodeAgentStats: counters for tests.
struct NodeAgentStats {
  uint64_t node_status_writes = 0;  // successful Node status patches
  uint64_t pods_seen = 0;           // pod workers started
};

class NodeAgent {
 public:
  NodeAgent(kube::KubeClient& client, KubeletSim& devices, container_sim::ContainerRuntime& runtime,
            NodeAgentOptions options, kube::Clock& clock = kube::RealClock());
  // ~NodeAgent: Stop().
  ~NodeAgent();
  NodeAgent(const NodeAgent&) = delete;
  NodeAgent& operator=(const NodeAgent&) = delete;

  // Start: serves logs, registers the Node (one attempt: an API error is returned and the agent
  // is left stopped), then starts the pod informer and the heartbeat. Errors: kInvalidArgument
  // for missing options, kUnavailable when the logs port cannot be bound, the client's errors.
  // REQUIRES: called once.
  Status Start();
  // Stop: stops watching, kills every container at once (grace 0) and releases its devices
  // without writing pod status (the pods stay as the API last saw them; a restarted agent finds
  // them, see pod_worker.h), stops the heartbeat and the logs server. Idempotent.
  void Stop();

  // port: the logs server's port (valid after Start).
  int port() const { return port_; }
  // FindLog: what the logs server serves for `key`.
  std::optional<LogTarget> FindLog(const LogKey& key) const;
  NodeAgentStats Stats() const NPUSHARE_EXCLUDES(mu_);

 private:
  Status RegisterNode();
  Status WriteNodeStatus(const std::map<std::string, std::pair<size_t, size_t>>& devices);
  void HeartbeatLoop();
  void OnPod(const nlohmann::json& pod);
  void OnPodGone(const nlohmann::json& pod);
  void ReapFinishedLocked() NPUSHARE_REQUIRES(mu_);

  kube::KubeClient& client_;
  KubeletSim& devices_;
  container_sim::ContainerRuntime& runtime_;
  const NodeAgentOptions options_;
  kube::Clock& clock_;

  // Construction order: the logs server and informer are stopped before the workers go.
  Mutex admission_mu_;  // one pod admitted at a time (kubelet's admission is serial)
  std::unique_ptr<ContainerLogsServer> logs_;
  int port_ = 0;
  std::string ready_since_;

  mutable Mutex mu_;
  CondVar cv_;
  std::map<std::string, std::unique_ptr<PodWorker>> workers_
      NPUSHARE_GUARDED_BY(mu_);  // by pod uid
  NodeAgentStats stats_ NPUSHARE_GUARDED_BY(mu_);
  // written_devices_: resource -> (capacity, allocatable) last written to the Node.
  std::map<std::string, std::pair<size_t, size_t>> written_devices_ NPUSHARE_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point written_at_ NPUSHARE_GUARDED_BY(mu_);
  bool stopping_ NPUSHARE_GUARDED_BY(mu_) = false;

  std::unique_ptr<kube::Informer> pods_;
  std::thread heartbeat_;
  std::atomic<bool> stop_heartbeat_{false};
  std::atomic<bool> started_{false};
};

}  // namespace npushare::kubelet_sim
