// File: deviceplugin/devices/device_manager.h
//
// DeviceManager: owns the node's device view. At Start() it initialises DCMI, discovers the
// chips, loads device-config.yaml (and node-config.yaml when given) through src/config and
// publishes the first NodeDevices snapshot. A poll thread then, every poll_interval:
//   * re-reads the config files whose (device, inode, size, mtime) changed; a file that no
//     longer loads keeps the last good config and logs why (once per change of the file);
//   * re-reads every chip's DCMI health;
// and publishes a new snapshot to every listener whenever the result differs from the
// current one (a chip unhealthy at start that recovers later is published like any change).
//
// Usage (the daemon's composition root):
//   DeviceManagerOptions opts;
//   opts.node_name = node; opts.device_config_path = "/device-config.yaml";
//   DeviceManager devices(opts, dcmi);
//   devices.AddListener([&](std::shared_ptr<const NodeDevices> nd) { ... });
//   NPUSHARE_RETURN_IF_ERROR(devices.Start());
//   ...   devices.Current() ...
//   devices.Stop();   // also in the destructor
//
// Thread safety: safe for concurrent use. Listeners run on the thread that found the change
// (Start()'s caller for the first snapshot is NOT notified: read Current() after Start;
// PollOnce()'s caller or the poll thread afterwards); they must not call Stop().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "config/device_config.h"
#include "config/node_config.h"
#include "deviceplugin/devices/dcmi.h"
#include "deviceplugin/devices/discovery.h"
#include "deviceplugin/plugin_device.h"

namespace npushare::deviceplugin::devices {

// LogFn: one human-readable line (the daemon decides the format and sink).
using LogFn = std::function<void(const std::string&)>;

struct DeviceManagerOptions {
  // --- correctness ---
  std::string node_name;           // REQUIRED: selects the node-config entry
  std::string device_config_path;  // REQUIRED: HAMi device-config.yaml (or its ConfigMap)
  std::string node_config_path;    // optional ("" = none); a missing file = no node entries
  // --- parameters that affect performance ---
  // poll_interval: health and config-file check period. Default 5 s: a chip turning
  // unhealthy reaches kubelet within that; each poll costs one DCMI health call per chip and
  // two stat()s.
  std::chrono::milliseconds poll_interval{5000};
  LogFn log;  // default: stderr
};

class DeviceManager final : public DeviceSnapshotSource {
 public:
  using Listener = std::function<void(std::shared_ptr<const NodeDevices>)>;

  // DeviceManager: REQUIRES: dcmi outlives this.
  DeviceManager(DeviceManagerOptions options, Dcmi& dcmi);
  ~DeviceManager() override;
  DeviceManager(const DeviceManager&) = delete;
  DeviceManager& operator=(const DeviceManager&) = delete;

  // AddListener: called with every new snapshot after Start(). REQUIRES: before Start().
  void AddListener(Listener listener);

  // Initialize: DCMI init + discovery + config load + first snapshot, no thread. Errors: the
  // DCMI error (dcmi.h mapping), the config loader's error (kNotFound / kInvalidArgument),
  // or BuildNodeDevices' kFailedPrecondition. Current() stays null on error.
  Status Initialize() NPUSHARE_EXCLUDES(mu_);
  // Start: Initialize() (unless it already succeeded) then the poll thread. Error as above;
  // a failed Start() may be retried (e.g. DCMI not ready yet after boot). Does not start the
  // thread after Stop().
  Status Start();
  // Stop: ends the poll thread; idempotent.
  void Stop();

  // PollOnce: one poll step (config files, then health); publishes and returns true when the
  // snapshot changed. REQUIRES: Initialize() succeeded. Used by the poll thread and tests.
  bool PollOnce() NPUSHARE_EXCLUDES(poll_mu_);

  // Current: the latest snapshot; null before Initialize() succeeded.
  std::shared_ptr<const NodeDevices> Current() const override;
  // CurrentDeviceConfig: the config the snapshot was built from (the last good one).
  std::shared_ptr<const config::DeviceConfig> CurrentDeviceConfig() const NPUSHARE_EXCLUDES(mu_);
  // ConfigReloadFailures: how many changed config files were rejected (kept the old one).
  uint64_t ConfigReloadFailures() const NPUSHARE_EXCLUDES(mu_);

 private:
  struct FileStamp {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  static FileStamp Stamp(const std::string& path);
  void Log(const std::string& line) const;
  // ReloadConfigs: re-reads changed files; true when a new good config was adopted.
  bool ReloadConfigs() NPUSHARE_REQUIRES(poll_mu_);
  Result<std::shared_ptr<const config::NodeConfig>> LoadNodeConfig() const;
  // Rebuild: new snapshot from chips_ and the configs; true (and listeners notified) when it
  // differs from the current one.
  bool Rebuild() NPUSHARE_REQUIRES(poll_mu_);
  void Run() NPUSHARE_EXCLUDES(mu_);

  const DeviceManagerOptions options_;
  Dcmi& dcmi_;
  std::vector<Listener> listeners_;  // fixed after Start()

  // Poll state: touched only by Initialize() and then the single PollOnce() caller.
  Mutex poll_mu_;  // serialises PollOnce (thread vs. tests)
  bool initialized_ NPUSHARE_GUARDED_BY(poll_mu_) = false;
  std::vector<DiscoveredChip> chips_ NPUSHARE_GUARDED_BY(poll_mu_);
  FileStamp device_stamp_ NPUSHARE_GUARDED_BY(poll_mu_);
  FileStamp node_stamp_ NPUSHARE_GUARDED_BY(poll_mu_);
  std::shared_ptr<const config::NodeConfig> node_config_ NPUSHARE_GUARDED_BY(poll_mu_);

  mutable Mutex mu_;  // guards the fields below
  std::shared_ptr<const NodeDevices> current_ NPUSHARE_GUARDED_BY(mu_);
  std::shared_ptr<const config::DeviceConfig> device_config_ NPUSHARE_GUARDED_BY(mu_);
  uint64_t reload_failures_ NPUSHARE_GUARDED_BY(mu_) = 0;
  bool stopping_ NPUSHARE_GUARDED_BY(mu_) = false;
  CondVar cv_;
  std::thread thread_;
};

// SameDevices: field-by-field equality of two snapshots.
bool SameDevices(const NodeDevices& a, const NodeDevices& b);

}  // namespace npushare::deviceplugin::devices
