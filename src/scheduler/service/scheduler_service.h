// File: scheduler/service/scheduler_service.h
//
// SchedulerService: npushare-scheduler's scheduling service behind the extender HTTP routes
// (scheduler/extender_service.h). It owns:
//   * a node cache fed by a node informer: per node the registered devices decoded from
//     `hami.io/node-register-<cw>` (+ `hami-vnpu-core`), parsed in the informer handlers, with
//     the handshake protocol (hami-protocol.md §2.2) run every `register_tick`;
//   * a usage cache fed by a pod informer: per node the allocations of non-terminated pods
//     (`hami.io/<cw>-devices-allocated`), plus "assumed" pods chosen by Filter whose
//     annotations have not come back through the watch yet;
//   * Filter (choose + assume serialised; annotations written with one merge patch, by the
//     leader in the background (annotation_writer.h: Bind waits for it), by a follower before
//     it answers; a pod that
//     fits nowhere gets a Warning Event "FilteringFailed" with the dry run's summary, at most
//     once a minute per pod and summary) and Bind (leader only: node lock -> binding
//     subresource carrying bind-phase/bind-time, which the API server merges atomically;
//     on failure the lock is released and the error returned; the lock is taken with one
//     conditional patch when the informer's copy of the node shows it free, with the full
//     GET-decide-patch protocol otherwise or when that patch is refused: cached_node_lock.h);
//   * the device config, re-read when its file changes (a bad file keeps the last good one);
//   * Prometheus series (MetricsText()).
//
// Usage:
//   SchedulerServiceOptions opts;
//   opts.scheduler_name = "hami-scheduler";
//   opts.device_config_file = "/device-config.yaml";
//   NPUSHARE_ASSIGN_OR_RETURN(auto svc, SchedulerService::Create(client, clock, opts));
//   NPUSHARE_RETURN_IF_ERROR(svc->Start());   // informers + background loops
//   svc->SetLeader(true);                     // from LeaderElector callbacks (or always, when
//                                             // leader election is off)
//   ... HTTP layer calls svc->Filter(args), svc->Bind(args), svc->Ready(), MetricsText() ...
//   ... webhook reads svc->CurrentDeviceConfig() ...
//   svc->Stop();
//
// Thread safety: all public methods are safe for concurrent use.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "config/device_config.h"
#include "kube/clock.h"
#include "kube/kube_client.h"
#include "scheduler/extender_service.h"
#include "scheduler/service/cluster_cache.h"

namespace npushare::scheduler {

struct SchedulerServiceOptions {
  // --- correctness ---
  // scheduler_name: --scheduler-name; written nowhere, used as the Event source component.
  std::string scheduler_name = "hami-scheduler";
  // device_config_file: --device-config-file (bare device-config.yaml or a ConfigMap manifest).
  // REQUIRES: non-empty (Create() fails with kInvalidArgument otherwise: there are no built-in
  // chip defaults). Watched for changes (polled every config_poll_period).
  std::string device_config_file;
  // node_policy / device_policy: --node-scheduler-policy / --gpu-scheduler-policy defaults
  // ("binpack" | "spread"); pods override with hami.io/node-scheduler-policy etc.
  std::string node_policy = "binpack";
  std::string device_policy = "spread";
  // hami_vnpu_core_global: forces vnpus.hamiVnpuCore on (OR-ed with the config file's value).
  bool hami_vnpu_core_global = false;
  // node_label_selector: --node-label-selector; only nodes carrying every label pair are
  // scheduled to (others answer "node unregistered" and get no handshake). Empty: all nodes.
  std::map<std::string, std::string> node_label_selector;
  // node_lock_timeout: --node-lock-timeout; a lock older than this is taken over.
  std::chrono::seconds node_lock_timeout{300};
  // event_namespace: where config-reload Events are recorded (involved object: the
  // scheduler's own Pod when pod_name is set, else a synthetic ConfigMap reference named
  // after the device config file).
  std::string event_namespace = "kube-system";
  std::string pod_name;  // $POD_NAME of this replica, for Events about the scheduler itself
  // log: one line per call, no trailing newline. Default (empty): stderr with a
  // "scheduler: " prefix.
  std::function<void(const std::string&)> log;

