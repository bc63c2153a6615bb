#include "sim/container/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/atomic_file.h"
#include "common/file_reader.h"

namespace npushare::container_sim {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxArgs = 4096;
constexpr size_t kMaxEnv = 4096;
constexpr size_t kMaxMounts = 256;
constexpr size_t kMaxString = 64 * 1024;

// The host directories that make up the read-only root, and the files of the private /etc.
constexpr const char* kHostRootDirs[] = {"usr", "lib", "lib64", "bin", "sbin"};
constexpr const char* kEtcFiles[] = {"passwd", "group", "hosts", "resolv.conf", "nsswitch.conf"};

// Docker's default capability set: enough for ordinary programs running as root, without
// CAP_SYS_ADMIN (no mounting, no escaping the read-only mounts).
constexpr const char* kCapabilities[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  auto lower_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_digit(id[0])) {
    return false;
  }
  for (char c : id) {
    if (!lower_digit(c) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

// A clean absolute path: starts with '/', no "." or ".." components, no NUL.
bool CleanAbsolutePath(const std::string& p) {
  if (p.empty() || p[0] != '/' || p.size() > 4096 || p.find('\0') != std::string::npos) {
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

nlohmann::json Mount(const std::string& dest, const std::string& type, const std::string& source,
                     std::vector<std::string> options) {
  return {{"destination", dest}, {"type", type}, {"source", source}, {"options", options}};
}

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') {
          ok = false;
          break;
        }
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// SplitSet: the host directories (below the read-only system dirs) that must be rebuilt from
// their entries instead of bind-mounted whole, because a mount point has to be created inside
// them: every existing ancestor of a destination that does not exist on the host.
std::set<std::string> SplitSet(const ContainerSpec& spec,
                               const std::vector<std::string>& extra_mount_points) {
  std::vector<std::string> destinations = extra_mount_points;
  for (const auto& m : spec.mounts) {
    destinations.push_back(m.destination);
  }
  std::set<std::string> split;
  for (const auto& d : destinations) {
    std::error_code ec;
    if (fs::exists(d, ec)) {
      continue;
    }
    fs::path canonical = fs::weakly_canonical(d, ec);
    if (ec) {
      continue;
    }
    for (fs::path p = canonical.parent_path(); p != p.root_path() && !p.empty();
         p = p.parent_path()) {
      if (fs::is_directory(p, ec)) {
        split.insert(p.string());
      }
    }
  }
  return split;
}

// AddHostDir: host directory `path` shown read-only at the same path: one bind mount, or, when
// it is in `split`, a directory of the rootfs whose entries are bind-mounted (directories
// recursively, symlinks recreated) so that mount points can be made beside them.
Status AddHostDir(const std::string& path, const std::string& rootfs,
                  const std::set<std::string>& split, nlohmann::json* mounts) {
  std::string inside = rootfs + path;
  if (mkdir(inside.c_str(), 0755) != 0 && errno != EEXIST) {
    return FileSystemError(errno, "mkdir " + inside);
  }
  if (split.count(path) == 0) {
    mounts->push_back(Mount(path, "bind", path, {"rbind", "ro", "nosuid", "nodev"}));
    return OkStatus();
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::string child = entry.path().string();
    std::string child_inside = rootfs + child;
    struct stat st;
    if (lstat(child.c_str(), &st) != 0) {
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      fs::path target = fs::read_symlink(child, ec);
      if (ec || symlink(target.c_str(), child_inside.c_str()) != 0) {
        return FileSystemError(ec ? ec.value() : errno, "symlink " + child_inside);
      }
    } else if (S_ISDIR(st.st_mode)) {
      NPUSHARE_RETURN_IF_ERROR(AddHostDir(child, rootfs, split, mounts));
    } else if (S_ISREG(st.st_mode)) {
      int fd = open(child_inside.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) {
        return FileSystemError(errno, "create " + child_inside);
      }
      close(fd);
      mounts->push_back(Mount(child, "bind", child, {"rbind", "ro", "nosuid", "nodev"}));
    }
  }
  if (ec) {
    return FileSystemError(ec.value(), "list " + path);
  }
  return OkStatus();
}

}  // namespace

Status ValidateSpec(const ContainerSpec& spec) {
  if (!ValidId(spec.id)) {
    return InvalidArgumentError("container id '" + spec.id.substr(0, 80) +
                                "' must match [a-z0-9][a-z0-9_.-]{0,63}");
  }
  if (spec.args.empty() || spec.args[0].empty()) {
    return InvalidArgumentError("container " + spec.id + ": no command (args is empty)");
  }
  if (spec.args.size() > kMaxArgs || spec.env.size() > kMaxEnv || spec.mounts.size() > kMaxMounts ||
      spec.devices.size() > kMaxMounts) {
    return InvalidArgumentError("container " + spec.id + ": too many args/env/mounts/devices");
  }
  for (const auto& a : spec.args) {
    if (a.size() > kMaxString || a.find('\0') != std::string::npos) {
      return InvalidArgumentError("container " + spec.id + ": bad argument");
    }
  }
  for (const auto& e : spec.env) {
    size_t eq = e.find('=');
    if (eq == 0 || eq == std::string::npos || e.size() > kMaxString ||
        e.find('\0') != std::string::npos) {
      return InvalidArgumentError("container " + spec.id + ": env entry '" + e.substr(0, 80) +
                                  "' is not K=V");
    }
  }
  if (!CleanAbsolutePath(spec.working_dir)) {
    return InvalidArgumentError("container " + spec.id + ": working_dir '" + spec.working_dir +
                                "' is not a clean absolute path");
  }
  for (const auto& m : spec.mounts) {
    if (!CleanAbsolutePath(m.source) || !CleanAbsolutePath(m.destination) || m.destination == "/") {
      return InvalidArgumentError("container " + spec.id + ": mount '" + m.source + "' -> '" +
                                  m.destination + "' needs clean absolute paths (not /)");
    }
    struct stat st;
    if (stat(m.source.c_str(), &st) != 0) {
      return FileSystemError(errno, "container " + spec.id + ": mount source " + m.source);
    }
  }
  for (const auto& d : spec.devices) {
    if (!CleanAbsolutePath(d.host_path) || !CleanAbsolutePath(d.container_path) ||
        d.container_path.rfind("/dev/", 0) != 0) {
      return InvalidArgumentError("container " + spec.id + ": device '" + d.host_path + "' -> '" +
                                  d.container_path + "' must go below /dev/");
    }
    if (d.permissions.empty() || d.permissions.size() > 3 ||
        d.permissions.find_first_not_of("rwm") != std::string::npos) {
      return InvalidArgumentError("container " + spec.id + ": device permissions '" +
                                  d.permissions + "' must be a subset of rwm");
    }
  }
  if (spec.log_path.empty() || !CleanAbsolutePath(spec.log_path)) {
    return InvalidArgumentError("container " + spec.id + ": log_path '" + spec.log_path +
                                "' must be a clean absolute path");
  }
  return OkStatus();
}

Status EnsureRootDir(const std::string& root_dir) {
  if (!CleanAbsolutePath(root_dir)) {
    return InvalidArgumentError("root_dir '" + root_dir + "' must be a clean absolute path");
  }
  for (const std::string& d : {root_dir, root_dir + "/runc", root_dir + "/bundles"}) {
    std::error_code ec;
    fs::create_directories(d, ec);
    if (ec) {
      return FileSystemError(ec.value(), "create " + d);
    }
    struct stat st;
    if (stat(d.c_str(), &st) != 0) {
      return FileSystemError(errno, "stat " + d);
    }
    if ((st.st_mode & 022) != 0 || st.st_uid != geteuid()) {
      return FailedPreconditionError(d + " is group/world-writable or not ours; refusing it");
    }
    if (chmod(d.c_str(), 0700) != 0) {
      return FileSystemError(errno, "chmod " + d);
    }
  }
  return OkStatus();
}

BundlePaths BundlePathsFor(const std::string& root_dir, const std::string& id) {
  BundlePaths b;
  b.dir = root_dir + "/bundles/" + id;
  b.config = b.dir + "/config.json";
  b.rootfs = b.dir + "/rootfs";
  b.etc = b.dir + "/etc";
  return b;
}

Result<BundlePaths> CreateBundle(const std::string& root_dir, const std::string& id) {
  BundlePaths b = BundlePathsFor(root_dir, id);
  if (mkdir(b.dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return AlreadyExistsError("container " + id + " already exists (" + b.dir + ")");
    }
    return FileSystemError(errno, "create bundle " + b.dir);
  }
  for (const std::string& d : {b.rootfs, b.etc}) {
    if (mkdir(d.c_str(), 0755) != 0) {
      return FileSystemError(errno, "mkdir " + d);
    }
  }
  for (const char* name : kHostRootDirs) {
    std::string host = std::string("/") + name;
    std::string inside = b.rootfs + "/" + name;
    struct stat st;
    if (lstat(host.c_str(), &st) != 0) {
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      fs::path target = fs::read_symlink(host, ec);
      if (ec || symlink(target.c_str(), inside.c_str()) != 0) {
        return FileSystemError(ec ? ec.value() : errno, "symlink " + inside);
      }
    } else if (mkdir(inside.c_str(), 0755) != 0) {
      return FileSystemError(errno, "mkdir " + inside);
    }
  }
  for (const char* name : {"etc", "tmp", "run", "proc", "dev"}) {
    std::string inside = b.rootfs + "/" + name;
    if (mkdir(inside.c_str(), 0755) != 0) {
      return FileSystemError(errno, "mkdir " + inside);
    }
  }
  for (const char* name : kEtcFiles) {
    Result<std::string> content = ReadFileLimited(std::string("/etc/") + name, 1 << 20);
    if (!content.ok()) {
      continue;  // a host without the file gives a container without it
    }
    NPUSHARE_RETURN_IF_ERROR(WriteFileAtomically(b.etc + "/" + name, *content, 0644));
  }
  return b;
}

std::vector<std::string> MergeEnv(const std::vector<std::string>& base,
                                  const std::vector<std::string>& overrides) {
  std::vector<std::string> out;
  std::map<std::string, size_t> index;
  auto add = [&](const std::string& kv) {
    std::string key = kv.substr(0, kv.find('='));
    auto it = index.find(key);
    if (it != index.end()) {
      out[it->second] = kv;
    } else {
      index[key] = out.size();
      out.push_back(kv);
    }
  };
  add(std::string("PATH=") + kDefaultPath);
  for (const auto& kv : base) {
    add(kv);
  }
  for (const auto& kv : overrides) {
    add(kv);
  }
  return out;
}

Result<nlohmann::json> BuildOciConfig(const ContainerSpec& spec,
                                      const std::vector<std::string>& env,
                                      const BundlePaths& bundle, const std::string& cgroups_path,
                                      const std::vector<std::string>& extra_mount_points) {
  nlohmann::json mounts = nlohmann::json::array();
  mounts.push_back(Mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  mounts.push_back(
      Mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  mounts.push_back(Mount("/dev/pts", "devpts", "devpts",
                         {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}));
  mounts.push_back(
      Mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  mounts.push_back(Mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  std::set<std::string> split = SplitSet(spec, extra_mount_points);
  for (const char* name : kHostRootDirs) {
    std::string host = std::string("/") + name;
    struct stat st;
    if (lstat(host.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      NPUSHARE_RETURN_IF_ERROR(AddHostDir(host, bundle.rootfs, split, &mounts));
    }
  }
  mounts.push_back(Mount("/etc", "bind", bundle.etc, {"rbind", "rw", "nosuid", "nodev"}));
  mounts.push_back(Mount("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"}));
  mounts.push_back(Mount("/run", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=755"}));
  for (const auto& m : spec.mounts) {
    mounts.push_back(Mount(m.destination, "bind", m.source,
                           {"rbind", m.read_only ? "ro" : "rw", "nosuid", "nodev"}));
  }

  nlohmann::json devices = nlohmann::json::array();
  nlohmann::json device_rules = nlohmann::json::array({{{"allow", false}, {"access", "rwm"}}});
  for (const auto& d : spec.devices) {
    struct stat st;
    if (stat(d.host_path.c_str(), &st) != 0) {
      return FileSystemError(errno, "container " + spec.id + ": device " + d.host_path);
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
      return InvalidArgumentError("container " + spec.id + ": " + d.host_path +
                                  " is not a device node");
    }
    std::string type = S_ISCHR(st.st_mode) ? "c" : "b";
    int64_t major_no = major(st.st_rdev);
    int64_t minor_no = minor(st.st_rdev);
    devices.push_back({{"path", d.container_path},
                       {"type", type},
                       {"major", major_no},
                       {"minor", minor_no},
                       {"fileMode", st.st_mode & 0777},
                       {"uid", 0},
                       {"gid", 0}});
    device_rules.push_back({{"allow", true},
                            {"type", type},
                            {"major", major_no},
                            {"minor", minor_no},
                            {"access", d.permissions}});
  }

  std::vector<std::string> caps(std::begin(kCapabilities), std::end(kCapabilities));
  nlohmann::json config = {
      {"ociVersion", "1.0.2-dev"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", spec.uid.value_or(0)}, {"gid", spec.gid.value_or(0)}}},
        {"args", spec.args},
        {"env", env},
        {"cwd", spec.working_dir},
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", bundle.rootfs}, {"readonly", true}}},
      {"hostname", spec.id},
      {"mounts", mounts},
      {"linux",
       {{"cgroupsPath", cgroups_path},
        {"resources", {{"devices", device_rules}}},
        {"devices", devices},
        {"namespaces",
         nlohmann::json::array(
             {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}})}}}};
  return config;
}

std::vector<std::string> MountPointsUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string id, parent, devno, root, mount_point;
    if (!(ss >> id >> parent >> devno >> root >> mount_point)) {
      continue;
    }
    mount_point = Unescape(mount_point);
    if (mount_point == dir || mount_point.rfind(dir + "/", 0) == 0) {
      out.push_back(mount_point);
    }
  }
  return out;
}

Status RemoveBundle(const BundlePaths& bundle) {
  std::vector<std::string> mounted = MountPointsUnder(bundle.dir);
  if (!mounted.empty()) {
    return FailedPreconditionError("bundle " + bundle.dir + " still has mounts (" +
                                   mounted.front() + "); not removing it");
  }
  std::error_code ec;
  fs::remove_all(bundle.dir, ec);
  if (ec) {
    return FileSystemError(ec.value(), "remove " + bundle.dir);
  }
  return OkStatus();
}

}  // namespace npushare::container_sim
