// File: scheduler/service/dashboard_source.h
//
// DashboardSource: the scheduler's side of the dashboard seam (dashboard/cluster_snapshot.h).
// Snapshot() copies what SchedulerService already knows, without any API call:
//   chips    ClusterCache::Devices(): memory = totalmem MiB * 1048576, cores = totalcore,
//            healthy = health; mode soft when the node's `hami-vnpu-core` annotation is
//            "true" (any other value: hard), or, without the annotation, when the device
//            config's vnpus.hamiVnpuCore (or the scheduler's global flag) is on.
//   slices   ClusterCache::Allocations(): memory quota = MiB * 1048576; core % = the -core
//            request on soft chips, cores * 100 / totalcore on hard ones (the template's AI
//            cores when the allocation records none, as HAMi writes 0); the hard template is
//            the device config template of exactly that memory ("" = none, e.g. a whole
//            chip); the container name is spec.containers[index].name of the cached pod
//            (remembered per pod: a pod's containers never change), "" when unknown.
//   pending  pods with a FilteringFailed summary (SchedulerService::Unschedulable) that are
//            still cached, unbound (no spec.nodeName) and not Succeeded/Failed; since = the
//            first refresh that listed it (this process's view).
//   metrics  NodeView::metrics_url, in this order: the node annotation npushare.io/metrics-url
//            (taken verbatim when it is an http:// URL: the demo's plugins listen on
//            127.0.0.1 ports); else `metrics_url_template` with {podIP} = the IP of the
//            device-plugin pod on that node (label app.kubernetes.io/name=
//            npushare-device-plugin, running, watched by a small informer of its own) and
//            {nodeName} = the node; "" (not scraped) when {podIP} is needed but unknown, or the
//            template is empty.
//
// Usage:
//   DashboardSource source(client, *service, {});
//   source.Start();                      // the device-plugin pod informer
//   dashboard::Dashboard dash(source, fetcher, {});
//   ...
//   source.Stop();
//
// Cost per refresh: one parse per node (informer text) and per allocated pod seen for the first
// time, one List() of the few device-plugin pods; no API call.
//
// Thread safety: Snapshot() is safe for concurrent calls (the memos have a mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/thread_annotations.h"
#include "dashboard/cluster_snapshot.h"
#include "kube/informer.h"
#include "kube/kube_client.h"
#include "scheduler/service/scheduler_service.h"

namespace npushare::scheduler {

inline constexpr char kMetricsUrlNodeAnnotation[] = "npushare.io/metrics-url";
inline constexpr char kDevicePluginPodLabel[] = "app.kubernetes.io/name=npushare-device-plugin";
inline constexpr char kDefaultMetricsUrlTemplate[] = "http://{podIP}:9395/metrics";

struct DashboardSourceOptions {
  // metrics_url_template: --dashboard-plugin-metrics-url-template; see above. "" = nodes are
  // scraped only when they carry the annotation.
  std::string metrics_url_template = kDefaultMetricsUrlTemplate;
  // plugin_pod_selector: label selector of the device-plugin pods (their IP fills {podIP}).
  std::string plugin_pod_selector = kDevicePluginPodLabel;
  // hami_vnpu_core_global: the scheduler's forced hami-vnpu-core (OR-ed with the config's).
  bool hami_vnpu_core_global = false;
};

// ExpandMetricsUrl: `url_template` with {podIP} and {nodeName} replaced; "" when {podIP} is
// used and pod_ip is empty.
std::string ExpandMetricsUrl(const std::string& url_template, const std::string& node_name,
                             const std::string& pod_ip);

class DashboardSource : public dashboard::SnapshotSource {
 public:
  // REQUIRES: client and service outlive this.
  DashboardSource(kube::KubeClient& client, const SchedulerService& service,
                  DashboardSourceOptions options);
  ~DashboardSource() override;
  DashboardSource(const DashboardSource&) = delete;
  DashboardSource& operator=(const DashboardSource&) = delete;

  // Start: starts the device-plugin pod informer (not waited for: until it syncs, {podIP}
  // nodes are simply not scraped). No-op when the template does not use {podIP}.
  void Start();
  // Stop: idempotent; the destructor calls it.
  void Stop();

  // Snapshot: kUnavailable until the service's caches are synced.
  Result<dashboard::ClusterSnapshot> Snapshot() override;

 private:
  std::map<std::string, std::string> PluginPodIpByNode() const;
  std::vector<std::string> ContainerNames(const std::string& pod_key);

  const SchedulerService& service_;
  const DashboardSourceOptions options_;
  std::unique_ptr<kube::Informer> plugin_pods_;
  Mutex mu_;
  // pod key -> container names (spec.containers[].name), pruned to pods still allocated.
  std::map<std::string, std::vector<std::string>> names_ NPUSHARE_GUARDED_BY(mu_);
  // pod key -> first refresh that listed it pending, for the pods pending now.
  std::map<std::string, int64_t> pending_since_ NPUSHARE_GUARDED_BY(mu_);
};

}  // namespace npushare::scheduler