  // --- timing (defaults are upstream's) ---
  // register_tick: handshake/register period (hami-protocol.md §2.2: 15 s).
  std::chrono::seconds register_tick{15};
  // assume_ttl: an assumed allocation whose pod never shows the annotations Filter wrote is
  // dropped after this long (its capacity returns to the pool). Once the annotations are
  // seen, the pod counts like any annotated pod (as upstream) until deleted or terminated.
  std::chrono::seconds assume_ttl{60};
  // config_poll_period: how often the device config file is checked for changes.
  std::chrono::milliseconds config_poll_period{2000};

  // --- parameters that affect performance ---
  // informer_page_size: LIST page size of the node and pod informers.
  int64_t informer_page_size = 500;
  // sync_timeout: Start() waits this long for both informers' first LIST; Ready() stays
  // false until they synced either way.
  std::chrono::milliseconds sync_timeout{60000};
};

class SchedulerService : public ExtenderService {
 public:
  // Create: loads the device config (kInvalidArgument / kNotFound on a bad or missing file,
  // with the loader's message) and validates the policies. REQUIRES: client and clock
  // outlive the service.
  static Result<std::unique_ptr<SchedulerService>> Create(kube::KubeClient& client,
                                                          kube::Clock& clock,
                                                          SchedulerServiceOptions options);
  ~SchedulerService() override;
  SchedulerService(const SchedulerService&) = delete;
  SchedulerService& operator=(const SchedulerService&) = delete;

  // Start: starts the node and pod informers, the handshake loop and the config watcher, then
  // waits up to sync_timeout for the informers to sync. OK when synced; kDeadlineExceeded
  // when not yet synced (the service keeps trying; Ready() turns true later).
  // REQUIRES: called at most once.
  Status Start();
  // Stop: stops loops and informers; idempotent; Filter/Bind answer errors afterwards.
  void Stop();

  // SetLeader: only the leader binds and runs the handshake patches; a follower answers
  // Filter from its caches (it does write the filter annotations: kube-scheduler talks to
  // whichever replica the Service routes to). Default: false.
  void SetLeader(bool leader);
  bool IsLeader() const;

  // ExtenderService. Filter answers with `Error` set while !Ready() (usage not rebuilt yet:
  // answering could overcommit), and Bind with `Error` set on a follower.
  Result<nlohmann::json> Filter(const nlohmann::json& extender_args) override;
  // FilterSplit: Filter without a JSON tree of the node names (the HTTP layer's path).
  Result<nlohmann::json> FilterSplit(ExtenderFilterArgs args) override;
  Result<nlohmann::json> Bind(const nlohmann::json& binding_args) override;
  bool Ready() const override;

  // ReloadConfig: re-reads the device config file now (the watcher calls this on change).
  // OK when loaded (or unchanged); the loader's error when the new file is bad — the last
  // good config stays in use, a log line and a Warning Event record it.
  Status ReloadConfig();

  // CurrentDeviceConfig: the device config in force (the last good one; never null), for the
  // admission webhook, so the webhook and Filter/Bind always agree on one loaded config.
  std::shared_ptr<const config::DeviceConfig> CurrentDeviceConfig() const;

  // MetricsText: Prometheus text exposition (version 0.0.4) of this service's series; the
  // HTTP layer concatenates it into /metrics.
  std::string MetricsText() const;

  // --- read-only views for the dashboard (dashboard_source.h) ---
  // Cache: the node/usage cache Filter reads (Devices(), Allocations()).
  const ClusterCache& Cache() const;
  // CachedNode / CachedPod: the informers' copy of a node ("name") or pod ("ns/name"); null
  // when unknown or before Start(). Each call parses the cached text (informer.h: compact).
  std::shared_ptr<const nlohmann::json> CachedNode(const std::string& name) const;
  std::shared_ptr<const nlohmann::json> CachedPod(const std::string& key) const;
  // Unschedulable: pod key -> the summary of its last FilteringFailed Event (kept at most a
  // minute past the last retry's Event; pods since bound or deleted may still be listed).
  std::map<std::string, std::string> Unschedulable() const;

  class Impl;

 private:
  explicit SchedulerService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace npushare::scheduler
