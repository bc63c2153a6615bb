// File: sim/container/namespace_runtime.h
//
// NamespaceRuntime: the fallback when runc cannot run. It builds the same bundle and
// config.json as the runc runtime and interprets that config itself: clone() into new mount,
// pid, ipc and uts namespaces (not network), the config's mounts in order with mount(2)
// (bind mounts remounted read-only where the options say "ro"), device nodes with mknod,
// pivot_root into the rootfs and a read-only remount of the root, hostname, user, cwd, then
// execve with the config's env. The config's OCI hooks run as runc would run them:
// createRuntime after the namespaces and mounts exist and before the process starts,
// poststop after it exited. Observable behaviour matches runc (a write to a read-only mount
// fails with EROFS; the init of a pid namespace ignores SIGTERM unless it handles it, so Kill
// escalates to SIGKILL). Differences: no cgroup (no device-cgroup rules, no resource limits),
// the capability set is not reduced, no seccomp.
//
// Everything the child does between clone and execve is plain system calls on strings built
// before clone: the parent is multi-threaded, so the child must not allocate.
//
// Thread safety: see container_runtime.h.
#pragma once

#include <memory>

#include "sim/container/container_runtime.h"

namespace npushare::container_sim {

// MakeNamespaceRuntime: the namespace runtime under options.root_dir (created 0700).
Result<std::unique_ptr<ContainerRuntime>> MakeNamespaceRuntime(const RuntimeOptions& options);

}  // namespace npushare::container_sim
