// File: deviceplugin/kubelet/kubelet_watcher.h
//
// KubeletWatcher: inotify on kubelet's device-plugin directory, reporting the events that mean
// "kubelet restarted" (k8s-apis.md §1.7): kubelet.sock created (IN_CREATE / IN_MOVED_TO) and any
// socket file deleted (IN_DELETE / IN_MOVED_FROM; a restarting kubelet removes every socket in
// the directory, ours included). Events are hints: the receiver re-checks the directory (see
// PluginFleet), so a lost or spurious event costs at most one resync period. Inotify can fail
// (no instances left, directory on a filesystem without it): Start() says so and the receiver
// relies on its periodic check alone.
//
// Usage:
//   KubeletWatcher watcher(dir, [&](const KubeletDirEvent& e) { fleet_wakeup(e); });
//   if (Status s = watcher.Start(); !s.ok()) log(s);   // periodic stat still covers it
//   ...
//   watcher.Stop();
//
// Thread safety: Start/Stop from one thread; the callback runs on the watcher's own thread and
// must not call Stop().
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "common/status.h"

namespace npushare::deviceplugin {

// KubeletDirEvent: one interesting change in the device-plugin directory.
struct KubeletDirEvent {
  enum class Kind {
    kKubeletSocketCreated,  // kubelet.sock appeared: kubelet (re)started
    kFileRemoved,           // a file left the directory (deleted or renamed away)
    kOverflow,              // the kernel dropped events: re-check everything
  };
  Kind kind = Kind::kOverflow;
  std::string name;  // file name inside the directory; empty for kOverflow
};

class KubeletWatcher {
 public:
  using Callback = std::function<void(const KubeletDirEvent&)>;

  KubeletWatcher(std::string dir, Callback callback);
  // ~KubeletWatcher: Stop().
  ~KubeletWatcher();
  KubeletWatcher(const KubeletWatcher&) = delete;
  KubeletWatcher& operator=(const KubeletWatcher&) = delete;

  // Start: watches `dir` on a new thread. Errors: FileSystemError when inotify cannot be set up
  // (nothing runs then).
  Status Start();
  // Stop: ends the thread; no callback runs after it returns.
  void Stop();

 private:
  void Run();

  const std::string dir_;
  const Callback callback_;
  int inotify_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: Stop() wakes the poll loop
  std::thread thread_;
};

}  // namespace npushare::deviceplugin
