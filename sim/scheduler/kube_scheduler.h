// File: sim/scheduler/kube_scheduler.h
//
// KubeScheduler: the kube-scheduler stand-in. It schedules the pending pods whose
// spec.schedulerName is one of the configuration's profiles, the way kube-scheduler does with
// extenders (k8s-apis.md §2.2):
//   1. in-tree filters (node_fit.h) over every node, counting what bound pods and pods assumed
//      by this scheduler (bound a moment ago, not yet seen by the informer) request;
//   2. each interested extender with a filterVerb, in order (ignorable ones last), on the
//      survivors of the previous step; an ignorable extender's error is logged and skipped,
//      another's fails the attempt (scheduler error, retried with backoff);
//   3. no node left: the pod gets condition PodScheduled=False, reason Unschedulable, message
//      "0/N nodes are available: <count> <reason>, ..." and a FailedScheduling event;
//   4. several nodes: the highest score wins (least-allocated cpu/memory 0..100 plus each
//      interested prioritizer's score x weight x 10), ties broken by node name;
//   5. bind, asynchronously as kube-scheduler's binding cycle: through the interested extender
//      with a bindVerb (an ignorable one's failure falls back), else POST pods/<name>/binding;
//      then a Scheduled event.
// Queueing follows kube-scheduler's scheduling queue: an unschedulable pod waits for a cluster
// change (a node added or changed, a pod deleted or finished, the pod itself changed outside
// its status) and is then retried once its backoff has passed (podInitialBackoffSeconds,
// doubling per attempt up to podMaxBackoffSeconds: 1 s .. 10 s by default), or after
// `unschedulable_flush` without any change; a change during the attempt sends it straight to
// backoff (no lost wake-up). Errors (extender down, bind failed) go to backoff directly.
// Not done: preemption, prioritize of in-tree plugins other than least-allocated, pod
// affinity/anti-affinity, topology spread, volume checks, leader election, multiple profiles
// with different plugin sets (every profile behaves the same).
//
// Usage:
//   SchedulerOptions opts;
//   NPUSHARE_ASSIGN_OR_RETURN(opts.config, LoadSchedulerConfigFile(path));
//   KubeScheduler scheduler(client, std::move(opts));
//   NPUSHARE_RETURN_IF_ERROR(scheduler.Start(std::chrono::seconds(30)));
//   ...
//   scheduler.Stop();
//
// Thread safety: Start/Stop from one controlling thread; Stats() from any thread. Work runs on
// the informers' threads, one scheduling thread and `bind_threads` binding threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "kube/clock.h"
#include "kube/informer.h"
#include "kube/kube_client.h"
#include "sim/kube/http_client.h"
#include "sim/scheduler/extender_client.h"
#include "sim/scheduler/node_fit.h"
#include "sim/scheduler/scheduler_config.h"

namespace npushare::kube_scheduler_sim {

struct SchedulerOptions {
  // --- correctness ---
  SchedulerConfig config;
  // http: how extenders are called. Default: libcurl.
  std::shared_ptr<kube_local::OutboundHttp> http;
  // clock: backoff timing. Default the real clock. REQUIRES: outlives the scheduler.
  kube::Clock* clock = nullptr;
  // unschedulable_flush: an unschedulable pod is retried after this long even without a
  // cluster change (kube-scheduler's podMaxInUnschedulablePodsDuration). Default 5 min.
  std::chrono::milliseconds unschedulable_flush{std::chrono::minutes(5)};
  // --- parameters that affect performance ---
  // bind_threads: binding cycles run concurrently with scheduling. Default 4.
  int bind_threads = 4;
};

// SchedulerStats: counters for tests and logs.
struct SchedulerStats {
  uint64_t attempts = 0;       // scheduling cycles run
  uint64_t scheduled = 0;      // pods bound
  uint64_t unschedulable = 0;  // cycles that found no node
  uint64_t errors = 0;         // cycles or binds that failed with an error
  uint64_t extender_filter_calls = 0;
  uint64_t extender_bind_calls = 0;
  uint64_t extender_skipped = 0;  // pods an extender was not interested in
};

class KubeScheduler {
 public:
  // KubeScheduler: REQUIRES: client outlives this.
  KubeScheduler(kube::KubeClient& client, SchedulerOptions options);
  // ~KubeScheduler: Stop()s.
  ~KubeScheduler();
  KubeScheduler(const KubeScheduler&) = delete;
  KubeScheduler& operator=(const KubeScheduler&) = delete;

