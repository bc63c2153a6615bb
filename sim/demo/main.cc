// npushare-demo: a whole Ascend-sharing cluster on this machine, running real pods (issue 12).
//   npushare-demo [--duration SECONDS] [--run-dir DIR] [--keep] [--no-table]
//                 [--runtime auto|runc|namespace] [--pods FILE] [--source-dir DIR]
// Starts kube-local, npushare-scheduler, kube-scheduler-sim and three simulated nodes
// (sim/demo/demo_cluster.h), prints the `export KUBECONFIG=...` line, applies the demo pods with
// kubectl, shows a table refreshed every second for --duration seconds, then stops everything
// and prints a verdict (sim/demo/verdict.h). Exit 0 only when every invariant held; 1 when one
// failed; 2 for a bad command line; 3 when the cluster could not start. With --keep the
// cluster stays up after the verdict until Ctrl-C (SIGINT/SIGTERM), then is stopped the same
// way. Ctrl-C at any time stops it cleanly.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <thread>

#include "kube/objects.h"
#include "kube/resource.h"
#include "sim/demo/cluster_observer.h"
#include "sim/demo/demo_cluster.h"
#include "sim/demo/verdict.h"

namespace {

using npushare::demo::ClusterObserver;
using npushare::demo::DemoCluster;
using Clock = std::chrono::steady_clock;

// WaitSignal: sleeps up to `timeout`; true when SIGINT/SIGTERM/SIGHUP arrived (they are blocked and
// taken synchronously, so a Ctrl-C never interrupts a half-done step).
bool WaitSignal(const sigset_t& signals, std::chrono::milliseconds timeout) {
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>((timeout.count() % 1000) * 1000000)};
  return sigtimedwait(&signals, nullptr, &ts) > 0;
}

std::string SelfDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

// Gather: logs of the over-allocating pods (through kube-local's pods/log, i.e. the kubelet)
// and the scheduling events of the pods that were not placed.
npushare::demo::RunEvidence Gather(DemoCluster& cluster, const ClusterObserver& observer) {
  npushare::demo::RunEvidence ev;
  auto events = cluster.client().ListAll(npushare::kube::kEvents, "default", {});
  for (const auto& p : observer.pods()) {
    auto labels = cluster.client().Get(npushare::kube::kPods, "default", p.name);
    std::string expect;
    if (labels.ok()) {
      const auto& l = npushare::kube::Field(npushare::kube::Field(*labels, "metadata"), "labels");
      expect = l.is_object() ? l.value("demo.npushare.io/expect", "") : "";
    }
    if (expect == "oom") {
      auto logs = cluster.Kubectl({"logs", p.name});
      ev.logs[p.name] = logs.ok() ? logs->output : logs.status().ToString();
    }
    if (p.expect_unschedulable && events.ok()) {
      for (const auto& e : (*events)["items"]) {
        if (npushare::kube::StringField(npushare::kube::Field(e, "involvedObject"), "name") ==
            p.name) {
          ev.events[p.name] = npushare::kube::StringField(e, "reason") + ": " +
                              npushare::kube::StringField(e, "message");
        }
      }
    }
  }
  return ev;
}

