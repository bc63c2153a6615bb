// kubelet-sim: the kubelet stand-in as a process, for the demo and manual checks.
//   kubelet-sim --dir DIR [--dial-timeout-ms N]
// Serves DIR/kubelet.sock, prints "READY <socket>" as its first line, then one line per change:
//   registered <resource> <endpoint> ok|error: <message>
//   devices <resource> capacity=<n> allocatable=<m> connected=<0|1>
// SIGHUP restarts it like kubelet restarts (sockets in DIR removed, kubelet.sock re-created);
// SIGINT/SIGTERM stop it (exit 0). Exit 2: bad command line; 1: cannot serve.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <string>

#include "sim/kubelet/kubelet_sim.h"

namespace {

using npushare::kubelet_sim::KubeletSim;
using npushare::kubelet_sim::KubeletState;

// PrintChanges: lines for what differs between `before` and `now`.
void PrintChanges(const KubeletState& before, const KubeletState& now) {
  for (size_t i = before.registrations.size(); i < now.registrations.size(); ++i) {
    const auto& r = now.registrations[i];
    printf("registered %s %s %s\n", r.resource_name.c_str(), r.endpoint.c_str(),
           r.result.ok() ? "ok" : ("error: " + r.result.message()).c_str());
  }
  for (const auto& [name, r] : now.resources) {
    auto old = before.resources.find(name);
    if (old == before.resources.end() || old->second.capacity() != r.capacity() ||
        old->second.allocatable() != r.allocatable() || old->second.connected != r.connected) {
      printf("devices %s capacity=%zu allocatable=%zu connected=%d\n", name.c_str(), r.capacity(),
             r.allocatable(), r.connected ? 1 : 0);
    }
  }
  fflush(stdout);
}

int Run(int argc, char** argv) {
  CLI::App app{"kubelet-sim: kubelet's device-plugin side, for tests and demos"};
  std::string dir;
  int dial_timeout_ms = 10000;
  app.add_option("--dir", dir, "device-plugin directory (created if missing)")->required();
  app.add_option("--dial-timeout-ms", dial_timeout_ms, "Register's dial back to the plugin")
      ->check(CLI::Range(1, 600000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
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
  printf("READY %s\n", (*kubelet)->socket_path().c_str());
  fflush(stdout);
  KubeletState seen;
  const timespec tick{0, 100 * 1000 * 1000};
  while (true) {
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGHUP) {
      if (auto s = (*kubelet)->Restart(); !s.ok()) {
        fprintf(stderr, "kubelet-sim: restart: %s\n", s.ToString().c_str());
        return 1;
      }
      printf("restarted\n");
    } else if (sig == SIGINT || sig == SIGTERM) {
      break;
    }
    KubeletState now = (*kubelet)->State();
    PrintChanges(seen, now);
    seen = std::move(now);
  }
  (*kubelet)->Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return Run(argc, argv);
}
