// File: sim/container/container_runtime.h
//
// ContainerRuntime: runs one process tree as a container for the kubelet stand-in, either as a
// real OCI container with runc (a bundle per container, runc state under RuntimeOptions.root_dir)
// or, where runc cannot run, in a private mount + pid namespace with the same mounts. Both give
// the same observable behaviour: a root that is a read-only view of the host's /usr, /lib, /lib64,
// /bin, /sbin; a private writable /etc (a minimal copy: passwd, group, hosts, resolv.conf,
// nsswitch.conf); tmpfs /tmp and /run; /proc; /dev with runc's default devices plus the spec's
// device nodes; the spec's bind mounts with read_only honoured; the host network (so 127.0.0.1
// services are reachable). PATH defaults to
// "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" unless the spec env sets PATH.
//
// Containers with ascend_runtime follow the `ascend` RuntimeClass contract (contract B,
// ascend-abi.md §4.2): driver_dirs mounted read-only, driver_env added, ASCEND_VISIBLE_DEVICES /
// ASCEND_VNPU_SPECS / ASCEND_RUNTIME_OPTIONS applied through the npushare-ascend-hook binary
// (createRuntime creates the vNPU; poststop destroys it). See docs/npu-sim.md, "Ascend runtime".
//
// Env: the default PATH, then (ascend_runtime) driver_env, then spec.env; a later "K=" replaces
// an earlier one. Logs: stdout and stderr go to the same file; with runc they are copied from
// two pipes, so lines of the two streams may interleave differently from the program's order.
// Leftovers: MakeRuntime first kills and removes whatever an earlier process left under
// root_dir (containers, bundles, vNPUs); a root_dir belongs to one runtime instance at a time.
//
// Usage:
//   std::string why;
//   NPUSHARE_ASSIGN_OR_RETURN(auto runtime,
//       MakeRuntime({.root_dir = "/var/lib/kubelet-sim", .ascend_hook = hook}, &why));
//   if (!why.empty()) LOG << "runc unusable, using " << runtime->name() << ": " << why;
//   NPUSHARE_ASSIGN_OR_RETURN(auto c, runtime->Start(spec));
//   Result<int> code = c->Wait(std::chrono::seconds(30));
//   NPUSHARE_RETURN_IF_ERROR(c->Kill(std::chrono::seconds(5)));
//
// Thread safety: a ContainerRuntime is safe for concurrent Start calls. A Container is safe for
// concurrent use (pid/ExitCode/Wait/Kill from different threads).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::container_sim {

struct BindMount {
  std::string source;
  std::string destination;
  bool read_only = true;
};

struct DeviceNode {
  std::string host_path;
  std::string container_path;
  std::string permissions = "rw";
};

struct ContainerSpec {
  std::string id;                 // unique per runtime root, [a-z0-9][a-z0-9_.-]{0,63}
  std::vector<std::string> args;  // argv; args[0] is looked up in the container's PATH
  std::vector<std::string> env;   // "K=V"
  std::string working_dir = "/";
  std::vector<BindMount> mounts;    // Allocate's mounts + the pod's own; read_only honoured
  std::vector<DeviceNode> devices;  // Allocate's DeviceSpecs
  std::string log_path;             // stdout+stderr appended here (created 0640, parent made 0750)
  bool ascend_runtime = false;  // pod's runtimeClassName == "ascend": the Ascend contract applies
  std::optional<uint32_t> uid, gid;  // securityContext.runAsUser/runAsGroup
};

// Container: one running container; the destructor is Kill(grace 0) if still running.
class Container {
 public:
  virtual ~Container() = default;
  // pid: host pid of the container's init process.
  virtual int pid() const = 0;
  // ExitCode: non-blocking; the exit status, or 128+signal when a signal ended it.
  virtual std::optional<int> ExitCode() const = 0;
  // Wait: the exit code once the container has exited; kDeadlineExceeded on timeout.
  virtual Result<int> Wait(std::chrono::milliseconds timeout) = 0;
  // Kill: SIGTERM, then SIGKILL after `grace`; then full cleanup (runc delete, poststop hooks,
  // bundle removed). Idempotent; also cleans up a container that already exited.
  virtual Status Kill(std::chrono::milliseconds grace) = 0;
};

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;
  // name: "runc" or "namespace".
  virtual std::string name() const = 0;
  // Start: creates and starts the container; on failure nothing is left behind.
  virtual Result<std::unique_ptr<Container>> Start(const ContainerSpec& spec) = 0;
};

struct RuntimeOptions {
  std::string root_dir;                  // bundles + runc --root state live under here (0700)
  std::string kind = "auto";             // "auto" | "runc" | "namespace"
  std::string ascend_hook;               // path of npushare-ascend-hook; empty: ascend_runtime
                                         // containers are refused with a clear error
  std::vector<std::string> driver_dirs;  // host dirs bind-mounted read-only at the same path
                                         // into ascend_runtime containers (npu-sim libs/tools)
  std::vector<std::string> driver_env;   // "K=V" added to ascend_runtime containers and to the
                                         // hook (e.g. NPU_SIM_STATE=..., LD_LIBRARY_PATH=...)
};

// MakeRuntime: runc when usable (kind auto: probed once; a failure says why, e.g.
// "runc: not found" or its stderr), else the mount-namespace runtime with the same mounts.
// `why_fallback` (may be null) gets the reason when auto fell back, else is cleared. Kind "runc"
// never falls back.
Result<std::unique_ptr<ContainerRuntime>> MakeRuntime(const RuntimeOptions& options,
                                                      std::string* why_fallback);

}  // namespace npushare::container_sim