  // Start: starts the pod and node informers, waits up to `sync_timeout` for their first list,
  // then starts scheduling. @return kDeadlineExceeded when the caches did not sync (the
  // informers keep trying; call Stop()). REQUIRES: called once.
  Status Start(std::chrono::milliseconds sync_timeout);
  // Stop: ends scheduling and binding (an in-flight call finishes first) and the informers.
  // Idempotent.
  void Stop();

  SchedulerStats Stats() const NPUSHARE_EXCLUDES(mu_);

 private:
  enum class Outcome { kDone, kBinding, kUnschedulable, kError };
  // Placement: a pod counted on a node (bound and not terminal, or assumed).
  struct Placement {
    std::string node;
    ResourceList requests;
  };
  using Assumed = Placement;
  struct NodeEntry {
    std::shared_ptr<const nlohmann::json> node;
    ResourceList allocatable;  // parsed once per node version
  };
  struct Unschedulable {
    std::chrono::steady_clock::time_point backoff_until;
    std::chrono::steady_clock::time_point since;
  };
  struct BindTask {
    std::string key;
    nlohmann::json pod;
    std::string node;
    const ExtenderClient* binder = nullptr;  // null: default binding
  };

  void OnPodAdd(const nlohmann::json& pod);
  void OnPodUpdate(const nlohmann::json& old_pod, const nlohmann::json& new_pod);
  void OnPodDelete(const nlohmann::json& pod);
  void OnClusterChange();
  bool IsOurPending(const nlohmann::json& pod) const;

  void ScheduleLoop() NPUSHARE_EXCLUDES(mu_);
  void BindLoop() NPUSHARE_EXCLUDES(mu_);
  // ScheduleOne: one scheduling cycle; `message` explains kUnschedulable / kError.
  Outcome ScheduleOne(const std::string& key, std::string* message);
  void Bind(BindTask task);
  // Requeue: after a failed cycle (caller holds no lock).
  void Requeue(const std::string& key, Outcome outcome, uint64_t cycle_event_seq)
      NPUSHARE_EXCLUDES(mu_);
  std::chrono::steady_clock::duration BackoffFor(int attempts) const;
  void ReportFailure(const nlohmann::json& pod, const std::string& reason,
                     const std::string& message);
  // TrackPodLocked: keeps placed_/usage_ in step with one pod's latest state (null: deleted)
  // and retires its assumption once the informer shows it bound. REQUIRES: mu_ held.
  void TrackPodLocked(const std::string& key, const nlohmann::json* pod) NPUSHARE_REQUIRES(mu_);
  void AddUsageLocked(const std::string& node, const ResourceList& requests, int sign)
      NPUSHARE_REQUIRES(mu_);
  void OnNode(const nlohmann::json& node, bool deleted);

  kube::KubeClient& client_;
  SchedulerOptions options_;
  kube::Clock& clock_;
  std::set<std::string> names_;
  std::set<std::string> ignored_;
  std::vector<ExtenderClient> extenders_;
  // Informers come after everything their handlers touch and are stopped first (Stop()).
  std::unique_ptr<kube::Informer> pods_;
  std::unique_ptr<kube::Informer> nodes_;

  mutable Mutex mu_;
  CondVar cv_;
  bool stopping_ NPUSHARE_GUARDED_BY(mu_) = false;
  std::deque<std::string> active_ NPUSHARE_GUARDED_BY(mu_);
  std::set<std::string> in_active_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, std::chrono::steady_clock::time_point> backoff_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, Unschedulable> unschedulable_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, int> attempts_ NPUSHARE_GUARDED_BY(mu_);
  std::set<std::string> in_flight_ NPUSHARE_GUARDED_BY(mu_);  // (cycle or binding)
  std::map<std::string, Assumed> assumed_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, NodeEntry> node_index_ NPUSHARE_GUARDED_BY(mu_);  // by node name
  std::map<std::string, Placement> placed_ NPUSHARE_GUARDED_BY(mu_);      // bound pods
  std::map<std::string, NodeUsage> usage_ NPUSHARE_GUARDED_BY(mu_);       // placed_ + assumed_
  uint64_t event_seq_ NPUSHARE_GUARDED_BY(mu_) = 0;
  std::deque<BindTask> bind_queue_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, std::string> reported_ NPUSHARE_GUARDED_BY(mu_);  // key -> last message
  SchedulerStats stats_ NPUSHARE_GUARDED_BY(mu_);

  std::thread schedule_thread_;
  std::vector<std::thread> bind_threads_;
  bool started_ = false;
};

}  // namespace npushare::kube_scheduler_sim
