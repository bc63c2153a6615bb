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
// Thread safety: pure function over values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
};

// RenderMetrics: the exposition text; label values escaped (\\, \", \n).
std::string RenderMetrics(const MetricsSnapshot& snapshot);

}  // namespace npushare::deviceplugin::daemon
