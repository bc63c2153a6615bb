#include "cli/cli_app.h"

#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/certs_command.h"
#include "cli/demo_command.h"
#include "cli/schedule_command.h"
#include "config/config_loader.h"

namespace npushare::cli {

int RunCli(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "npushare: Kubernetes sharing of Huawei Ascend NPUs (HAMi-compatible).\n"
      "Operator tools: dry-run scheduling and configuration checks."};
  app.require_subcommand(1);

  ScheduleArgs sa;
  CLI::App* schedule = app.add_subcommand(
      "schedule",
      "Dry-run placement: admit, filter, score and place each pod in order on the described\n"
      "nodes, recording usage so later pods see it. Nothing is sent to a cluster.");
  schedule->add_option("--config", sa.config_path, "device-config.yaml (bare or ConfigMap)")
      ->required();
  schedule
      ->add_option("--nodes", sa.nodes_path,
                   "nodes: Node objects with plugin annotations (kubectl get node -o yaml) or "
                   "the compact `nodes:` list")
      ->required();
  schedule->add_option("--pods", sa.pods_path, "Pod manifests (multi-document YAML)")->required();
  schedule
      ->add_option("--policy", sa.node_policy,
                   "node policy default (pods override with hami.io/node-scheduler-policy)")
      ->check(CLI::IsMember({"binpack", "spread"}))
      ->capture_default_str();
  schedule
      ->add_option(
          "--device-policy", sa.device_policy,
          "device policy default (pods override with hami.io/gpu-scheduler-policy): spread, "
          "binpack, mutex, numa, topology-aware, or a comma list such as numa,binpack")
      ->capture_default_str();
  schedule->add_option("--output,-o", sa.output, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  schedule->add_option("--now", sa.now_unix_seconds,
                       "unix time written into annotations (default: now; for reproducible "
                       "output)");

  std::vector<std::string> files;
  CLI::App* config = app.add_subcommand("config", "Configuration tools");
  config->require_subcommand(1);
  CLI::App* validate = config->add_subcommand(
      "validate",
      "Check device-config.yaml / node-config.yaml files (bare or ConfigMap) with the same\n"
      "loader the daemons use; prints file:line diagnostics. Exit 1 on any error.");
  validate->add_option("FILE", files, "files to check")->required();

  CertsArgs ca;
  CLI::App* certs = app.add_subcommand(
      "certs",
      "Write a self-signed development CA and a serving certificate for npushare-scheduler\n"
      "(webhook + extender TLS) in cert-manager's layout: ca.crt, tls.crt, tls.key (0600).");
  certs->add_option("--out", ca.out_dir, "directory to write into (created when missing)")
      ->required();
  certs->add_option("--host", ca.hosts,
                    "DNS name or IP for the certificate (repeatable; default localhost and "
                    "127.0.0.1; in a cluster add <service>.<namespace>.svc)");
  certs->add_option("--days", ca.days, "validity in days")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  certs->add_flag("--force", ca.force, "replace existing files");

  CLI::App* demo = app.add_subcommand(
      "demo",
      "Run a whole Ascend-sharing cluster on this machine (simulated nodes, real pods) and\n"
      "judge it: runs npushare-demo from this program's directory; its flags follow\n"
      "(npushare demo --help lists them).");
  demo->prefix_command();  // every later argument, --help included, belongs to npushare-demo
  demo->set_help_flag();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }
  if (schedule->parsed()) {
    return RunSchedule(sa, out, err);
  }
  if (certs->parsed()) {
    return RunCerts(ca, out, err);
  }
  if (validate->parsed()) {
    return config::ValidateConfigFiles(files, out);
  }
  if (demo->parsed()) {
    return RunDemo(demo->remaining(), err);
  }
  return 2;
}

}  // namespace npushare::cli
