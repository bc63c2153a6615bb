#include "deviceplugin/kubelet/kubelet_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "deviceplugin/kubelet/kubelet_paths.h"

namespace npushare::deviceplugin {

KubeletWatcher::KubeletWatcher(std::string dir, Callback callback)
    : dir_(std::move(dir)), callback_(std::move(callback)) {}

KubeletWatcher::~KubeletWatcher() {
  Stop();
}

Status KubeletWatcher::Start() {
  if (thread_.joinable()) {
    return OkStatus();
  }
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    return FileSystemError(errno, "inotify_init1");
  }
  if (inotify_add_watch(inotify_fd_, dir_.c_str(),
                        IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF) < 0) {
    Status s = FileSystemError(errno, "inotify_add_watch " + dir_);
    close(inotify_fd_);
    inotify_fd_ = -1;
    return s;
  }
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    Status s = FileSystemError(errno, "eventfd");
    close(inotify_fd_);
    inotify_fd_ = -1;
    return s;
  }
  thread_ = std::thread([this] { Run(); });
  return OkStatus();
}

void KubeletWatcher::Stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    // A failed write leaves the thread in poll(); it cannot fail on a fresh eventfd.
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (inotify_fd_ >= 0) {
    close(inotify_fd_);
    inotify_fd_ = -1;
  }
  if (wake_fd_ >= 0) {
    close(wake_fd_);
    wake_fd_ = -1;
  }
}

void KubeletWatcher::Run() {
  // Large enough for many events at once; inotify never splits an event across reads.
  alignas(struct inotify_event) char buf[16 * 1024];
  while (true) {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      return;
    }
    if ((fds[0].revents & POLLIN) == 0) {
      continue;
    }
    ssize_t len = read(inotify_fd_, buf, sizeof(buf));
    if (len <= 0) {
      continue;
    }
    for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(inotify_event)) <= len;) {
      inotify_event ev;
      std::memcpy(&ev, buf + off, sizeof(ev));
      std::string name;
      if (ev.len > 0 && off + static_cast<ssize_t>(sizeof(ev) + ev.len) <= len) {
        name.assign(buf + off + sizeof(ev), strnlen(buf + off + sizeof(ev), ev.len));
      }
      off += static_cast<ssize_t>(sizeof(ev) + ev.len);
      if ((ev.mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_IGNORED)) != 0) {
        callback_({KubeletDirEvent::Kind::kOverflow, ""});
      } else if ((ev.mask & (IN_CREATE | IN_MOVED_TO)) != 0 && name == kKubeletSocketName) {
        callback_({KubeletDirEvent::Kind::kKubeletSocketCreated, name});
      } else if ((ev.mask & (IN_DELETE | IN_MOVED_FROM)) != 0) {
        callback_({KubeletDirEvent::Kind::kFileRemoved, name});
      }
    }
  }
}

}  // namespace npushare::deviceplugin
