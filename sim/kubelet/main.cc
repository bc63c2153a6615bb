// kubelet-sim: the kubelet stand-in as a process, for the demo and manual checks.
//   kubelet-sim --dir DIR [--dial-timeout-ms N]
//       [--node NAME --kubeconfig FILE --root-dir DIR [--runtime auto|runc|namespace]
//        [--ascend-hook PATH] [--driver-dir DIR]... [--driver-env K=V]... [--label K=V]...
//        [--port N] [--heartbeat-ms N] [--max-backoff-ms N] [--max-grace-ms N]]
// Serves DIR/kubelet.sock, prints "READY <socket>" as its first line, then one line per change:
//   registered <resource> <endpoint> ok|error: <message>
//   devices <resource> capacity=<n> allocatable=<m> connected=<0|1>
// With --node and --kubeconfig the pod lifecycle runs too (sim/kubelet/node_agent.h): once the
// Node is registered it prints "NODE <name> port=<N> runtime=<runc|namespace>", then
// "pod <ns>/<name> <phase>" whenever a pod's phase changes.
// SIGHUP restarts the device manager like kubelet restarts (sockets in DIR removed, kubelet.sock
// re-created); SIGINT/SIGTERM stop it (exit 0; containers are killed). Exit 2: bad command line;
// 1: cannot serve, no API server, no container runtime.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "common/thread_annotations.h"
#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"
#include "kube/rest_config.h"
#include "sim/container/container_runtime.h"
#include "sim/kubelet/kubelet_sim.h"
#include "sim/kubelet/node_agent.h"

