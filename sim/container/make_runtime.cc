// MakeRuntime: chooses runc or the namespace runtime (see container_runtime.h). runc is
// "usable" when it is found, we are root, and a probe container (`true`, with the same bundle
// layout, cgroup and namespaces as a real one) runs and exits 0: that catches the failures that
// matter on odd machines (no cgroup hierarchy it can write, no pivot_root on the root
// filesystem, seccomp or AppArmor refusals) with runc's own words.
#include <unistd.h>

#include "common/file_reader.h"
#include "sim/container/container_runtime.h"
#include "sim/container/namespace_runtime.h"
#include "sim/container/runc_runtime.h"
#include "sim/container/subprocess.h"

namespace npushare::container_sim {
namespace {

Status ProbeRunc(ContainerRuntime& runtime, const std::string& root_dir) {
  ContainerSpec probe;
  probe.id = "probe-" + std::to_string(getpid());
  probe.args = {"true"};
  probe.log_path = root_dir + "/probe.log";
  unlink(probe.log_path.c_str());
  Result<std::unique_ptr<Container>> c = runtime.Start(probe);
  if (!c.ok()) {
    return c.status();
  }
  Result<int> code = (*c)->Wait(std::chrono::seconds(30));
  Status killed = (*c)->Kill(std::chrono::milliseconds(0));
  Result<std::string> log = ReadFileLimited(probe.log_path, 64 << 10);
  unlink(probe.log_path.c_str());
  if (!code.ok()) {
    return code.status();
  }
  if (*code != 0) {
    return FailedPreconditionError("probe container exited " + std::to_string(*code) + ": " +
                                   Tail(log.ok() ? *log : ""));
  }
  return killed;
}

}  // namespace

Result<std::unique_ptr<ContainerRuntime>> MakeRuntime(const RuntimeOptions& options,
                                                      std::string* why_fallback) {
  if (why_fallback != nullptr) {
    why_fallback->clear();
  }
  if (options.kind == "namespace") {
    return MakeNamespaceRuntime(options);
  }
  if (options.kind != "auto" && options.kind != "runc") {
    return InvalidArgumentError("runtime kind '" + options.kind +
                                "' is not one of auto, runc, namespace");
  }
  Status why;
  Result<std::string> runc = FindRunc();
  if (!runc.ok()) {
    why = runc.status();
  } else if (geteuid() != 0) {
    why = FailedPreconditionError("runc: needs root (euid " + std::to_string(geteuid()) + ")");
  } else {
    Result<std::unique_ptr<ContainerRuntime>> runtime = MakeRuncRuntime(options, *runc);
    if (!runtime.ok()) {
      return runtime.status();  // the root directory is unusable: no runtime would work
    }
    why = ProbeRunc(**runtime, options.root_dir);
    if (why.ok()) {
      return runtime;
    }
    why = why.WithContext("runc probe failed");
  }
  if (options.kind == "runc") {
    return why;
  }
  if (why_fallback != nullptr) {
    *why_fallback = why.message();
  }
  return MakeNamespaceRuntime(options);
}

}  // namespace npushare::container_sim
