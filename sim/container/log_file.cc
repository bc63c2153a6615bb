#include "sim/container/log_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

namespace npushare::container_sim {

LogFd::~LogFd() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

LogFd& LogFd::operator=(LogFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) {
      close(fd_);
    }
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Result<LogFd> OpenLogFile(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::vector<std::filesystem::path> missing;
  for (auto p = parent; !p.empty() && p != p.root_path(); p = p.parent_path()) {
    struct stat st;
    if (stat(p.c_str(), &st) == 0) {
      break;
    }
    missing.push_back(p);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (mkdir(it->c_str(), 0750) != 0 && errno != EEXIST) {
      return FileSystemError(errno, "create log directory " + it->string());
    }
  }
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) {
    return FileSystemError(errno, "open log " + path);
  }
  return LogFd(fd);
}

}  // namespace npushare::container_sim
