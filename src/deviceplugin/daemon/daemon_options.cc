#include "deviceplugin/daemon/daemon_options.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdlib>

namespace npushare::deviceplugin::daemon {

std::optional<int> ParseDaemonFlags(int argc, char** argv, DaemonOptions* options) {
  CLI::App app{
      "npushare-device-plugin: kubelet device plugin for shared Huawei Ascend NPUs (hard vNPU "
      "slices and soft slicing), a drop-in for HAMi's Ascend device plugin"};
  app.get_formatter()->column_width(40);
  DaemonOptions& o = *options;
  if (const char* env = std::getenv("NODE_NAME"); env != nullptr) {
    o.node_name = env;
  }
  int64_t idle_s = o.check_idle_vnpu_interval.count();
  int64_t offset_s = o.report_time_offset.count();
  int64_t poll_ms = o.device_poll_interval.count();

  app.add_option("--node_name", o.node_name, "this node's name (default: $NODE_NAME)");
  app.add_option("--config_file", o.device_config_path,
                 "HAMi device config (device-config.yaml ConfigMap), re-read on change")
      ->capture_default_str();
  app.add_option("--node_config_file", o.node_config_path,
                 "HAMi node config (vDeviceCount, filterDevices, hami-vnpu-core per node)");
  app.add_option("--check_idle_vnpu_interval", idle_s, "seconds between checks for leftover vNPUs")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  app.add_option("--report_time_offset", offset_s,
                 "seconds added to the node handshake time (HAMi semantics)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{-3600}, int64_t{3600}));
  app.add_option("--hw_loglevel", o.hw_loglevel, "accepted for HAMi compatibility; unused");
  app.add_option("--device-plugin-path", o.device_plugin_path,
                 "kubelet's device-plugin directory (kubelet.sock and our sockets)")
      ->capture_default_str();
  app.add_option("--kubeconfig", o.kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)");
  app.add_option("--dcmi-library", o.dcmi_library, "libdcmi.so to dlopen (name or path)")
      ->capture_default_str();
  app.add_option("--npu-smi", o.npu_smi_path,
                 "npu-smi for device-share (default: the driver's locations, then $PATH)");
  app.add_option("--shares-dir", o.shares_dir, "soft slicing: npushare-arbiter --shares-dir")
      ->capture_default_str();
  app.add_option("--quota-root", o.quota_root, "soft slicing: per-container quota directories")
      ->capture_default_str();
  app.add_option("--grant-dir", o.grant_dir, "soft slicing: npushare-arbiter --grant-dir")
      ->capture_default_str();
  app.add_option("--tenants-dir", o.tenants_dir, "soft slicing: npushare-arbiter --tenants-dir")
      ->capture_default_str();
  app.add_option("--libvnpu", o.libvnpu_path, "soft slicing: libvnpu.so on the host")
      ->capture_default_str();
  app.add_option("--ld-so-preload", o.ld_so_preload_path,
                 "soft slicing: host file mounted as the container's /etc/ld.so.preload")
      ->capture_default_str();
  app.add_option("--device-poll-interval-ms", poll_ms, "chip health and config-file check period")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{10}, int64_t{3600000}));
  app.add_option("--metrics-bind-address", o.metrics_bind_address,
                 "HOST:PORT for /metrics, /healthz, /help (\"\" disables)")
      ->capture_default_str();
  app.add_option("--arbiter-metrics-file", o.arbiter_metrics_file,
                 "npushare-arbiter --metrics-file, for per-container /metrics (\"\" = none)")
      ->capture_default_str();
  app.add_option("--log-format", o.log_format, "log lines: klog or json (ts, level, msg)")
      ->capture_default_str()
      ->check(CLI::IsMember({"klog", "json"}));
  app.add_option("-v,--v", o.verbosity, "log verbosity: 0 info, 4 debug, 6 trace")
      ->check(CLI::Range(0, 10));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints to stdout and is 0; errors print to stderr and are usage errors (2), not
    // CLI11's own codes.
    return app.exit(e) == 0 ? 0 : 2;
  }
  o.check_idle_vnpu_interval = std::chrono::seconds(idle_s);
  o.report_time_offset = std::chrono::seconds(offset_s);
  o.device_poll_interval = std::chrono::milliseconds(poll_ms);
  return std::nullopt;
}

Result<std::pair<std::string, int>> ParseBindAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("bind address \"" + address + "\" is not HOST:PORT");
  }
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    return InvalidArgumentError("bind address \"" + address + "\" has no valid port");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host.empty() ? std::string("0.0.0.0") : host, port);
}

Status ValidateDaemonOptions(const DaemonOptions& o) {
  if (o.node_name.empty()) {
    return InvalidArgumentError("no node name: pass --node_name or set NODE_NAME");
  }
  if (o.device_config_path.empty()) {
    return InvalidArgumentError("--config_file must name the device config");
  }
  if (o.device_plugin_path.empty()) {
    return InvalidArgumentError("--device-plugin-path must not be empty");
  }
  if (o.log_format != "klog" && o.log_format != "json") {
    return InvalidArgumentError("--log-format must be klog or json, not \"" + o.log_format + "\"");
  }
  if (!o.metrics_bind_address.empty()) {
    NPUSHARE_RETURN_IF_ERROR(ParseBindAddress(o.metrics_bind_address).status());
  }
  return OkStatus();
}

}  // namespace npushare::deviceplugin::daemon
