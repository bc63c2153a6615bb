// File: deviceplugin/kubelet/plugin_server.h
//
// PluginServer: kubelet's DevicePlugin gRPC service (v1beta1) for ONE extended resource, on the
// unix socket <plugin_dir>/<endpoint> (k8s-apis.md §1). It advertises the PluginDevice list it
// is given and hands Allocate / GetPreferredAllocation to an AllocateBackend.
//
//   GetDevicePluginOptions  {pre_start_required: false, get_preferred_allocation_available: true}
//   ListAndWatch            the full list at once, then again after every UpdateDevices() that
//                           changes it (health included); the stream stays open while the server
//                           serves and ends with OK on Stop()
//   Allocate                one ContainerAllocateResponse per ContainerAllocateRequest, from
//                           AllocateBackend::AllocateContainer; its error becomes the gRPC status
//                           (same code, same message) and fails the pod's admission
//   GetPreferredAllocation  AllocateBackend::PreferredAllocation per container; never an error
//   PreStartContainer       empty OK (not required)
//
// Life cycle: Start() serves (serve first: kubelet dials back inside Register), Register()
// registers with <plugin_dir>/kubelet.sock, Stop() ends streams, stops the gRPC server
// completely and removes the socket. Start() may be called again after Stop(): that is the
// restart after kubelet deleted our socket (PluginFleet does it). The device list lives in the
// PluginServer object, not in the gRPC server, so it survives restarts.
//
// Usage:
//   PluginServer server({.plugin_dir = "/var/lib/kubelet/device-plugins",
//                        .endpoint = "Ascend910B3.sock",
//                        .resource_name = "huawei.com/Ascend910B3"}, &backend);
//   server.UpdateDevices(devices);
//   NPUSHARE_RETURN_IF_ERROR(server.Start());
//   NPUSHARE_RETURN_IF_ERROR(server.Register());
//   ...
//   server.Stop();
//
// Thread safety: every method is safe for concurrent use. Start/Stop are serialised
// internally; UpdateDevices never blocks on a gRPC call.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "deviceplugin/kubelet/kubelet_paths.h"
#include "deviceplugin/plugin_device.h"

namespace npushare::deviceplugin {

// PluginServerOptions: where and what a PluginServer serves.
struct PluginServerOptions {
  // --- correctness ---
  // plugin_dir: kubelet's device-plugin directory (holds kubelet.sock); must exist.
  std::string plugin_dir = kDefaultDevicePluginDir;
  // endpoint: our socket's file name inside plugin_dir, e.g. "Ascend910B3.sock" (no '/').
  std::string endpoint{};
  // resource_name: the extended resource this server advertises, e.g. "huawei.com/Ascend910B3".
  std::string resource_name{};
  // --- timing ---
  // start_timeout: how long Start() waits until the new socket accepts a connection. 5 s.
  std::chrono::milliseconds start_timeout{5000};
  // register_timeout: bound on one Register call; kubelet dials back with its own 10 s, so keep
  // this above 10 s. 15 s.
  std::chrono::milliseconds register_timeout{15000};
  // stop_grace: how long Stop() lets in-flight unary calls (Allocate) finish before cancelling
  // them. 2 s.
  std::chrono::milliseconds stop_grace{2000};
};

// PluginServerStats: counters for metrics and tests (monotonic over the object's life).
struct PluginServerStats {
  uint64_t starts = 0;                // successful Start() calls
  uint64_t registrations = 0;         // successful Register() calls
  uint64_t allocate_calls = 0;        // Allocate container requests answered (OK or not)
  uint64_t allocate_errors = 0;       // ... of which failed
  uint64_t preferred_calls = 0;       // GetPreferredAllocation container requests
  uint64_t list_and_watch_sends = 0;  // ListAndWatch messages written
  uint32_t open_streams = 0;          // ListAndWatch streams open now
};

class PluginServer {
 public:
  // PluginServer: `backend` is not owned and must outlive this object. Nothing is served until
  // Start().
  PluginServer(PluginServerOptions options, AllocateBackend* backend);
  // ~PluginServer: Stop().
  ~PluginServer();
  PluginServer(const PluginServer&) = delete;
  PluginServer& operator=(const PluginServer&) = delete;

  // Start: removes a stale socket at socket_path(), serves there and waits until the socket
  // accepts connections. OK when serving (also when it already served).
  // Errors: kInvalidArgument for an endpoint with '/' or a path too long for a unix socket;
  // kFailedPrecondition when plugin_dir is missing or a non-socket file holds the path;
  // kUnavailable when gRPC cannot bind or the socket does not accept in start_timeout (nothing
  // is left serving then).
  Status Start();

  // Register: RegisterWithKubelet for this resource, with the same options GetDevicePluginOptions
  // answers. REQUIRES: Serving() (else kFailedPrecondition: registering before serving fails on
  // current kubelets). Errors as RegisterWithKubelet; the caller retries (PluginFleet does).
  Status Register();

  // Stop: ends every ListAndWatch stream with OK, stops the gRPC server completely (Shutdown +
  // Wait; in-flight calls get stop_grace) and removes our socket if it is still ours. No-op when
  // not serving. Safe to call Start() again afterwards.
  void Stop();

  // Serving: Start() succeeded and Stop() has not been called since.
  bool Serving() const;
  // SocketIntact: Serving() and socket_path() is still the socket this server bound (false once
  // a restarting kubelet deleted it).
  bool SocketIntact() const;

  // UpdateDevices: replaces the advertised list; when it differs from the current one every open
  // ListAndWatch stream sends the new full list. Works whether serving or not (the list is kept
  // for the next Start()).
  void UpdateDevices(std::vector<PluginDevice> devices);
  // Devices: the current advertised list.
  std::vector<PluginDevice> Devices() const;

  PluginServerStats Stats() const;
  const std::string& socket_path() const;
  const std::string& resource_name() const;
  const PluginServerOptions& options() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace npushare::deviceplugin
