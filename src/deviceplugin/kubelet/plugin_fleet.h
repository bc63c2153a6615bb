// File: deviceplugin/kubelet/plugin_fleet.h
//
// PluginFleet: one PluginServer per extended resource of the node, kept registered with kubelet
// across kubelet restarts and kubelet outages (k8s-apis.md §1.5, §1.7).
//
// One worker thread owns every start, stop, restart and Register, so they never overlap for one
// socket path. It wakes on a KubeletWatcher event, on a backoff deadline, on SetDevices /
// RemoveResource / ResyncNow, and every resync_interval regardless (the fallback when inotify
// misses something). On each wake it checks, per resource:
//   - not serving (new resource, or an earlier start failed)      -> Start, then Register;
//   - our socket gone or replaced (a restarting kubelet removes every socket in the directory),
//     or kubelet.sock is not the socket we registered with       -> clean restart: Stop (Shutdown
//     + Wait, which also unlinks), unlink a stale path, Start on the same path, wait until it
//     accepts, Register again;
//   - not registered                                             -> Register.
// A failed Start or Register is logged and retried with exponential backoff (initial_backoff
// doubling up to max_backoff); kubelet.sock appearing resets the backoff. Nothing here exits
// the process. The advertised devices live in each PluginServer, so a restart loses none, and
// allocations are kubelet's (checkpointed) and the pods' annotations: nothing to lose here.
//
// Usage:
//   PluginFleet fleet({.plugin_dir = "/var/lib/kubelet/device-plugins"}, &backend);
//   NPUSHARE_RETURN_IF_ERROR(fleet.Start());
//   NPUSHARE_RETURN_IF_ERROR(fleet.SetDevices({"huawei.com/Ascend910B3", "Ascend910B3.sock"},
//                                             devices));   // again on every change
//   ...
//   fleet.Stop();   // every socket removed
//
// Thread safety: every public method is safe for concurrent use.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "deviceplugin/kubelet/kubelet_watcher.h"
#include "deviceplugin/kubelet/plugin_server.h"
#include "deviceplugin/kubelet/socket_file.h"
#include "deviceplugin/plugin_device.h"

namespace npushare::deviceplugin {

// PluginResource: one resource the fleet serves and the socket file name it serves it on.
struct PluginResource {
  std::string resource_name{};  // e.g. "huawei.com/Ascend910B3"
  std::string endpoint{};       // e.g. "Ascend910B3.sock" (HAMi: "<commonWord>.sock")
};

// PluginFleetOptions: defaults suit production; tests shorten the timings.
struct PluginFleetOptions {
  // --- correctness ---
  // plugin_dir: kubelet's device-plugin directory; must exist at Start().
  std::string plugin_dir = kDefaultDevicePluginDir;
  // use_inotify: watch the directory; false leaves only the periodic check. true.
  bool use_inotify = true;
  // --- timing ---
  // resync_interval: the periodic check of sockets and registration. 5 s: at most this long
  // unregistered after a kubelet restart inotify missed.
  std::chrono::milliseconds resync_interval{5000};
  // initial_backoff / max_backoff: delay before retrying a failed Start or Register, doubling per
  // consecutive failure. 1 s / 30 s.
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{30000};
  // Passed to each PluginServer (see PluginServerOptions).
  std::chrono::milliseconds start_timeout{5000};
  std::chrono::milliseconds register_timeout{15000};
  std::chrono::milliseconds stop_grace{2000};
};

// PluginState: one resource's state, for metrics, logs and tests.
struct PluginState {
  PluginResource resource;
  bool serving = false;
  bool registered = false;  // the last Register succeeded and nothing since asked to redo it
  uint64_t restarts = 0;    // clean restarts after kubelet removed our socket / restarted
  uint64_t register_failures = 0;
  std::string last_error{};  // last Start/Register error; empty after a success
  size_t devices = 0;
  size_t healthy_devices = 0;
  PluginServerStats server;
};

class PluginFleet {
 public:
  // PluginFleet: `backend` is not owned, must outlive the fleet, and serves every resource.
  PluginFleet(PluginFleetOptions options, AllocateBackend* backend);
  // ~PluginFleet: Stop().
  ~PluginFleet();
  PluginFleet(const PluginFleet&) = delete;
  PluginFleet& operator=(const PluginFleet&) = delete;

  // Start: starts the watcher and the worker. kFailedPrecondition when plugin_dir is not a
  // directory. An inotify failure is logged and tolerated (inotify_active() is then false and
  // only the periodic check runs).
  Status Start() NPUSHARE_EXCLUDES(mu_);

  // SetDevices: creates the resource's server on first use (the worker starts and registers it)
  // and replaces its advertised list. kInvalidArgument when `resource.endpoint` is empty, has a
  // '/', is kubelet's own socket, is served for another resource, or differs from the endpoint
  // this resource was first given.
  Status SetDevices(const PluginResource& resource, std::vector<PluginDevice> devices);

  // RemoveResource: stops serving `resource_name` (its socket is removed; kubelet then marks its
  // devices unhealthy). No-op for an unknown name.
  void RemoveResource(const std::string& resource_name) NPUSHARE_EXCLUDES(mu_);

  // ResyncNow: wake the worker for a full check now (e.g. on SIGHUP, as HAMi's plugin does).
  void ResyncNow() NPUSHARE_EXCLUDES(mu_);

  // Stop: stops the worker, the watcher and every server (sockets removed). Idempotent.
  void Stop();

  // Plugins: the state of every resource, ordered by resource name.
  std::vector<PluginState> Plugins() const;
  // inotify_active: whether the watcher runs (false: periodic check only).
  bool inotify_active() const NPUSHARE_EXCLUDES(mu_);

 private:
  struct Entry;
  void OnDirEvent(const KubeletDirEvent& event) NPUSHARE_EXCLUDES(mu_);
  void Run();
  // Reconcile: one resource's check (see the file comment). Runs on the worker, without mu_.
  void Reconcile(Entry& e, const std::optional<SocketFileId>& kubelet,
                 std::chrono::steady_clock::time_point now);
  std::chrono::milliseconds Backoff(uint64_t failures) const;

  const PluginFleetOptions options_;
  AllocateBackend* const backend_;
  const std::string kubelet_socket_;
  KubeletWatcher watcher_;

  mutable Mutex mu_;
  CondVar cv_;
  std::map<std::string, std::shared_ptr<Entry>> entries_ NPUSHARE_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Entry>> removed_ NPUSHARE_GUARDED_BY(mu_);  // worker stops them
  bool wake_ NPUSHARE_GUARDED_BY(mu_) = false;
  bool kubelet_created_ NPUSHARE_GUARDED_BY(mu_) = false;
  bool stop_ NPUSHARE_GUARDED_BY(mu_) = false;
  bool started_ NPUSHARE_GUARDED_BY(mu_) = false;
  bool inotify_active_ NPUSHARE_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace npushare::deviceplugin
