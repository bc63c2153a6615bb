#include "scheduler/http/scheduler_flags.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <ostream>

#include "common/go_duration.h"

namespace npushare::scheduler::http {
namespace {

// DurationOption: a CLI11 option that takes a Go duration into `target`.
void DurationOption(CLI::App& app, const std::string& name, std::chrono::seconds& target,
                    const std::string& help) {
  app.add_option_function<std::string>(
         name,
         [&target, name](const std::string& v) {
           auto d = ParseGoDuration(v);
           if (!d.ok()) {
             throw CLI::ValidationError(name, d.status().message());
           }
           target = *d;
         },
         help + " (Go duration, e.g. 5m, 30s; default " + std::to_string(target.count()) + "s)")
      ->type_name("DURATION");
}

}  // namespace

Result<std::chrono::seconds> ParseGoDuration(const std::string& text) {
  if (text.empty() || text.size() > 64) {
    return InvalidArgumentError("duration \"" + text + "\" is empty or too long");
  }
  // A bare number is seconds.
  if (text.find_first_not_of("0123456789") == std::string::npos) {
    return std::chrono::seconds(std::strtoll(text.c_str(), nullptr, 10));
  }
  NPUSHARE_ASSIGN_OR_RETURN(std::chrono::nanoseconds d, npushare::ParseGoDuration(text));
  if (d > std::chrono::seconds(1000000000)) {
    return InvalidArgumentError("duration \"" + text + "\" is out of range");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(d);  // rounds down
}

std::optional<SchedulerFlags> ParseSchedulerFlags(int argc, char** argv, std::ostream& out,
                                                  std::ostream& err, int* exit_code) {
  SchedulerFlags f;
  CLI::App app{
      "npushare-scheduler: kube-scheduler extender (/filter, /bind) and mutating admission\n"
      "webhook (/webhook) for Huawei Ascend NPU sharing, wire-compatible with HAMi's scheduler.\n"
      "All routes are served on --http_bind, over TLS when --cert_file/--key_file are given\n"
      "(the files are re-read when they change); /metrics also on --metrics-bind-address."};
  app.allow_extras();
  app.add_option("--http_bind", f.http_bind, "address of the extender/webhook server (host:port)")
      ->capture_default_str();
  app.add_option("--cert_file", f.cert_file, "TLS certificate (PEM chain, e.g. tls.crt)");
  app.add_option("--key_file", f.key_file, "TLS private key (PEM, e.g. tls.key)");
  app.add_option("--metrics-bind-address", f.metrics_bind_address,
                 "plain-HTTP address for /metrics (0: only on --http_bind)")
      ->capture_default_str();
  app.add_option("--dashboard-plugin-metrics-url-template", f.dashboard_plugin_metrics_url_template,
                 "device-plugin /metrics URL the dashboard (/ui) scrapes per node; {podIP} = the "
                 "npushare-device-plugin pod's IP, {nodeName}; node annotation "
                 "npushare.io/metrics-url overrides; empty: only annotated nodes")
      ->capture_default_str();
  app.add_option("--scheduler-name", f.scheduler_name,
                 "scheduler name the webhook writes into NPU pods (kube-scheduler profile name)")
      ->capture_default_str();
  app.add_flag("--force-overwrite-default-scheduler", f.force_overwrite_default_scheduler,
               "take over pods whose schedulerName is default-scheduler (default true; "
               "=false to leave them)");
  app.add_option("--device-config-file", f.device_config_file,
                 "device-config.yaml (bare, or the ConfigMap manifest); re-read on change")
      ->capture_default_str();
  app.add_option("--node-scheduler-policy", f.node_policy, "default node policy")
      ->check(CLI::IsMember({"binpack", "spread"}))
      ->capture_default_str();
  app.add_option("--gpu-scheduler-policy", f.device_policy,
                 "default device policy (spread, binpack, or a comma list such as numa,binpack)")
      ->capture_default_str();
  DurationOption(app, "--node-lock-timeout", f.node_lock_timeout,
                 "a node lock older than this is taken over");
  std::string selector_error;
  // Go's StringToString flag (HAMi's spelling): k=v pairs separated by commas; repeatable.
  app.add_option_function<std::vector<std::string>>(
         "--node-label-selector",
         [&f, &selector_error](const std::vector<std::string>& values) {
           for (const std::string& text : values) {
             size_t start = 0;
             while (!text.empty() && start <= text.size()) {
               const size_t comma = std::min(text.find(',', start), text.size());
               const std::string pair = text.substr(start, comma - start);
               const size_t eq = pair.find('=');
               if (eq == std::string::npos || eq == 0) {
                 selector_error = "--node-label-selector: \"" + pair + "\" is not key=value";
                 return;
               }
               f.node_label_selector[pair.substr(0, eq)] = pair.substr(eq + 1);
               start = comma + 1;
             }
           }
         },
         "schedule only to nodes with these labels (k=v,k2=v2)")
      ->type_name("MAP")
      ->allow_extra_args(false);
  app.add_option("--kubeconfig", f.kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  app.add_flag("--leader-elect", f.leader_elect,
               "run leader election on a Lease; only the leader binds (--leader-elect=false "
               "to disable)");
  app.add_option(
      "--leader-elect-follow", f.leader_elect_follow,
      "[NAMESPACE/]NAME: do not elect; lead while this Lease (held by the kube-scheduler "
      "beside this container) names this pod's hostname");
  app.add_option(
      "--leader-elect-follow-config", f.leader_elect_follow_config,
      "FILE: as --leader-elect-follow, with the Lease of this KubeSchedulerConfiguration "
      "(leaderElection.resourceNamespace/resourceName)");
  app.add_option("--leader-elect-resource-name", f.lease_name, "Lease name")->capture_default_str();
  app.add_option("--leader-elect-resource-namespace", f.lease_namespace,
                 "Lease namespace (default $POD_NAMESPACE, else kube-system)");
  app.add_option("--leader-elect-identity", f.identity,
                 "holder identity (default $POD_NAME or the hostname, plus a random suffix)");
  DurationOption(app, "--leader-elect-lease-duration", f.lease_duration, "lease duration");
  DurationOption(app, "--leader-elect-renew-deadline", f.renew_deadline,
                 "leader gives up after failing to renew this long");
  DurationOption(app, "--leader-elect-retry-period", f.retry_period, "acquire/renew period");
  app.add_flag("--debug", f.debug, "debug logging");
  int verbosity = 0;
  // klog spells it -v=4 (Go's single-dash long flags); CLI11 then hands over "=4".
  app.add_option_function<std::string>(
         "-v,--v",
         [&verbosity](std::string v) {
           if (!v.empty() && v.front() == '=') {
             v.erase(0, 1);
           }
           verbosity = std::atoi(v.c_str());
         },
         "klog verbosity; 4 or more enables debug logging")
      ->type_name("INT");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    *exit_code = code == 0 ? 0 : 2;
    return std::nullopt;
  }
  if (!selector_error.empty()) {
    err << selector_error << "\n";
    *exit_code = 2;
    return std::nullopt;
  }
  if (f.renew_deadline >= f.lease_duration) {
    err << "--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration\n";
    *exit_code = 2;
    return std::nullopt;
  }
  if (!f.leader_elect_follow.empty() && !f.leader_elect_follow_config.empty()) {
    err << "give at most one of --leader-elect-follow and --leader-elect-follow-config\n";
    *exit_code = 2;
    return std::nullopt;
  }
  f.debug = f.debug || verbosity >= 4;
  if (f.metrics_bind_address == "0") {
    f.metrics_bind_address.clear();  // controller-runtime's spelling of "disabled"
  }
  f.ignored = app.remaining();
  return f;
}

}  // namespace npushare::scheduler::http
