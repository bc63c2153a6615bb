// File: sim/container/namespace_plan.h
//
// NamespacePlan: an OCI config.json (the subset BuildOciConfig and npushare-ascend-hook
// write: mounts of type bind/tmpfs/proc/devpts/mqueue, linux.devices, process, root,
// hostname) turned into the system calls the namespace runtime's child makes, with every
// string prepared before clone. PlanFromConfig rejects anything it does not understand rather
// than skipping it.
//
// Thread safety: plain data.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::container_sim {

struct PlannedMount {
  std::vector<std::string> mkdirs;  // created in order (EEXIST ignored) before mounting
  std::string create_file;          // non-empty: an empty file to create as the mount point
  std::string source;
  std::string target;  // absolute host path below the rootfs
  std::string fstype;  // empty for a bind mount
  unsigned long flags = 0;
  std::string data;
  unsigned long remount_flags = 0;  // non-zero: a second, MS_REMOUNT mount (read-only binds)
};

struct PlannedDevice {
  std::vector<std::string> mkdirs;
  std::string path;  // below the rootfs
  mode_t mode = 0;   // S_IFCHR/S_IFBLK | permissions
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct NamespacePlan {
  std::string rootfs;
  bool readonly_root = true;
  std::vector<PlannedMount> mounts;
  std::vector<PlannedDevice> devices;
  std::vector<std::pair<std::string, std::string>> symlinks;  // {target text, link path}
  std::string hostname;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string cwd;
  std::vector<std::string> cwd_mkdirs;       // as runc: a missing working directory is created
  std::vector<std::string> exec_candidates;  // args[0] resolved against the container PATH
  std::vector<std::string> args;
  std::vector<std::string> env;
};

Result<NamespacePlan> PlanFromConfig(const nlohmann::json& config);

}  // namespace npushare::container_sim