int RunDemo(int argc, char** argv) {
  const auto program_start = Clock::now();
  CLI::App app{"npushare-demo: a whole Ascend-sharing cluster on this machine, running real pods"};
  int duration = 40;
  std::string run_dir;
  bool keep = false;
  bool no_table = false;
  std::string runtime = "auto";
  std::string source_dir = NPUSHARE_DEMO_SOURCE_DIR;
  std::string pods;
  app.add_option("--duration", duration, "seconds to run the pods before the verdict (default 40)")
      ->check(CLI::Range(5, 86400));
  app.add_option("--run-dir", run_dir,
                 "directory for state, logs and the kubeconfig (default: a new one in $TMPDIR)");
  app.add_flag("--keep", keep, "leave the cluster running after the verdict, until Ctrl-C");
  app.add_flag("--no-table", no_table, "no live table (for tests and CI)");
  app.add_option("--runtime", runtime, "kubelet-sim container runtime")
      ->check(CLI::IsMember({"auto", "runc", "namespace"}));
  app.add_option("--source-dir", source_dir, "where deploy/ and examples/ are");
  app.add_option("--pods", pods, "pods to apply (default examples/demo/pods.yaml)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (pods.empty()) {
    pods = source_dir + "/examples/demo/pods.yaml";
  }
  if (run_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/npushare-demo-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("npushare-demo: mkdtemp");
      return 3;
    }
    run_dir = tmpl;
  }
  run_dir = std::filesystem::absolute(run_dir).lexically_normal().string();
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // a closed terminal stops the cluster the orderly way too
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  npushare::demo::ClusterOptions options;
  options.run_dir = run_dir;
  options.bin_dir = SelfDir();
  options.lib_dir = std::filesystem::weakly_canonical(options.bin_dir + "/../lib").string();
  options.source_dir = source_dir;
  options.runtime = runtime;
  options.progress = [](const std::string& line) { std::cout << "  " << line << std::endl; };
  std::cout << "npushare demo: run directory " << run_dir << std::endl;
  auto cluster = DemoCluster::Start(options);
  if (!cluster.ok()) {
    std::cerr << "npushare-demo: the cluster did not start: " << cluster.status().ToString()
              << "\n(logs in " << run_dir << "/logs)\n";
    return 3;
  }
  DemoCluster& c = **cluster;
  const double startup_s = std::chrono::duration<double>(Clock::now() - program_start).count();
  std::cout << "\ncluster up in " << std::fixed << std::setprecision(1) << startup_s
            << " s. Use it from another shell:\n  export KUBECONFIG=" << c.kubeconfig()
            << "\n  dashboard: " << c.dashboard_url() << "\n\n";
  auto applied = c.Kubectl({"apply", "--validate=false", "-f", pods});
  if (!applied.ok() || applied->exit_code != 0) {
    std::cerr << "npushare-demo: kubectl apply -f " << pods << ": "
              << (applied.ok() ? applied->output : applied.status().ToString()) << "\n";
    c.Stop();
    return 3;
  }
  std::cout << applied->output << std::flush;

  ClusterObserver observer(c);
  bool interrupted = false;
  const auto run_until = Clock::now() + std::chrono::seconds(duration);
  while (Clock::now() < run_until) {
    auto tick = Clock::now();
    observer.Sample();
    if (!no_table) {
      std::cout << "\033[H\033[2J"
                << "npushare demo — " << run_dir << "   (Ctrl-C stops)\n"
                << "export KUBECONFIG=" << c.kubeconfig() << "\n"
                << "dashboard: " << c.dashboard_url() << "\n\n"
                << observer.RenderTable() << std::flush;
    }
    auto spent = Clock::now() - tick;
    auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::seconds(1) - spent);
    if (WaitSignal(signals, std::max(wait, std::chrono::milliseconds(1)))) {
      interrupted = true;
      break;
    }
  }
  observer.Sample();
  std::cout << "\n" << observer.RenderTable();
  auto evidence = Gather(c, observer);
  npushare::demo::Verdict verdict = npushare::demo::JudgeRun(observer, evidence);
  if (observer.first_running()) {
    std::printf("\nstartup to first Running pod: %.1f s (cluster up in %.1f s)\n",
                std::chrono::duration<double>(*observer.first_running() - program_start).count(),
                startup_s);
  }
  if (keep && !interrupted) {
    std::cout << "\n"
              << verdict.Render()
              << "\ncluster kept running (--keep): export KUBECONFIG=" << c.kubeconfig()
              << "\ndashboard: " << c.dashboard_url() << "\nCtrl-C stops it.\nKEEPING" << std::endl;
    while (!WaitSignal(signals, std::chrono::seconds(3600))) {
    }
  }
  // The run report, while the scheduler still serves: next to the kubeconfig.
  const std::string report_path = run_dir + "/npushare-report.html";
  if (npushare::Status written = c.WriteDashboardReport(report_path); written.ok()) {
    std::cout << "\nrun report: " << report_path << std::endl;
  } else {
    std::cout << "\nrun report not written: " << written.ToString() << std::endl;
  }
  std::cout << "\nstopping the cluster..." << std::endl;
  npushare::demo::CleanupReport report = c.Stop();
  npushare::demo::JudgeCleanup(report, verdict);
  if (interrupted) {
    verdict.Add(false, "interrupted before --duration ended");
  }
  std::cout << "\n" << verdict.Render() << std::flush;
  return verdict.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return RunDemo(argc, argv);
}
