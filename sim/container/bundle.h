// File: sim/container/bundle.h
//
// The OCI bundle of one container, shared by both runtimes: <root_dir>/bundles/<id>/ holds
//   config.json   the OCI runtime spec runc runs and the namespace runtime interprets;
//   rootfs/       an empty skeleton (mount points; /bin -> usr/bin etc. on a merged-/usr host),
//                 mounted read-only;
//   etc/          the container's private, writable /etc (a minimal copy of the host's);
//   ascend-vnpu.json  written by npushare-ascend-hook when it created a vNPU (see ascend_steps.h).
// The root is the host's /usr, /lib, /lib64, /bin, /sbin read-only (symlinks kept as symlinks),
// tmpfs /tmp, /run, /dev (+ pts, shm, mqueue), /proc, then the spec's mounts and devices in
// order. Namespaces: pid, mount, ipc, uts; never network, so 127.0.0.1 services are reachable.
//
// Usage:
//   NPUSHARE_RETURN_IF_ERROR(ValidateSpec(spec));
//   NPUSHARE_ASSIGN_OR_RETURN(BundlePaths b, CreateBundle(root_dir, spec.id));
//   nlohmann::json config = BuildOciConfig(spec, b, cgroup);
//   ... RemoveBundle(b) when the container is gone.
//
// Thread safety: functions are safe to call concurrently for different ids.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "sim/container/container_runtime.h"

namespace npushare::container_sim {

inline constexpr char kDefaultPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct BundlePaths {
  std::string dir;     // <root_dir>/bundles/<id>
  std::string config;  // dir/config.json
  std::string rootfs;  // dir/rootfs
  std::string etc;     // dir/etc
};

// ValidateSpec: id syntax, non-empty args, "K=V" env, absolute paths, bounded sizes.
Status ValidateSpec(const ContainerSpec& spec);

// EnsureRootDir: creates root_dir (and runc/, bundles/) with mode 0700; refuses a root_dir that
// is group/world-writable.
Status EnsureRootDir(const std::string& root_dir);

// CreateBundle: the bundle directory with the rootfs skeleton and private /etc.
// kAlreadyExists when a container with this id already has a bundle.
Result<BundlePaths> CreateBundle(const std::string& root_dir, const std::string& id);

// MergeEnv: PATH default, then `base`, then `overrides`; a later K replaces an earlier one in
// place (as kubelet does and as ascend-docker-runtime's "last occurrence wins").
std::vector<std::string> MergeEnv(const std::vector<std::string>& base,
                                  const std::vector<std::string>& overrides);

// BuildOciConfig: the config.json for `spec` (process env = `env`); cgroups_path is relative
// to the caller's own cgroup (runc's cgroup v1/v2 managers both accept that). Also fills the
// rootfs skeleton. A mount destination that does not exist on the host below a read-only system
// directory (e.g. /usr/local/bin/npu-smi) gets its ancestors rebuilt from their entries so that
// the mount point can be created in the bundle; `extra_mount_points` are destinations mounts
// added later will need (the Ascend step's driver dirs).
Result<nlohmann::json> BuildOciConfig(const ContainerSpec& spec,
                                      const std::vector<std::string>& env,
                                      const BundlePaths& bundle, const std::string& cgroups_path,
                                      const std::vector<std::string>& extra_mount_points = {});

// MountPointsUnder: the mount points in /proc/self/mountinfo at or below `dir`.
std::vector<std::string> MountPointsUnder(const std::string& dir);

// RemoveBundle: removes the bundle directory; refuses (kFailedPrecondition) while anything is
// still mounted below it, so a host directory bind-mounted there is never deleted through it.
Status RemoveBundle(const BundlePaths& bundle);

// BundlePathsFor: the paths of id's bundle under root_dir (nothing is created).
BundlePaths BundlePathsFor(const std::string& root_dir, const std::string& id);

}  // namespace npushare::container_sim