namespace {

using npushare::Mutex;
using npushare::MutexLock;
using npushare::kubelet_sim::KubeletSim;
using npushare::kubelet_sim::KubeletState;

Mutex g_stdout_mu;  // lines from the pod workers and the main loop never interleave

void PrintLine(const std::string& line) {
  MutexLock g(&g_stdout_mu);
  fputs((line + "\n").c_str(), stdout);
  fflush(stdout);
}

// PrintChanges: lines for what differs between `before` and `now`.
void PrintChanges(const KubeletState& before, const KubeletState& now) {
  for (size_t i = before.registrations.size(); i < now.registrations.size(); ++i) {
    const auto& r = now.registrations[i];
    PrintLine("registered " + r.resource_name + " " + r.endpoint + " " +
              (r.result.ok() ? "ok" : ("error: " + r.result.message())));
  }
  for (const auto& [name, r] : now.resources) {
    auto old = before.resources.find(name);
    if (old == before.resources.end() || old->second.capacity() != r.capacity() ||
        old->second.allocatable() != r.allocatable() || old->second.connected != r.connected) {
      PrintLine("devices " + name + " capacity=" + std::to_string(r.capacity()) + " allocatable=" +
                std::to_string(r.allocatable()) + " connected=" + (r.connected ? "1" : "0"));
    }
  }
}

// SplitLabels: "K=V" flags into a map; false on a malformed one.
bool SplitLabels(const std::vector<std::string>& flags, std::map<std::string, std::string>* out) {
  for (const auto& f : flags) {
    size_t eq = f.find('=');
    if (eq == 0 || eq == std::string::npos) {
      return false;
    }
    (*out)[f.substr(0, eq)] = f.substr(eq + 1);
  }
  return true;
}

int Run(int argc, char** argv) {
  CLI::App app{"kubelet-sim: kubelet's device-plugin side and pod lifecycle, for tests and demos"};
  std::string dir;
  int dial_timeout_ms = 10000;
  std::string node, kubeconfig, root_dir, runtime_kind = "auto", ascend_hook;
  std::vector<std::string> driver_dirs, driver_env, label_flags;
  int port = 0;
  int heartbeat_ms = 10000, max_backoff_ms = 10000, max_grace_ms = 10000;
  app.add_option("--dir", dir, "device-plugin directory (created if missing)")->required();
  app.add_option("--dial-timeout-ms", dial_timeout_ms, "Register's dial back to the plugin")
      ->check(CLI::Range(1, 600000));
  app.add_option("--node", node, "node name: with --kubeconfig, register it and run its pods");
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig of the API server");
  app.add_option("--root-dir", root_dir,
                 "pod logs (DIR/pods/<uid>/<container>.log), runtime state");
  app.add_option("--runtime", runtime_kind, "container runtime")
      ->check(CLI::IsMember({"auto", "runc", "namespace"}));
  app.add_option("--ascend-hook", ascend_hook,
                 "npushare-ascend-hook binary (runtimeClassName ascend)");
  app.add_option("--driver-dir", driver_dirs, "host dir mounted read-only into ascend containers");
  app.add_option("--driver-env", driver_env, "K=V added to ascend containers and the hook");
  app.add_option("--label", label_flags, "node label K=V (default ascend=on)");
  app.add_option("--port", port, "kubelet HTTP port for logs (0 = ephemeral)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--heartbeat-ms", heartbeat_ms, "Node status heartbeat period")
      ->check(CLI::Range(100, 600000));
  app.add_option("--max-backoff-ms", max_backoff_ms, "cap of the container restart backoff")
      ->check(CLI::Range(1, 600000));
  app.add_option("--max-grace-ms", max_grace_ms, "cap of a pod's termination grace period")
      ->check(CLI::Range(0, 600000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const bool run_pods = !node.empty() || !kubeconfig.empty();
  std::map<std::string, std::string> labels;
  if (run_pods && (node.empty() || kubeconfig.empty() || root_dir.empty())) {
    fprintf(stderr, "kubelet-sim: --node, --kubeconfig and --root-dir go together\n");
    return 2;
  }
  std::map<std::string, std::string> env_check;
  if (!SplitLabels(label_flags, &labels) || !SplitLabels(driver_env, &env_check)) {
    fprintf(stderr, "kubelet-sim: --label and --driver-env take K=V\n");
    return 2;
  }
  if (label_flags.empty()) {
    labels["ascend"] = "on";
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto kubelet = KubeletSim::Start(
      {.plugin_dir = dir, .dial_timeout = std::chrono::milliseconds(dial_timeout_ms)});
  if (!kubelet.ok()) {
    fprintf(stderr, "kubelet-sim: %s\n", kubelet.status().ToString().c_str());
    return 1;
  }
  PrintLine("READY " + (*kubelet)->socket_path());

  // The pod side; declared in construction order, destroyed in reverse (agent first).
  std::unique_ptr<npushare::kube::CurlTransport> transport;
  std::unique_ptr<npushare::kube::KubeClient> client;
  std::unique_ptr<npushare::container_sim::ContainerRuntime> runtime;
  std::unique_ptr<npushare::kubelet_sim::NodeAgent> agent;
  if (run_pods) {
    npushare::kube::LoadOptions load;
    load.kubeconfig = kubeconfig;
    auto config = npushare::kube::LoadRestConfig(load);
    if (!config.ok()) {
      fprintf(stderr, "kubelet-sim: kubeconfig: %s\n", config.status().ToString().c_str());
      return 1;
    }
    transport = std::make_unique<npushare::kube::CurlTransport>(*config);
    npushare::kube::ClientOptions co;
    co.qps = config->qps;
    co.burst = config->burst;
    client = std::make_unique<npushare::kube::KubeClient>(*transport, co);
    std::string why;
    auto made = npushare::container_sim::MakeRuntime({.root_dir = root_dir + "/runtime",
                                                      .kind = runtime_kind,
                                                      .ascend_hook = ascend_hook,
                                                      .driver_dirs = driver_dirs,
                                                      .driver_env = driver_env},
                                                     &why);
    if (!made.ok()) {
      fprintf(stderr, "kubelet-sim: container runtime: %s\n", made.status().ToString().c_str());
      return 1;
    }
    runtime = std::move(*made);
    if (!why.empty()) {
      fprintf(stderr, "kubelet-sim: runc cannot run here (%s); using the %s runtime\n", why.c_str(),
              runtime->name().c_str());
    }
    npushare::kubelet_sim::NodeAgentOptions opts;
    opts.node_name = node;
    opts.root_dir = root_dir;
    opts.labels = labels;
    opts.logs_port = port;
    opts.container_runtime_version = runtime->name() + "://sim";
    opts.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);
    opts.max_backoff = std::chrono::milliseconds(max_backoff_ms);
    opts.initial_backoff = std::min(opts.initial_backoff, opts.max_backoff);
    opts.max_grace = std::chrono::milliseconds(max_grace_ms);
    opts.on_phase = [](const std::string& key, const std::string& phase) {
      PrintLine("pod " + key + " " + phase);
    };
    agent = std::make_unique<npushare::kubelet_sim::NodeAgent>(*client, **kubelet, *runtime,
                                                               std::move(opts));
    if (auto s = agent->Start(); !s.ok()) {
      fprintf(stderr, "kubelet-sim: %s\n", s.ToString().c_str());
      return 1;
    }
    PrintLine("NODE " + node + " port=" + std::to_string(agent->port()) +
              " runtime=" + runtime->name());
  }

  KubeletState seen;
  const timespec tick{0, 100 * 1000 * 1000};
  int exit_code = 0;
  while (true) {
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGHUP) {
      if (auto s = (*kubelet)->Restart(); !s.ok()) {
        fprintf(stderr, "kubelet-sim: restart: %s\n", s.ToString().c_str());
        exit_code = 1;
        break;
      }
      PrintLine("restarted");
    } else if (sig == SIGINT || sig == SIGTERM) {
      break;
    }
    KubeletState now = (*kubelet)->State();
    PrintChanges(seen, now);
    seen = std::move(now);
  }
  if (agent != nullptr) {
    agent->Stop();
  }
  (*kubelet)->Stop();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  return Run(argc, argv);
}
