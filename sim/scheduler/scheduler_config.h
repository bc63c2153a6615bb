// File: sim/scheduler/scheduler_config.h
//
// SchedulerConfig: the parts of a real KubeSchedulerConfiguration file
// (kubescheduler.config.k8s.io/v1; v1beta2 and v1beta3 have the same shape for these fields)
// that the kube-scheduler stand-in uses (k8s-apis.md §2.3):
//   - profiles[].schedulerName (one profile "default-scheduler" when none is given);
//   - extenders[]: urlPrefix, filterVerb, prioritizeVerb, weight, bindVerb, preemptVerb
//     (parsed, never called: the stand-in does not preempt), enableHTTPS, tlsConfig (insecure,
//     serverName, certFile/keyFile/caFile and their *Data forms), httpTimeout, nodeCacheCapable,
//     managedResources (name, ignoredByScheduler), ignorable;
//   - podInitialBackoffSeconds (default 1) and podMaxBackoffSeconds (default 10);
//   - clientConnection.kubeconfig (a --kubeconfig flag wins), clientConnection.qps / burst.
// Validation follows kube-scheduler's validateExtenders: a prioritizeVerb needs weight > 0,
// at most one extender may bind, managed resource names are unique across extenders. Extender
// entries are decoded strictly (an unknown key is an error, as kube-scheduler's strict decoder
// reports it); other top-level sections (leaderElection, parallelism, ...) are accepted and
// ignored. Ignorable extenders are moved after the others, as kube-scheduler orders them.
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(SchedulerConfig cfg, LoadSchedulerConfigFile("/config.yaml"));
//
// Thread safety: values and pure functions (LoadSchedulerConfigFile reads files).
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace npushare::kube_scheduler_sim {

// ExtenderTls: tlsConfig, with files already read (PEM text).
struct ExtenderTls {
  bool insecure = false;
  std::string server_name;
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

struct ManagedResource {
  std::string name;
  bool ignored_by_scheduler = false;
};

struct ExtenderConfig {
  std::string url_prefix;  // required
  std::string filter_verb;
  std::string prioritize_verb;
  int64_t weight = 0;
  std::string bind_verb;
  std::string preempt_verb;
  bool enable_https = false;
  ExtenderTls tls;
  // http_timeout: whole-call deadline; 0/unset in the file means kube-scheduler's 5 s.
  std::chrono::milliseconds http_timeout{5000};
  bool node_cache_capable = false;
  std::vector<ManagedResource> managed_resources;
  bool ignorable = false;
};

struct SchedulerConfig {
  std::vector<std::string> scheduler_names;
  std::vector<ExtenderConfig> extenders;  // ignorable ones last
  std::chrono::seconds pod_initial_backoff{1};
  std::chrono::seconds pod_max_backoff{10};
  std::string kubeconfig;  // clientConnection.kubeconfig, "" when absent
  // clientConnection.qps / burst: the API client's rate limit (kube-scheduler's defaults 50 /
  // 100). Each pod costs about two calls (binding, Scheduled event).
  double qps = 50;
  int burst = 100;

  // IgnoredResources: managed resources with ignoredByScheduler (NodeResourcesFit skips them).
  std::set<std::string> IgnoredResources() const;
};

// ParseSchedulerConfig: one YAML (or JSON) document. `base_dir` resolves relative tlsConfig
// file paths. @return kInvalidArgument for malformed YAML, a wrong apiVersion/kind, a bad
// field or a failed validation rule; kFailedPrecondition when a tlsConfig file is unreadable.
Result<SchedulerConfig> ParseSchedulerConfig(std::string_view yaml, const std::string& base_dir);

// LoadSchedulerConfigFile: reads `path` (at most 1 MiB) and parses it. kFailedPrecondition when
// unreadable.
Result<SchedulerConfig> LoadSchedulerConfigFile(const std::string& path);

}  // namespace npushare::kube_scheduler_sim
