// File: sim/kubelet/pod_worker.h
//
// PodWorker: one pod's life on the kubelet stand-in, in its own thread (kubelet's pod worker):
//   1. admission: KubeletSim::Allocate for every container's device-plugin resources, init
//      containers first, devices of init containers reusable by later containers (kubelet's
//      device manager); a failure makes the pod Failed, reason UnexpectedAdmissionError, with a
//      Warning event, and nothing runs;
//   2. init containers one at a time, each must exit 0 before the next starts;
//   3. app containers, restarted per restartPolicy (Always / OnFailure / Never) after a backoff
//      of initial_backoff doubling up to max_backoff (kubelet: 10 s doubling to 5 min);
//   4. status written through pods/status after every change (phase, conditions,
//      containerStatuses, initContainerStatuses, startTime, podIP 127.0.0.1);
//   5. end: devices released when the pod is terminal or its containers are killed; a pod with a
//      deletionTimestamp is killed with its grace period (capped at max_grace), then DELETEd
//      with gracePeriodSeconds=0; a pod gone from the API is killed and released.
// A pod the API shows Running that this process never ran (the stand-in restarted: its
// containers died with it) is treated as kubelet treats containers it cannot find: each lost
// container terminated with exit code 137, reason ContainerStatusUnknown, then the restart
// policy decides (Never: the pod is Failed; otherwise it is admitted and started again, restart
// counts carried over +1). Restarting blindly would hide the loss; failing every pod would make
// restartPolicy Always meaningless across a restart.
// Logs go to <root_dir>/pods/<uid>/<container>.log; the run before the current one is kept as
// <container>.previous.log.
//
// Thread safety: Update/Gone/Shutdown/FindLog may be called from any thread; everything else
// happens on the worker's own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"
#include "kube/clock.h"
#include "kube/kube_client.h"
#include "sim/container/container_runtime.h"
#include "sim/kubelet/container_logs_server.h"
#include "sim/kubelet/kubelet_sim.h"
#include "sim/kubelet/pod_status.h"

namespace npushare::kubelet_sim {

// PodWorkerContext: what every worker of one NodeAgent shares. Pointers outlive the workers.
struct PodWorkerContext {
  kube::KubeClient* client = nullptr;
  KubeletSim* devices = nullptr;
  container_sim::ContainerRuntime* runtime = nullptr;
  kube::Clock* clock = nullptr;
  Mutex* admission_mu = nullptr;  // one pod admitted at a time, as in kubelet
  std::string root_dir;
  std::chrono::milliseconds poll_interval{100};
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds max_grace{10000};
  // on_phase: called with ("<ns>/<name>", phase) whenever the written phase changes.
  std::function<void(const std::string&, const std::string&)> on_phase;
};

class PodWorker {
 public:
  PodWorker(const PodWorkerContext& ctx, nlohmann::json pod);
  // ~PodWorker: Shutdown() and join.
  ~PodWorker();
  PodWorker(const PodWorker&) = delete;
  PodWorker& operator=(const PodWorker&) = delete;

  // Start: runs the worker thread. REQUIRES: called once.
  void Start();
  // Update: a newer version of the pod (a deletionTimestamp starts the graceful end).
  void Update(const nlohmann::json& pod) NPUSHARE_EXCLUDES(mu_);
  // Gone: the pod was removed from the API: kill, release, no more writes.
  void Gone() NPUSHARE_EXCLUDES(mu_);
  // Shutdown: the agent stops: kill without grace, release, no more writes.
  void Shutdown();
  // Finished: the thread has returned (safe to destroy without blocking).
  bool Finished() const NPUSHARE_EXCLUDES(mu_);

  // FindLog: the log of `container` (or its previous run), nullopt when unknown.
  std::optional<LogTarget> FindLog(const std::string& container, bool previous) const;

  const std::string& uid() const { return uid_; }
  const std::string& key() const { return key_; }  // "<ns>/<name>"

 private:
  struct Slot;
  void Run();
  void Prepare();
  void Lifecycle();
  Status Admit();
  bool RunInitContainer(size_t i);
  void RunAppContainers();
  void StartSlot(Slot& s);
  bool Reap(Slot& s);
  void ScheduleRestart(Slot& s);
  void KillAll(std::chrono::milliseconds grace);
  void ReleaseDevices();
  void Publish();
  void WaitTick(std::optional<std::chrono::steady_clock::time_point> due);
  void WaitForEnd() NPUSHARE_EXCLUDES(mu_);
  bool Interrupted() const NPUSHARE_EXCLUDES(mu_);
  std::chrono::milliseconds GracePeriod() const NPUSHARE_EXCLUDES(mu_);
  std::string Now() const;
  void Event(const std::string& type, const std::string& reason, const std::string& message);
  nlohmann::json PodSnapshot() const NPUSHARE_EXCLUDES(mu_);
  std::string PodDir() const;

  const PodWorkerContext ctx_;
  const std::string uid_;
  const std::string namespace_;
  const std::string name_;
  const std::string key_;
  std::string restart_policy_ = "Always";

  mutable Mutex mu_;
  CondVar cv_;
  nlohmann::json pod_ NPUSHARE_GUARDED_BY(mu_);  // latest object
  bool deletion_requested_ NPUSHARE_GUARDED_BY(mu_) = false;
  bool gone_ NPUSHARE_GUARDED_BY(mu_) = false;
  bool shutdown_ NPUSHARE_GUARDED_BY(mu_) = false;
  bool finished_ NPUSHARE_GUARDED_BY(mu_) = false;
  PodStatusRecord status_ NPUSHARE_GUARDED_BY(mu_);  // for readers; written by the worker thread

  // Worker-thread state.
  std::vector<std::unique_ptr<Slot>> init_slots_;
  std::vector<std::unique_ptr<Slot>> app_slots_;
  bool terminal_at_start_ = false;
  bool lost_ = false;
  nlohmann::json last_published_;
  std::string last_phase_;
  std::string last_error_;  // the last status-write error printed
  std::thread thread_;
};

}  // namespace npushare::kubelet_sim
