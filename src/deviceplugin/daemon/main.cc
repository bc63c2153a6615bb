// npushare-device-plugin: the per-node daemon kubelet talks to (DaemonSet on Ascend nodes).
//   npushare-device-plugin --node_name N --config_file /device-config.yaml
//                          [--device-plugin-path DIR] [--kubeconfig F] [--dcmi-library L] ...
// (`--help` lists every flag; HAMi's Ascend plugin flag names are accepted.)
//
// Logs klog-style lines on stderr (--log-format json: JSON lines, log_format.h). Prints "READY"
// (and the metrics port) on stdout once every part runs. SIGTERM/SIGINT: clean shutdown (sockets
// removed), exit 0. SIGHUP: re-check the kubelet registration now. Exit status: 0 after a signal or
// --help, 2 usage, 1 start-up failure (the message says which part and why).
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

#include "deviceplugin/daemon/daemon_options.h"
#include "deviceplugin/daemon/device_plugin_daemon.h"
#include "deviceplugin/daemon/log_format.h"

namespace {

using npushare::deviceplugin::daemon::DaemonOptions;
using npushare::deviceplugin::daemon::DevicePluginDaemon;

void SetUpLogging(int verbosity, const std::string& format) {
  auto logger = spdlog::stderr_logger_mt("npushare-device-plugin");
  // ValidateDaemonOptions accepted the format, so this cannot fail.
  (void)npushare::deviceplugin::daemon::ApplyLogFormat(*logger, format);
  logger->set_level(verbosity >= 6   ? spdlog::level::trace
                    : verbosity >= 4 ? spdlog::level::debug
                                     : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

int Run(int argc, char** argv) {
  DaemonOptions options;
  if (auto exit_code = npushare::deviceplugin::daemon::ParseDaemonFlags(argc, argv, &options)) {
    return *exit_code;
  }
  if (auto s = npushare::deviceplugin::daemon::ValidateDaemonOptions(options); !s.ok()) {
    fprintf(stderr, "npushare-device-plugin: %s\n", s.message().c_str());
    return 2;
  }
  SetUpLogging(options.verbosity, options.log_format);
  // Block the signals before any thread starts: only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A kubelet or API connection closing under a write must not kill the process.
  signal(SIGPIPE, SIG_IGN);

  DevicePluginDaemon daemon(options);
  if (auto s = daemon.Start(); !s.ok()) {
    spdlog::critical("start-up failed: {}", s.ToString());
    return 1;
  }
  spdlog::info("serving on node {} (device plugins in {}, metrics port {})", options.node_name,
               options.device_plugin_path, daemon.metrics_port());
  printf("READY metrics_port=%d\n", daemon.metrics_port());
  fflush(stdout);
  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) {
      continue;
    }
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: re-checking kubelet registration");
      daemon.Resync();
      continue;
    }
    spdlog::info("signal {}: shutting down", sig);
    break;
  }
  daemon.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return Run(argc, argv);
}
