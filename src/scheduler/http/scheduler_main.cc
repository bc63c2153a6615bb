#include "scheduler/http/scheduler_main.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <random>
#include <thread>

#include "dashboard/dashboard.h"
#include "dashboard/http_routes.h"
#include "dashboard/metrics_scraper.h"
#include "kube/clock.h"
#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"
#include "kube/leader_elector.h"
#include "kube/rest_config.h"
#include "scheduler/http/scheduler_flags.h"
#include "scheduler/http/scheduler_http_server.h"
#include "scheduler/service/dashboard_source.h"
#include "scheduler/service/lease_follower.h"
#include "scheduler/service/scheduler_service.h"

namespace npushare::scheduler::http {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::string DefaultIdentity() {
  char host[256] = "npushare-scheduler";
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%08x%08x", rd(), rd());
  return EnvOr("POD_NAME", host) + "_" + suffix;
}

// FollowedLeaseFromFlags: the kube-scheduler Lease to follow, nullopt when not in follow mode.
Result<std::optional<FollowedLease>> FollowedLeaseFromFlags(const SchedulerFlags& flags) {
  if (!flags.leader_elect_follow.empty()) {
    NPUSHARE_ASSIGN_OR_RETURN(FollowedLease l, ParseFollowedLeaseFlag(flags.leader_elect_follow));
    return std::optional<FollowedLease>(std::move(l));
  }
  if (!flags.leader_elect_follow_config.empty()) {
    NPUSHARE_ASSIGN_OR_RETURN(FollowedLease l, LoadFollowedLeaseFromKubeSchedulerConfig(
                                                   flags.leader_elect_follow_config));
    return std::optional<FollowedLease>(std::move(l));
  }
  return std::optional<FollowedLease>();
}

int Run(const SchedulerFlags& flags, const sigset_t& signals) {
  for (const auto& extra : flags.ignored) {
    spdlog::warn("ignoring unknown argument {}", extra);
  }
  auto followed = FollowedLeaseFromFlags(flags);
  if (!followed.ok()) {
    spdlog::critical("--leader-elect-follow: {}", followed.status().ToString());
    return followed.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  const std::string hostname = LocalHostname();
  if (followed->has_value() && (*followed)->leader_elect && hostname.empty()) {
    spdlog::critical("--leader-elect-follow needs this pod's hostname; gethostname failed");
    return 1;
  }
  kube::LoadOptions load;
  load.kubeconfig = flags.kubeconfig;
  auto rest = kube::LoadRestConfig(load);
  if (!rest.ok()) {
    spdlog::critical("no Kubernetes API configuration: {}", rest.status().ToString());
    return 1;
  }
  spdlog::info("API server {}", rest->server);
  kube::Clock& clock = kube::RealClock();
  kube::CurlTransport transport(*rest, clock);
  kube::ClientOptions client_options;
  client_options.qps = rest->qps;
  client_options.burst = rest->burst;
  kube::KubeClient client(transport, client_options, clock);

  SchedulerServiceOptions so;
  so.scheduler_name = flags.scheduler_name;
  so.device_config_file = flags.device_config_file;
  so.node_policy = flags.node_policy;
  so.device_policy = flags.device_policy;
  so.node_lock_timeout = flags.node_lock_timeout;
  so.node_label_selector = flags.node_label_selector;
  so.pod_name = EnvOr("POD_NAME", "");
  so.event_namespace = EnvOr("POD_NAMESPACE", so.event_namespace);
  auto service = SchedulerService::Create(client, clock, so);
  if (!service.ok()) {
    spdlog::critical("cannot create the scheduling service: {}", service.status().ToString());
    return 1;
  }
  AdmissionWebhookOptions wo;
  wo.scheduler_name = flags.scheduler_name;
  wo.force_overwrite_default_scheduler = flags.force_overwrite_default_scheduler;
  SchedulerService* svc = service->get();
  // One device config for Filter/Bind and the webhook: the service loads and re-reads it.
  AdmissionWebhook webhook(wo, [svc] { return svc->CurrentDeviceConfig(); });

  // The dashboard (/ui, /api/v1/cluster) on the plain metrics address; it outlives the server.
  DashboardSourceOptions dso;
  dso.metrics_url_template = flags.dashboard_plugin_metrics_url_template;
  DashboardSource dashboard_source(client, *svc, dso);
  dashboard::HttpMetricsFetcher metrics_fetcher;
  dashboard::Dashboard dash(dashboard_source, metrics_fetcher, {});

  SchedulerHttpOptions ho;
  ho.bind_address = flags.http_bind;
  ho.cert_file = flags.cert_file;
  ho.key_file = flags.key_file;
  ho.metrics_bind_address = flags.metrics_bind_address;
  ho.metrics_extra_routes = {{"/ui", "dashboard page (nodes, chips, slices, pending pods)"},
                             {"/api/v1/cluster", "dashboard JSON (?history_points=N)"}};
  ho.register_metrics_routes = [&dash](httplib::Server& s) {
    dashboard::RegisterDashboardRoutes(s, dash, {});
  };
  SchedulerHttpServer server(ho, *svc, webhook, [svc] { return svc->MetricsText(); });
  if (Status s = server.Start(); !s.ok()) {
    spdlog::critical("cannot serve: {}", s.ToString());
    return 1;
  }

  if (Status s = svc->Start(); !s.ok()) {
    if (s.code() == StatusCode::kDeadlineExceeded) {
      spdlog::warn("caches not synced yet ({}); /readyz reports 503 until they are", s.message());
    } else {
      spdlog::critical("cannot start the scheduling service: {}", s.ToString());
      server.Stop();
      return 1;
    }
  }
  dashboard_source.Start();
  dash.Start();

  std::unique_ptr<kube::LeaderElector> elector;
  std::unique_ptr<LeaseFollower> follower;
  std::atomic<bool> stopping{false};
  std::thread election;
  if (followed->has_value() && (*followed)->leader_elect) {
    // Follow mode: bind exactly while the kube-scheduler beside us (which calls our /bind)
    // holds its Lease; two separate elections could pick different pods (docs/scheduler.md).
    LeaseFollowerOptions fo;
    fo.namespace_name = (*followed)->namespace_name;
    fo.lease_name = (*followed)->lease_name;
    fo.hostname = hostname;
    fo.log = [](const std::string& line) { spdlog::info("{}", line); };
    spdlog::info("following kube-scheduler's Lease {}/{} as host {}", fo.namespace_name,
                 fo.lease_name, fo.hostname);
    follower = std::make_unique<LeaseFollower>(
        client, fo,
        [svc](bool leader) {
          spdlog::info("{}", leader ? "the kube-scheduler in this pod leads: binding here"
                                    : "the kube-scheduler in this pod does not lead: not binding");
          svc->SetLeader(leader);
        },
        clock);
    election = std::thread([&follower] { follower->Run(); });
  } else if (followed->has_value()) {
    // kube-scheduler runs without leader election: every replica's kube-scheduler schedules and
    // binds through its own pod's npushare, so every replica must bind.
    spdlog::info("kube-scheduler does not elect (leaderElection.leaderElect: false): leading");
    svc->SetLeader(true);
  } else if (flags.leader_elect) {
    kube::LeaderElectionOptions lo;
    lo.lease_name = flags.lease_name;
    lo.namespace_name = flags.lease_namespace.empty() ? EnvOr("POD_NAMESPACE", "kube-system")
                                                      : flags.lease_namespace;
    lo.identity = flags.identity.empty() ? DefaultIdentity() : flags.identity;
    lo.lease_duration = flags.lease_duration;
    lo.renew_deadline = flags.renew_deadline;
    lo.retry_period = flags.retry_period;
    kube::LeaderCallbacks cb;
    cb.on_started_leading = [svc, id = lo.identity] {
      spdlog::info("became leader as {}", id);
      svc->SetLeader(true);
    };
    cb.on_stopped_leading = [svc] {
      spdlog::warn("stopped leading: binding is left to the new leader");
      svc->SetLeader(false);
    };
    spdlog::info("leader election on Lease {}/{} as {}", lo.namespace_name, lo.lease_name,
                 lo.identity);
    elector = std::make_unique<kube::LeaderElector>(client, lo, cb, clock);
    election = std::thread([&elector, &stopping] {
      while (!stopping.load()) {
        elector->Run();  // returns on Stop() or after losing the lease: campaign again
      }
    });
  } else {
    svc->SetLeader(true);
  }

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received signal {}, shutting down", sig);
  dash.Stop();
  dashboard_source.Stop();
  server.Stop();
  stopping.store(true);
  if (elector) {
    elector->Stop();
  }
  if (follower) {
    follower->Stop();
  }
  if (election.joinable()) {
    election.join();
  }
  svc->Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int SchedulerMain(int argc, char** argv) {
  int exit_code = 0;
  auto flags = ParseSchedulerFlags(argc, argv, std::cout, std::cerr, &exit_code);
  if (!flags) {
    return exit_code;
  }
  // klog's header: Lmmdd hh:mm:ss.uuuuuu threadid] message
  spdlog::set_pattern("%L%m%d %H:%M:%S.%f %7t] %v");
  spdlog::set_level(flags->debug ? spdlog::level::debug : spdlog::level::info);
  // Block the stop signals in every thread (threads inherit the mask) so the main thread
  // receives them through sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return Run(*flags, signals);
}

}  // namespace npushare::scheduler::http
