#include "deviceplugin/kubelet/socket_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace npushare::deviceplugin {

std::optional<SocketFileId> StatSocketFile(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return std::nullopt;
  }
  SocketFileId id;
  id.dev = static_cast<uint64_t>(st.st_dev);
  id.ino = static_cast<uint64_t>(st.st_ino);
  id.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return id;
}

Status UnlinkStaleSocketFile(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return OkStatus();
    }
    return FileSystemError(errno, "stat " + path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return FailedPreconditionError(path + " exists and is not a unix socket; not removing it");
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return FileSystemError(errno, "unlink " + path);
  }
  return OkStatus();
}

Status UnlinkSocketFileIfSame(const std::string& path, const SocketFileId& id) {
  // A check-then-unlink race needs a second binder of our own path inside this window; the
  // fleet serialises every start and stop of one path, so none exists.
  if (StatSocketFile(path) != id) {
    return OkStatus();
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return FileSystemError(errno, "unlink " + path);
  }
  return OkStatus();
}

}  // namespace npushare::deviceplugin
