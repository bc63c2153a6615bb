// File: scheduler/http/scheduler_flags.h
//
// The npushare-scheduler command line. HAMi's scheduler flag names are accepted so HAMi's Helm
// chart can run this image unchanged (hami-protocol.md §6):
//   --http_bind, --cert_file, --key_file, --scheduler-name, --device-config-file,
//   --node-scheduler-policy, --gpu-scheduler-policy, --metrics-bind-address,
//   --node-lock-timeout, --force-overwrite-default-scheduler, --leader-elect,
//   --leader-elect-resource-name, --leader-elect-resource-namespace, --node-label-selector,
//   --debug, -v
// plus --leader-elect-follow / --leader-elect-follow-config (lead beside the active
// kube-scheduler instead of electing separately), --kubeconfig (in-cluster config when absent) and
// the lease timing flags of kube-scheduler
// (--leader-elect-lease-duration/-renew-deadline/-retry-period). Other flags HAMi's chart may pass
// are accepted and ignored with a warning (listed in `ignored`), so a chart upgrade that adds one
// does not crash-loop the scheduler.
//
// Thread safety: pure function.
#pragma once

#include <chrono>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::scheduler::http {

struct SchedulerFlags {
  std::string http_bind = "127.0.0.1:8080";
  std::string cert_file;
  std::string key_file;
  std::string metrics_bind_address = ":9395";
  // --dashboard-plugin-metrics-url-template: where the dashboard (/ui on the metrics address)
  // scrapes each node's device plugin; {podIP} / {nodeName} are filled per node; a node
  // annotation npushare.io/metrics-url overrides it (scheduler/service/dashboard_source.h).
  std::string dashboard_plugin_metrics_url_template = "http://{podIP}:9395/metrics";
  std::string scheduler_name = "hami-scheduler";
  bool force_overwrite_default_scheduler = true;
  std::string device_config_file = "/device-config.yaml";
  std::string node_policy = "binpack";
  std::string device_policy = "spread";
  std::chrono::seconds node_lock_timeout{300};
  // --node-label-selector k=v[,k2=v2]: only nodes carrying every pair are scheduled to (the
  // others are "node unregistered"). Empty: every node.
  std::map<std::string, std::string> node_label_selector;
  std::string kubeconfig;
  bool leader_elect = false;
  // Follow mode (scheduler/service/lease_follower.h): instead of electing on its own Lease,
  // lead while the Lease of the kube-scheduler in this pod names this pod's hostname. At most
  // one of the two may be set; either one overrides --leader-elect and the own-Lease flags.
  //   --leader-elect-follow=[NAMESPACE/]NAME           that Lease (namespace kube-system)
  //   --leader-elect-follow-config=FILE  the Lease of kube-scheduler's KubeSchedulerConfiguration
  std::string leader_elect_follow;
  std::string leader_elect_follow_config;
  std::string lease_name = "npushare-scheduler";
  std::string lease_namespace;  // default $POD_NAMESPACE, else kube-system
  std::string identity;         // default $POD_NAME (else hostname) + "_" + random suffix
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  bool debug = false;
  std::vector<std::string> ignored;  // unknown arguments, ignored
};

// ParseSchedulerFlags: the flags, or nullopt with *exit_code set when the process should exit
// now (0 after --help, 2 on a bad flag; the message went to `out`/`err`).
std::optional<SchedulerFlags> ParseSchedulerFlags(int argc, char** argv, std::ostream& out,
                                                  std::ostream& err, int* exit_code);

// ParseGoDuration: "300", "300s", "5m", "1h30m", "1.5h", "500ms" -> whole seconds (rounded
// down). A bare number is seconds (HAMi's flags); anything else is a Go duration
// (common/go_duration.h). kInvalidArgument on anything else, negatives or more than 1e9 s.
Result<std::chrono::seconds> ParseGoDuration(const std::string& text);

}  // namespace npushare::scheduler::http
