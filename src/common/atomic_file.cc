// File: common/atomic_file.cc
#include "common/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs_error.h"

namespace npushare {
namespace {

Status SysError(const std::string& what, const std::string& path) {
  const int err = errno;  // before building the message
  return FileSystemError(err, what + " " + path);
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    return SysError("cannot create a temporary file for", path);
  }
  auto fail = [&](const std::string& what) {
    Status s = SysError(what, tmp);
    close(fd);
    unlink(tmp.c_str());
    return s;
  };
  if (fchmod(fd, mode) != 0) {
    return fail("fchmod");
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail("write");
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    return fail("fsync");
  }
  if (close(fd) != 0) {
    Status s = SysError("close", tmp);
    unlink(tmp.c_str());
    return s;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = SysError("rename onto", path);
    unlink(tmp.c_str());
    return s;
  }
  // The rename itself must survive a crash: sync the directory entry.
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  int dfd = open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return OkStatus();
}

}  // namespace npushare
