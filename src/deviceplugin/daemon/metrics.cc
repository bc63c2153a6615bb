#include "deviceplugin/daemon/metrics.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <utility>

#include "deviceplugin/daemon/utilization_tracker.h"

namespace npushare::deviceplugin::daemon {
namespace {

struct MetricDef {
  const char* name;
  const char* type;
  const char* help;
};

// The one declaration of every series (see metrics.h).
constexpr MetricDef kChipHealthy{"npushare_device_plugin_chip_healthy", "gauge",
                                 "1 when DCMI reports the chip healthy, else 0."};
constexpr MetricDef kChipVdevices{"npushare_device_plugin_chip_vdevices", "gauge",
                                  "Device IDs advertised to kubelet for the chip."};
constexpr MetricDef kChipMemory{"npushare_device_plugin_chip_memory_limit_bytes", "gauge",
                                "Schedulable device memory of the chip (config), in bytes."};
constexpr MetricDef kChipCores{"npushare_device_plugin_chip_core_limit", "gauge",
                               "AI cores of the chip (100 under hami-vnpu-core)."};
constexpr MetricDef kServing{"npushare_device_plugin_serving", "gauge",
                             "1 while the resource's gRPC server serves its socket."};
constexpr MetricDef kRegistered{"npushare_device_plugin_registered", "gauge",
                                "1 while the resource is registered with kubelet."};
constexpr MetricDef kRestarts{"npushare_device_plugin_restarts_total", "counter",
                              "Re-serves after kubelet restarted or removed our socket."};
constexpr MetricDef kRegisterFailures{"npushare_device_plugin_register_failures_total", "counter",
                                      "Failed Register calls to kubelet."};
constexpr MetricDef kAllocate{"npushare_device_plugin_allocate_total", "counter",
                              "Container Allocate requests answered."};
constexpr MetricDef kAllocateErrors{"npushare_device_plugin_allocate_errors_total", "counter",
                                    "Container Allocate requests that failed."};
constexpr MetricDef kPreferred{"npushare_device_plugin_preferred_allocation_total", "counter",
                               "GetPreferredAllocation container requests answered."};
constexpr MetricDef kLawSends{"npushare_device_plugin_list_and_watch_sends_total", "counter",
                              "Device lists sent on ListAndWatch streams."};
constexpr MetricDef kLawStreams{"npushare_device_plugin_list_and_watch_streams", "gauge",
                                "ListAndWatch streams open now."};
constexpr MetricDef kNodeRegister{"npushare_device_plugin_node_register_total", "counter",
                                  "Node annotation patches (registration and handshake)."};
constexpr MetricDef kShareFailures{"npushare_device_plugin_device_share_failures_total", "counter",
                                   "Failed attempts to enable device-share."};
constexpr MetricDef kConfigReloadFailures{
    "npushare_device_plugin_config_reload_failures_total", "counter",
    "Changed config files rejected (the last good config stays in force)."};
constexpr MetricDef kWatchActive{
    "npushare_device_plugin_kubelet_watch_active", "gauge",
    "1 when the device-plugin directory is watched with inotify; 0 = periodic check only."};

constexpr MetricDef kVnpuMemLimit{"hami_vgpu_memory_limit_bytes", "gauge",
                                  "Memory quota of the container on the device, in bytes."};
constexpr MetricDef kVnpuMemUsed{"hami_vgpu_memory_used_bytes", "gauge",
                                 "Device memory the container holds (its ledger), in bytes."};
constexpr MetricDef kContainerMemory{"hami_container_device_memory_bytes", "gauge",
                                     "Device memory the container uses (HAMi's name)."};
constexpr MetricDef kContainerUtilization{
    "hami_container_device_utilization_ratio", "gauge",
    "Percent of the chip's time the container used since the previous scrape."};
constexpr MetricDef kVnpuCoreShare{"npushare_vnpu_core_share_percent", "gauge",
                                   "Core share of the container on the device, percent."};
constexpr MetricDef kVnpuDeviceSeconds{
    "npushare_vnpu_core_device_seconds_total", "counter",
    "Device time the container reported; rate() * 100 = percent of a chip used."};
constexpr MetricDef kVnpuGrantedSeconds{"npushare_vnpu_core_granted_seconds_total", "counter",
                                        "Time the arbiter granted the container the chip."};
constexpr MetricDef kVnpuChargedSeconds{"npushare_vnpu_core_charged_seconds_total", "counter",
                                        "Time charged against the container's core share."};
constexpr MetricDef kArbiterUp{"npushare_device_plugin_arbiter_metrics_up", "gauge",
                               "1 when the arbiter's metrics file was read, else 0."};
constexpr MetricDef kArbiterSkipped{"npushare_device_plugin_arbiter_metrics_skipped_lines", "gauge",
                                    "Malformed lines skipped in the arbiter's file."};

std::string Escape(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

class Writer {
 public:
  void Header(const MetricDef& m) {
    out_ += "# HELP ";
    out_ += m.name;
    out_ += ' ';
    out_ += m.help;
    out_ += "\n# TYPE ";
    out_ += m.name;
    out_ += ' ';
    out_ += m.type;
    out_ += '\n';
  }
  void Sample(const MetricDef& m, const Labels& labels, double value) {
    out_ += m.name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        out_ += (i == 0 ? "" : ",") + labels[i].first + "=\"" + Escape(labels[i].second) + "\"";
      }
      out_ += '}';
    }
    char buf[64];
    snprintf(buf, sizeof(buf), " %.17g\n", value);
    out_ += buf;
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// RenderContainers: the per-container series of `s.arbiter` (see metrics.h).
void RenderContainers(const MetricsSnapshot& s, Writer& w) {
  std::map<int32_t, std::string> uuid_by_phys;
  if (s.devices != nullptr) {
    for (const Chip& c : s.devices->chips) {
      uuid_by_phys[c.phys_id] = c.uuid;
    }
  }
  struct Row {
    Labels labels;
    const ArbiterDevice* dev;
    std::optional<double> utilization;
  };
  std::vector<Row> rows;
  for (const ArbiterContainer& c : s.arbiter->containers) {
    Labels base{{"node", s.node_name}};
    auto name = s.pod_names.find(c.pod_uid);
    if (!c.pod_uid.empty() && name != s.pod_names.end()) {
      base.push_back({"namespace", name->second.first});
      base.push_back({"pod", name->second.second});
    }
    base.push_back({"container", c.pod_uid.empty() ? c.tenant : c.container});
    for (const auto& [index, d] : c.devices) {
      Labels l = base;
      l.push_back({"vdevice_index", std::to_string(index)});
      auto uuid = uuid_by_phys.find(d.chip);
      if (d.has_core && uuid != uuid_by_phys.end()) {
        l.push_back({"device_uuid", uuid->second});
      }
      if (!c.pod_uid.empty()) {
        l.push_back({"pod_uid", c.pod_uid});
      }
      std::optional<double> util;
      auto u = s.utilization_percent.find(UtilizationTracker::Key(c.tenant, index));
      if (u != s.utilization_percent.end()) {
        util = u->second;
      }
      rows.push_back({std::move(l), &d, util});
    }
  }
  using Getter = std::optional<double> (*)(const ArbiterDevice&);
  const std::pair<const MetricDef*, Getter> series[] = {
      {&kVnpuMemLimit,
       [](const ArbiterDevice& d) -> std::optional<double> {
         if (!d.has_memory || d.quota_bytes == 0) {
           return std::nullopt;
         }
         return static_cast<double>(d.quota_bytes);
       }},
      {&kVnpuMemUsed,
       [](const ArbiterDevice& d) -> std::optional<double> {
         if (!d.has_memory) {
           return std::nullopt;
         }
         return static_cast<double>(d.used_bytes);
       }},
      {&kVnpuCoreShare,
       [](const ArbiterDevice& d) -> std::optional<double> {
         if (!d.has_core) {
           return std::nullopt;
         }
         return static_cast<double>(d.weight);
       }},
      {&kVnpuDeviceSeconds,
       [](const ArbiterDevice& d) -> std::optional<double> {
         if (!d.has_core) {
           return std::nullopt;
         }
         return static_cast<double>(d.device_ns) / 1e9;
       }},
      {&kVnpuGrantedSeconds,
       [](const ArbiterDevice& d) -> std::optional<double> {
         if (!d.has_core) {
           return std::nullopt;
         }
         return static_cast<double>(d.granted_ns) / 1e9;
       }},
      {&kVnpuChargedSeconds,
       [](const ArbiterDevice& d) -> std::optional<double> {
         if (!d.has_core) {
           return std::nullopt;
         }
         return static_cast<double>(d.charged_ns) / 1e9;
       }},
  };
  for (const auto& [def, get] : series) {
    w.Header(*def);
    for (const Row& r : rows) {
      if (std::optional<double> v = get(*r.dev)) {
        w.Sample(*def, r.labels, *v);
      }
    }
  }
  w.Header(kContainerMemory);
  for (const Row& r : rows) {
    if (r.dev->has_memory) {
      w.Sample(kContainerMemory, r.labels, static_cast<double>(r.dev->used_bytes));
    }
  }
  w.Header(kContainerUtilization);
  for (const Row& r : rows) {
    if (r.utilization) {
      w.Sample(kContainerUtilization, r.labels, *r.utilization);
    }
  }
}

}  // namespace

std::string RenderMetrics(const MetricsSnapshot& s) {
  Writer w;
  if (s.devices != nullptr) {
    const NodeDevices& nd = *s.devices;
    auto chip_labels = [&](const Chip& c) {
      return Labels{{"node", s.node_name},
                    {"device_uuid", c.uuid},
                    {"device_index", std::to_string(c.index)},
                    {"device_type", nd.common_word}};
    };
    const double vdevices = std::max(nd.vdevice_count, 1);
    const std::pair<const MetricDef*, double> per_chip[] = {
        {&kChipVdevices, vdevices},
        {&kChipMemory, static_cast<double>(nd.memory_mb) * 1048576.0},
        {&kChipCores, static_cast<double>(nd.aicore)},
    };
    w.Header(kChipHealthy);
    for (const Chip& c : nd.chips) {
      w.Sample(kChipHealthy, chip_labels(c), c.healthy ? 1 : 0);
    }
    for (const auto& [def, value] : per_chip) {
      w.Header(*def);
      for (const Chip& c : nd.chips) {
        w.Sample(*def, chip_labels(c), value);
      }
    }
  }
  using Getter = double (*)(const PluginState&);
  const std::pair<const MetricDef*, Getter> per_resource[] = {
      {&kServing, [](const PluginState& p) { return p.serving ? 1.0 : 0.0; }},
      {&kRegistered, [](const PluginState& p) { return p.registered ? 1.0 : 0.0; }},
      {&kRestarts, [](const PluginState& p) { return static_cast<double>(p.restarts); }},
      {&kRegisterFailures,
       [](const PluginState& p) { return static_cast<double>(p.register_failures); }},
      {&kAllocate,
       [](const PluginState& p) { return static_cast<double>(p.server.allocate_calls); }},
      {&kAllocateErrors,
       [](const PluginState& p) { return static_cast<double>(p.server.allocate_errors); }},
      {&kPreferred,
       [](const PluginState& p) { return static_cast<double>(p.server.preferred_calls); }},
      {&kLawSends,
       [](const PluginState& p) { return static_cast<double>(p.server.list_and_watch_sends); }},
      {&kLawStreams,
       [](const PluginState& p) { return static_cast<double>(p.server.open_streams); }},
  };
  for (const auto& [def, get] : per_resource) {
    w.Header(*def);
    for (const PluginState& p : s.plugins) {
      w.Sample(*def, {{"resource", p.resource.resource_name}}, get(p));
    }
  }
  w.Header(kNodeRegister);
  w.Sample(kNodeRegister, {{"result", "ok"}}, static_cast<double>(s.node_register_ok));
  w.Sample(kNodeRegister, {{"result", "error"}}, static_cast<double>(s.node_register_errors));
  w.Header(kShareFailures);
  w.Sample(kShareFailures, {}, static_cast<double>(s.device_share_failures));
  w.Header(kConfigReloadFailures);
  w.Sample(kConfigReloadFailures, {}, static_cast<double>(s.config_reload_failures));
  w.Header(kWatchActive);
  w.Sample(kWatchActive, {}, s.kubelet_watch_active ? 1 : 0);
  if (s.arbiter_metrics_configured) {
    w.Header(kArbiterUp);
    w.Sample(kArbiterUp, {}, s.arbiter.has_value() ? 1 : 0);
    w.Header(kArbiterSkipped);
    w.Sample(kArbiterSkipped, {},
             s.arbiter.has_value() ? static_cast<double>(s.arbiter->skipped_lines) : 0);
    if (s.arbiter.has_value()) {
      RenderContainers(s, w);
    }
  }
  return w.Take();
}

}  // namespace npushare::deviceplugin::daemon
