// File: deviceplugin/daemon/device_plugin_daemon.h
//
// DevicePluginDaemon: npushare-device-plugin's composition root. It chooses the production
// implementations and wires the three parts (plugin_device.h):
//
//   DcmiLibrary --> DeviceManager --(NodeDevices snapshots)--+--> PluginFleet (kubelet gRPC,
//   (devices/)      (devices/)                                |    one server per resource,
//                                                             |    AdvertisedDevices)
//                                                             +--> NodeRegistrar (Nudge)
//                                                             +--> DeviceShareEnabler (Nudge)
//   KubeClient (CurlTransport, LoadRestConfig) --> AllocateService (allocate/) = the fleet's
//                                                  AllocateBackend
//   VnpuReconciler (leftover vNPUs), TenantReaper (soft-slice files), OpsHttpServer
//   (/metrics, /healthz, /help).
//
// Start order: config + DCMI + first snapshot (fatal on error: without chips there is nothing
// to serve), API client, the fleet (serve, then register), then the background loops, then
// HTTP. Stop runs in reverse; the fleet's Stop removes our sockets, so a SIGTERM leaves no
// socket behind and nothing half-written (node patches are single requests).
//
// Usage (main.cc):
//   DevicePluginDaemon d(options);
//   if (Status s = d.Start(); !s.ok()) { log; return 1; }
//   wait for SIGTERM;  (SIGHUP: d.Resync())
//   d.Stop();
//
// Thread safety: Start/Stop/Resync from the owner thread; Metrics()/Health() from any thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "deviceplugin/daemon/daemon_options.h"

namespace npushare::deviceplugin::daemon {

class DevicePluginDaemon {
 public:
  explicit DevicePluginDaemon(DaemonOptions options);
  // ~DevicePluginDaemon: Stop().
  ~DevicePluginDaemon();
  DevicePluginDaemon(const DevicePluginDaemon&) = delete;
  DevicePluginDaemon& operator=(const DevicePluginDaemon&) = delete;

  // Start: everything above. Errors: ValidateDaemonOptions' error; DCMI / config / discovery
  // errors from the devices part (kNotFound, kFailedPrecondition, ...); no usable API config
  // (LoadRestConfig's error); the device-plugin directory missing (kFailedPrecondition); the
  // HTTP address not bindable (kUnavailable). Whatever started is stopped again on error.
  Status Start();
  // Stop: reverse order; idempotent.
  void Stop();
  // Resync: re-check kubelet registration now (SIGHUP, as HAMi's plugin restarts on it).
  void Resync();

  // metrics_port: the bound HTTP port (0 when disabled or not started).
  int metrics_port() const;
  // Metrics: the /metrics text. Health: OK when every resource is served.
  std::string Metrics() const;
  Status Health() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace npushare::deviceplugin::daemon
