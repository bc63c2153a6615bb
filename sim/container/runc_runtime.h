// File: sim/container/runc_runtime.h
//
// RuncRuntime: containers as real OCI containers run by runc (`runc --root <root>/runc run
// --bundle <root>/bundles/<id> --pid-file ...`, in the foreground as our child).
//
// Why foreground `runc run` and not `--detach`: runc stays the parent of the container's init
// and exits with its status (128+signal when a signal ended it), so a plain waitpid on runc
// gives a reliable exit code without making this process a child subreaper; the pid file
// (written by runc before it starts the process) gives the init's host pid; and when the
// process exits runc destroys the container itself (cgroups removed, poststop hooks run), so
// the vNPU of an Ascend container goes at stop, not only at Kill. runc copies the container's
// stdout/stderr to its own, which is the log file. Kill then is `runc kill TERM`, `runc kill
// KILL` after the grace, `runc delete --force` and the bundle removal.
//
// Cgroups: the container gets cgroupsPath "npushare-<hash of root_dir>-<id>", relative, so
// runc nests it under its own cgroup in every v1 hierarchy (or the v2 tree) and removes it on
// delete. This machine runs cgroup v1 (checked by the tests through /proc/<pid>/cgroup).
//
// Thread safety: see container_runtime.h.
#pragma once

#include <memory>
#include <string>

#include "sim/container/container_runtime.h"

namespace npushare::container_sim {

// FindRunc: the runc binary on PATH or in /usr/sbin, /usr/bin, /sbin, /bin; kNotFound
// ("runc: not found") otherwise.
Result<std::string> FindRunc();

// MakeRuncRuntime: a runc runtime over `runc` (a path) and options.root_dir (created 0700).
Result<std::unique_ptr<ContainerRuntime>> MakeRuncRuntime(const RuntimeOptions& options,
                                                          const std::string& runc);

// CgroupName: the relative cgroup path of container `id` under `root_dir`.
std::string CgroupName(const std::string& root_dir, const std::string& id);

}  // namespace npushare::container_sim
