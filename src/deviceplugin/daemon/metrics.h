// File: deviceplugin/daemon/metrics.h
//
// The device plugin's Prometheus text (exposition format 0.0.4), rendered from one snapshot of
// the daemon's parts. Series are declared once, in metrics.cc's table (name, type, help).
// Per-chip series carry HAMi's device labels (ecosystem.md §3: node, device_uuid = the VDIE die
// id, device_index, device_type = the common word) so dashboards can join them with HAMi's
// scheduler metrics; per-resource series carry `resource`.
//
//   npushare_device_plugin_chip_healthy            gauge  1 healthy / 0 not (DCMI health)
//   npushare_device_plugin_chip_vdevices           gauge  IDs advertised to kubelet per chip
//   npushare_device_plugin_chip_memory_limit_bytes gauge  schedulable memory (config, MiB->bytes)
//   npushare_device_plugin_chip_core_limit         gauge  AI cores (100 under hami-vnpu-core)
//   npushare_device_plugin_serving / _registered   gauge  per resource, 1 / 0
//   npushare_device_plugin_restarts_total          counter re-serves after kubelet restarts
//   npushare_device_plugin_register_failures_total counter failed Register calls
//   npushare_device_plugin_allocate_total / _allocate_errors_total / _preferred_allocation_total
//   npushare_device_plugin_list_and_watch_sends_total, _list_and_watch_streams
//   npushare_device_plugin_node_register_total{result="ok"|"error"}  node annotation patches
//   npushare_device_plugin_device_share_failures_total              npu-smi device-share
//   npushare_device_plugin_config_reload_failures_total             rejected config files
//   npushare_device_plugin_kubelet_watch_active  gauge 0 = inotify unavailable (degraded:
//                                                 only the periodic check notices restarts)
//
// Per soft-sliced container and logical device, from npushare-arbiter's metrics file
// (arbiter_metrics_file.h; --arbiter-metrics-file). Labels as HAMi's vGPU monitor and
// ascend-device-plugin monitor (ecosystem.md §3.2/§3.3): namespace, pod, container,
// vdevice_index (logical device), device_uuid (the chip's die id, when the arbiter says which
// chip), plus node and pod_uid. namespace/pod appear only when MetricsSnapshot::pod_names
// knows the UID; container/pod_uid come from the tenant name "<pod uid>_<container>" (other
// tenants: container = the tenant name, no pod_uid).
//   hami_vgpu_memory_limit_bytes              gauge   the container's memory quota (0 = none
//                                                     is omitted)
//   hami_vgpu_memory_used_bytes               gauge   memory charged in its ledger
//   hami_container_device_memory_bytes        gauge   the same as hami_vgpu_memory_used_bytes,
//                                                     under the name HAMi's dashboards read
//   hami_container_device_utilization_ratio   gauge   percent of the chip it used since the
//                                                     previous scrape (its own device time, not
//                                                     the whole chip's as upstream reports)
//   npushare_vnpu_core_share_percent          gauge   its core share (share file percent)
//   npushare_vnpu_core_device_seconds_total   counter device time it reported (core used:
//                                                     rate() * 100 = % of a chip)
//   npushare_vnpu_core_granted_seconds_total  counter time the arbiter granted it the chip
//   npushare_vnpu_core_charged_seconds_total  counter time charged against its share
//   npushare_device_plugin_arbiter_metrics_up gauge   1 when the file was read (only when a
//                                                     path is configured), else 0
//   npushare_device_plugin_arbiter_metrics_skipped_lines gauge malformed lines in the file
//
// Thread safety: pure function over values.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deviceplugin/daemon/arbiter_metrics_file.h"
#include "deviceplugin/kubelet/plugin_fleet.h"
#include "deviceplugin/plugin_device.h"

namespace npushare::deviceplugin::daemon {

// MetricsSnapshot: what RenderMetrics reads.
struct MetricsSnapshot {
  std::string node_name;
  std::shared_ptr<const NodeDevices> devices;  // may be null (before discovery)
  std::vector<PluginState> plugins;
  uint64_t node_register_ok = 0;
  uint64_t node_register_errors = 0;
  uint64_t device_share_failures = 0;
  uint64_t config_reload_failures = 0;
  bool kubelet_watch_active = false;
  // Soft-slice containers (arbiter_metrics_file.h). `arbiter` is nullopt when the file could
  // not be read; nothing is rendered for it unless `arbiter_metrics_configured`.
  bool arbiter_metrics_configured = false;
  std::optional<ArbiterMetrics> arbiter;
  // pod_names: pod UID -> {namespace, name}, for the namespace/pod labels when known.
  std::map<std::string, std::pair<std::string, std::string>> pod_names;
  // utilization_percent: UtilizationTracker::Key(tenant, index) -> percent of a chip used
  // since the previous scrape (utilization_tracker.h); missing keys render no sample.
  std::map<std::string, double> utilization_percent;
};

// RenderMetrics: the exposition text; label values escaped (\\, \", \n).
std::string RenderMetrics(const MetricsSnapshot& snapshot);

}  // namespace npushare::deviceplugin::daemon
