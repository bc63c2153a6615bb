// File: deviceplugin/daemon/daemon_options.h
//
// DaemonOptions: everything npushare-device-plugin is configured with, and ParseDaemonFlags,
// its command line. HAMi's Ascend plugin flag names are accepted so its DaemonSet can run this
// image unchanged (hami-protocol.md §5.1, ecosystem.md §4.2): --config_file,
// --node_config_file, --node_name (default $NODE_NAME), --check_idle_vnpu_interval,
// --report_time_offset, --hw_loglevel (accepted, unused: there is no Huawei hwlog here), -v/--v.
// Each option's default is documented here and nowhere else.
//
// Thread safety: plain values; ParseDaemonFlags reads the environment (NODE_NAME).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/status.h"

namespace npushare::deviceplugin::daemon {

struct DaemonOptions {
  // --- what this node is ---
  std::string node_name;  // --node_name, default $NODE_NAME; required
  std::string device_config_path = "/device-config.yaml";  // --config_file (HAMi's mount)
  std::string node_config_path;  // --node_config_file; "" = no node config
  // --- where things are ---
  std::string device_plugin_path = "/var/lib/kubelet/device-plugins/";  // --device-plugin-path
  std::string kubeconfig;                   // --kubeconfig; "" = $KUBECONFIG, in-cluster, ~/.kube
  std::string dcmi_library = "libdcmi.so";  // --dcmi-library (searched by the loader)
  std::string npu_smi_path;                 // --npu-smi; "" = HAMi's search order
  // Soft slicing (must match npushare-arbiter's flags; allocate_options.h has the layout).
  std::string shares_dir = "/run/npushare/shares";                       // --shares-dir
  std::string quota_root = "/run/npushare/quota";                        // --quota-root
  std::string grant_dir = "/run/npushare/arbiter";                       // --grant-dir
  std::string tenants_dir = "/run/npushare/tenants";                     // --tenants-dir
  std::string libvnpu_path = "/usr/local/npushare/lib/libvnpu.so";       // --libvnpu
  std::string ld_so_preload_path = "/usr/local/npushare/ld.so.preload";  // --ld-so-preload
  // --- timing ---
  std::chrono::seconds check_idle_vnpu_interval{60};     // --check_idle_vnpu_interval (s)
  std::chrono::seconds report_time_offset{1};            // --report_time_offset (s)
  std::chrono::milliseconds device_poll_interval{5000};  // --device-poll-interval-ms
  // --- operations ---
  // metrics_bind_address: HOST:PORT of /metrics, /healthz, /help (":9395" = all addresses,
  // port 9395, HAMi's monitor port; port 0 picks one; "" disables the HTTP server).
  std::string metrics_bind_address = ":9395";
  // arbiter_metrics_file: npushare-arbiter's --metrics-file, read on each /metrics scrape for
  // the per-container soft-slice series (metrics.h). "" = not read. A missing file is normal
  // on a node without soft slicing (npushare_device_plugin_arbiter_metrics_up 0).
  std::string arbiter_metrics_file = "/run/npushare/arbiter.metrics";  // --arbiter-metrics-file
  // log_format: "klog" (klog's header: Lmmdd hh:mm:ss.uuuuuu threadid] msg) or "json" (one
  // object per line: ts, level, msg; log_format.h).
  std::string log_format = "klog";  // --log-format
  int verbosity = 0;                // -v/--v: 0 info, >= 4 debug, >= 6 trace
  int hw_loglevel = 0;              // --hw_loglevel: accepted for HAMi compatibility, unused
};

// ParseDaemonFlags: fills `options` from argv. Returns nullopt to go on running, or the exit
// status to end with now: 0 after --help (printed to stdout), 2 for a bad command line (the
// message, naming the flag, on stderr).
std::optional<int> ParseDaemonFlags(int argc, char** argv, DaemonOptions* options);

// ValidateDaemonOptions: kInvalidArgument naming what is missing or out of range (no node
// name, an empty required path, a bad bind address).
Status ValidateDaemonOptions(const DaemonOptions& options);

// ParseBindAddress: "HOST:PORT" / ":PORT" -> host ("0.0.0.0" when empty) and port 0..65535.
// kInvalidArgument otherwise.
Result<std::pair<std::string, int>> ParseBindAddress(const std::string& address);

}  // namespace npushare::deviceplugin::daemon
