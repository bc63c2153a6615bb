// kube-scheduler-sim: the kube-scheduler stand-in (see sim/scheduler/kube_scheduler.h).
//   kube-scheduler-sim --config /etc/kubernetes/scheduler-config.yaml [--kubeconfig FILE]
// reads a real KubeSchedulerConfiguration, prints "ready" once its caches have synced, and
// schedules until SIGINT/SIGTERM. --leader-elect is accepted for command-line compatibility
// with kube-scheduler and must be false (the stand-in does not elect a leader).
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"
#include "kube/rest_config.h"
#include "sim/scheduler/kube_scheduler.h"

namespace {

int RunKubeSchedulerSim(int argc, char** argv) {
  CLI::App app{"kube-scheduler-sim: a kube-scheduler stand-in that calls scheduler extenders"};
  std::string config_path;
  std::string kubeconfig;
  bool leader_elect = false;
  int verbosity = 0;
  app.add_option("--config", config_path, "KubeSchedulerConfiguration file")->required();
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig (default: clientConnection.kubeconfig, then the usual lookup)");
  app.add_option("--leader-elect", leader_elect, "accepted for compatibility; must be false");
  app.add_option("-v,--v", verbosity, "accepted for compatibility; ignored");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (leader_elect) {
    std::cerr << "kube-scheduler-sim: --leader-elect=true is not supported\n";
    return 2;
  }
  auto config = npushare::kube_scheduler_sim::LoadSchedulerConfigFile(config_path);
  if (!config.ok()) {
    std::cerr << "kube-scheduler-sim: " << config.status().ToString() << "\n";
    return 1;
  }
  npushare::kube::LoadOptions load;
  load.kubeconfig = !kubeconfig.empty() ? kubeconfig : config->kubeconfig;
  auto rest = npushare::kube::LoadRestConfig(load);
  if (!rest.ok()) {
    std::cerr << "kube-scheduler-sim: " << rest.status().ToString() << "\n";
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  npushare::kube::CurlTransport transport(*rest);
  npushare::kube::ClientOptions client_options;
  client_options.qps = config->qps;
  client_options.burst = config->burst;
  npushare::kube::KubeClient client(transport, client_options);
  npushare::kube_scheduler_sim::SchedulerOptions options;
  options.config = std::move(*config);
  npushare::kube_scheduler_sim::KubeScheduler scheduler(client, std::move(options));
  if (auto st = scheduler.Start(std::chrono::seconds(60)); !st.ok()) {
    std::cerr << "kube-scheduler-sim: " << st.ToString() << "\n";
    return 1;
  }
  std::cout << "ready" << std::endl;  // flushed for the parent
  int sig = 0;
  sigwait(&signals, &sig);
  scheduler.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return RunKubeSchedulerSim(argc, argv);
}
