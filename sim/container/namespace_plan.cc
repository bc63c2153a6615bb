#include "sim/container/namespace_plan.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <map>
#include <sstream>

#include "sim/container/bundle.h"

namespace npushare::container_sim {
namespace {

constexpr size_t kMaxMounts = 4096;
constexpr size_t kMaxDevices = 256;

struct Flag {
  unsigned long set;
  unsigned long clear;
};

const std::map<std::string, Flag>& MountFlags() {
  static const std::map<std::string, Flag> flags{{"ro", {MS_RDONLY, 0}},
                                                 {"rw", {0, MS_RDONLY}},
                                                 {"nosuid", {MS_NOSUID, 0}},
                                                 {"suid", {0, MS_NOSUID}},
                                                 {"nodev", {MS_NODEV, 0}},
                                                 {"dev", {0, MS_NODEV}},
                                                 {"noexec", {MS_NOEXEC, 0}},
                                                 {"exec", {0, MS_NOEXEC}},
                                                 {"strictatime", {MS_STRICTATIME, 0}},
                                                 {"relatime", {MS_RELATIME, 0}},
                                                 {"noatime", {MS_NOATIME, 0}},
                                                 {"bind", {MS_BIND, 0}},
                                                 {"rbind", {MS_BIND | MS_REC, 0}}};
  return flags;
}

// Prefixes: rootfs + each leading part of `path` ("/a/b" -> rootfs/a, rootfs/a/b).
std::vector<std::string> Prefixes(const std::string& rootfs, const std::string& path,
                                  bool include_last) {
  std::vector<std::string> out;
  std::string current = rootfs;
  std::stringstream ss(path);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '/')) {
    if (!part.empty()) {
      parts.push_back(part);
    }
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i + 1 == parts.size() && !include_last) {
      break;
    }
    current += "/" + parts[i];
    out.push_back(current);
  }
  return out;
}

bool CleanPath(const std::string& p) {
  if (p.empty() || p[0] != '/' || p.size() > 4096) {
    return false;
  }
  std::stringstream ss(p);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part == "." || part == "..") {
      return false;
    }
  }
  return true;
}

Result<PlannedMount> PlanMount(const std::string& rootfs, const nlohmann::json& m) {
  PlannedMount out;
  std::string dest = m.at("destination").get<std::string>();
  std::string type = m.value("type", "");
  out.source = m.value("source", "");
  if (!CleanPath(dest)) {
    return InvalidArgumentError("mount destination '" + dest + "' is not a clean absolute path");
  }
  out.target = rootfs + dest;
  unsigned long flags = 0;
  std::string data;
  for (const auto& o : m.value("options", std::vector<std::string>{})) {
    auto it = MountFlags().find(o);
    if (it != MountFlags().end()) {
      flags = (flags | it->second.set) & ~it->second.clear;
    } else {
      data += (data.empty() ? "" : ",") + o;
    }
  }
  bool bind = type == "bind" || (flags & MS_BIND) != 0;
  if (bind) {
    struct stat st;
    if (stat(out.source.c_str(), &st) != 0) {
      return NotFoundError("bind mount source " + out.source + " does not exist");
    }
    if (S_ISDIR(st.st_mode)) {
      out.mkdirs = Prefixes(rootfs, dest, true);
    } else {
      out.mkdirs = Prefixes(rootfs, dest, false);
      out.create_file = out.target;
    }
    out.flags = MS_BIND | (flags & MS_REC);
    unsigned long extra = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (extra != 0) {
      out.remount_flags = MS_BIND | MS_REMOUNT | extra;
    }
    return out;
  }
  if (type != "tmpfs" && type != "proc" && type != "devpts" && type != "mqueue") {
    return InvalidArgumentError("mount type '" + type + "' at " + dest +
                                " is not supported by the namespace runtime");
  }
  out.mkdirs = Prefixes(rootfs, dest, true);
  out.fstype = type;
  out.flags = flags;
  out.data = data;
  return out;
}

void AddDefaultDevice(NamespacePlan* plan, const std::string& name, unsigned maj, unsigned min) {
  PlannedDevice d;
  d.path = plan->rootfs + "/dev/" + name;
  d.mode = S_IFCHR | 0666;
  d.dev = makedev(maj, min);
  plan->devices.push_back(d);
}

