#include "sim/container/oci_hooks.h"

#include <sys/stat.h>

#include "common/file_reader.h"
#include "sim/container/subprocess.h"

namespace npushare::container_sim {
namespace {

std::vector<std::string> HookEnv(const std::vector<std::string>& driver_env) {
  return MergeEnv({}, driver_env);
}

}  // namespace

Status RunHookList(const nlohmann::json& hooks, const std::string& phase, const std::string& state);

std::string OciState(const std::string& id, const std::string& status, int pid,
                     const std::string& bundle_dir) {
  nlohmann::json state = {{"ociVersion", "1.0.2-dev"},
                          {"id", id},
                          {"status", status},
                          {"pid", pid},
                          {"bundle", bundle_dir}};
  return state.dump();
}

Status RunOciHooks(const nlohmann::json& config, const std::string& phase,
                   const std::string& state) {
  if (!config.is_object() || !config.contains("hooks") || !config["hooks"].is_object() ||
      !config["hooks"].contains(phase) || !config["hooks"][phase].is_array()) {
    return OkStatus();
  }
  try {
    return RunHookList(config["hooks"][phase], phase, state);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(phase + " hooks: malformed entry: " + e.what());
  }
}

Status RunHookList(const nlohmann::json& hooks, const std::string& phase,
                   const std::string& state) {
  for (const auto& hook : hooks) {
    std::string path = hook.value("path", "");
    std::vector<std::string> argv = hook.value("args", std::vector<std::string>{});
    if (argv.empty()) {
      argv.push_back(path);
    }
    std::vector<std::string> cmd = {path};
    cmd.insert(cmd.end(), argv.begin() + 1, argv.end());
    CommandOptions opts;
    opts.env = hook.value("env", std::vector<std::string>{});
    opts.stdin_data = state;
    opts.timeout = std::chrono::seconds(hook.value("timeout", 30));
    NPUSHARE_ASSIGN_OR_RETURN(CommandResult r, RunCommand(cmd, opts));
    if (r.exit_code != 0) {
      return FailedPreconditionError(phase + " hook " + path + " exited " +
                                     std::to_string(r.exit_code) + ": " + Tail(r.err));
    }
  }
  return OkStatus();
}

void AddAscendHooks(const RuntimeOptions& options, nlohmann::json* config) {
  std::vector<std::string> env = HookEnv(options.driver_env);
  auto hook = [&](const char* phase) {
    return nlohmann::json{{"path", options.ascend_hook},
                          {"args", {"npushare-ascend-hook", phase}},
                          {"env", env},
                          {"timeout", 30}};
  };
  (*config)["hooks"]["createRuntime"].push_back(hook("createRuntime"));
  (*config)["hooks"]["poststop"].push_back(hook("poststop"));
}

Status RunAscendCreate(const RuntimeOptions& options, const BundlePaths& bundle) {
  std::vector<std::string> cmd = {options.ascend_hook, "create", "--bundle", bundle.dir};
  for (const auto& d : options.driver_dirs) {
    cmd.push_back("--driver-dir");
    cmd.push_back(d);
  }
  CommandOptions opts;
  opts.env = HookEnv(options.driver_env);
  NPUSHARE_ASSIGN_OR_RETURN(CommandResult r, RunCommand(cmd, opts));
  if (r.exit_code != 0) {
    return FailedPreconditionError("ascend runtime (" + options.ascend_hook + " create) exited " +
                                   std::to_string(r.exit_code) + ": " + Tail(r.err));
  }
  return OkStatus();
}

Status CleanupAscend(const BundlePaths& bundle, const std::string& id) {
  struct stat st;
  if (stat((bundle.dir + "/" + kVnpuRecordFile).c_str(), &st) != 0) {
    return OkStatus();
  }
  NPUSHARE_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(bundle.config, 4 << 20));
  nlohmann::json config = nlohmann::json::parse(text, nullptr, false);
  if (config.is_discarded()) {
    return InternalError("bundle config " + bundle.config + " is not JSON");
  }
  return RunOciHooks(config, "poststop", OciState(id, "stopped", 0, bundle.dir));
}

}  // namespace npushare::container_sim
