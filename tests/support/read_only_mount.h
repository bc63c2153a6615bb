// Test support: files on a read-only mount, as the device plugin provides them (the quota file
// of libvnpu.so must sit on one, issue 5). Each function runs in a forked child, before exec,
// so that only that child's private mount namespace is changed: nothing on the host is mounted.
// As root the child unshares a mount namespace; otherwise it first enters a new user namespace
// that maps its uid to root. Where neither is permitted (e.g. a seccomp profile that forbids
// unshare), the functions return the reason and the test skips with it.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace npushare::testing {

namespace internal {
inline bool WriteAll(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return false;
  }
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  return close(fd) == 0 && ok;
}
}  // namespace internal

// EnterPrivateMountNamespace: "" on success, else why not.
inline std::string EnterPrivateMountNamespace() {
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWNS) != 0) {
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      return std::string("cannot unshare a mount namespace: ") + strerror(errno);
    }
    if (!internal::WriteAll("/proc/self/setgroups", "deny") ||
        !internal::WriteAll("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
        !internal::WriteAll("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
      return "cannot map the user namespace";
    }
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return std::string("cannot make mounts private: ") + strerror(errno);
  }
  return "";
}

// MountReadOnlyFile: mounts a small tmpfs on the existing directory `dir`, creates `dir/sub`
// (mode 0755) and `dir/sub/name` (mode 0644) holding `text`, then remounts the tmpfs
// read-only. "" on success, else why not. REQUIRES: inside EnterPrivateMountNamespace.
inline std::string MountReadOnlyFile(const std::string& dir, const std::string& sub,
                                     const std::string& name, const std::string& text) {
  const unsigned long flags = MS_NOSUID | MS_NODEV;
  if (mount("tmpfs", dir.c_str(), "tmpfs", flags, "mode=0755,size=64k") != 0) {
    return std::string("cannot mount a tmpfs: ") + strerror(errno);
  }
  std::string path = dir;
  size_t pos = 0;
  while (pos < sub.size()) {
    size_t slash = sub.find('/', pos);
    if (slash == std::string::npos) {
      slash = sub.size();
    }
    path += "/" + sub.substr(pos, slash - pos);
    if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return "cannot create " + path;
    }
    pos = slash + 1;
  }
  if (!internal::WriteAll(path + "/" + name, text)) {
    return "cannot write " + path + "/" + name;
  }
  if (mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | flags, nullptr) != 0) {
    return std::string("cannot remount read-only: ") + strerror(errno);
  }
  return "";
}

}  // namespace npushare::testing