Result<NamespacePlan> Plan(const nlohmann::json& config) {
  NamespacePlan plan;
  plan.rootfs = config.at("root").at("path").get<std::string>();
  if (!CleanPath(plan.rootfs) || plan.rootfs == "/") {
    return InvalidArgumentError("root.path must be an absolute bundle directory");
  }
  plan.readonly_root = config.at("root").value("readonly", false);
  const auto& mounts = config.value("mounts", nlohmann::json::array());
  if (mounts.size() > kMaxMounts) {
    return InvalidArgumentError("too many mounts");
  }
  for (const auto& m : mounts) {
    NPUSHARE_ASSIGN_OR_RETURN(PlannedMount pm, PlanMount(plan.rootfs, m));
    plan.mounts.push_back(std::move(pm));
  }
  // runc's default devices and /dev links.
  AddDefaultDevice(&plan, "null", 1, 3);
  AddDefaultDevice(&plan, "zero", 1, 5);
  AddDefaultDevice(&plan, "full", 1, 7);
  AddDefaultDevice(&plan, "random", 1, 8);
  AddDefaultDevice(&plan, "urandom", 1, 9);
  AddDefaultDevice(&plan, "tty", 5, 0);
  plan.symlinks = {{"/proc/self/fd", plan.rootfs + "/dev/fd"},
                   {"/proc/self/fd/0", plan.rootfs + "/dev/stdin"},
                   {"/proc/self/fd/1", plan.rootfs + "/dev/stdout"},
                   {"/proc/self/fd/2", plan.rootfs + "/dev/stderr"},
                   {"pts/ptmx", plan.rootfs + "/dev/ptmx"}};
  const nlohmann::json linux = config.value("linux", nlohmann::json::object());
  const auto& devices = linux.value("devices", nlohmann::json::array());
  if (devices.size() > kMaxDevices) {
    return InvalidArgumentError("too many devices");
  }
  for (const auto& d : devices) {
    PlannedDevice pd;
    std::string path = d.at("path").get<std::string>();
    if (!CleanPath(path)) {
      return InvalidArgumentError("device path '" + path + "' is not a clean absolute path");
    }
    std::string type = d.at("type").get<std::string>();
    if (type != "c" && type != "b") {
      return InvalidArgumentError("device " + path + ": type '" + type + "' is not c or b");
    }
    pd.mkdirs = Prefixes(plan.rootfs, path, false);
    pd.path = plan.rootfs + path;
    pd.mode = (type == "c" ? S_IFCHR : S_IFBLK) | (d.value("fileMode", 0666u) & 0777u);
    pd.dev = makedev(d.at("major").get<unsigned>(), d.at("minor").get<unsigned>());
    pd.uid = d.value("uid", 0u);
    pd.gid = d.value("gid", 0u);
    plan.devices.push_back(pd);
  }
  const auto& process = config.at("process");
  plan.args = process.at("args").get<std::vector<std::string>>();
  if (plan.args.empty()) {
    return InvalidArgumentError("process.args is empty");
  }
  plan.env = process.value("env", std::vector<std::string>{});
  plan.cwd = process.value("cwd", "/");
  if (!CleanPath(plan.cwd)) {
    return InvalidArgumentError("process.cwd '" + plan.cwd + "' is not a clean absolute path");
  }
  plan.cwd_mkdirs = Prefixes(plan.rootfs, plan.cwd, true);
  plan.uid = process.value("user", nlohmann::json::object()).value("uid", 0u);
  plan.gid = process.value("user", nlohmann::json::object()).value("gid", 0u);
  plan.hostname = config.value("hostname", "");
  std::string path_var = kDefaultPath;
  for (const auto& kv : plan.env) {
    if (kv.rfind("PATH=", 0) == 0) {
      path_var = kv.substr(5);
    }
  }
  if (plan.args[0].find('/') != std::string::npos) {
    plan.exec_candidates.push_back(plan.args[0]);
  } else {
    std::stringstream ss(path_var);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
      if (!dir.empty()) {
        plan.exec_candidates.push_back(dir + "/" + plan.args[0]);
      }
    }
  }
  return plan;
}

}  // namespace

Result<NamespacePlan> PlanFromConfig(const nlohmann::json& config) {
  try {
    return Plan(config);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("config.json: ") + e.what());
  }
}

}  // namespace npushare::container_sim
