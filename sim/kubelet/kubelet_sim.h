// File: sim/kubelet/kubelet_sim.h
//
// KubeletSim: the kubelet stand-in for tests and the local cluster. It plays kubelet's device
// manager over the real wire (k8s-apis.md §1.5-§1.7):
//   - serves v1beta1.Registration on <plugin_dir>/kubelet.sock;
//   - Register: refuses what kubelet refuses (CheckRegisterRequest), then, synchronously inside
//     the call, dials <plugin_dir>/<endpoint> (blocking, dial_timeout, 10 s like kubelet) and
//     calls GetDevicePluginOptions; a plugin that registers before it serves fails here;
//   - after Register returns, one thread per resource holds ListAndWatch open; each message
//     replaces the resource's device set (capacity = all, allocatable = healthy); when the
//     stream ends every device of the resource turns unhealthy (kubelet's PluginDisconnected);
//   - Allocate picks IDs like kubelet (PickDevices: reusable first, GetPreferredAllocation when
//     advertised, then healthy unallocated IDs), calls Allocate with one container request,
//     records the IDs for the owner and returns the container's response;
//   - Restart() is a kubelet restart: the server and every plugin connection stop, device sets
//     are forgotten (capacity 0 until plugins register again), allocations survive (kubelet's
//     checkpoint), every unix socket in the directory is removed (CleanupPluginDirectory) and a
//     new kubelet.sock is served.
// Observing it: State() copies everything; WaitFor() blocks on a condition variable until a
// predicate over the state holds (no polling, no sleeps).
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(auto kubelet, KubeletSim::Start({.plugin_dir = dir}));
//   ... plugin registers ...
//   kubelet->WaitForHealthy("huawei.com/Ascend910B3", 8, std::chrono::seconds(10));
//   NPUSHARE_ASSIGN_OR_RETURN(DeviceGrant g,
//       kubelet->Allocate({.owner = "pod-uid/main", .resource_name = "huawei.com/Ascend910B3",
//                          .count = 1}));
//   kubelet->Release("pod-uid/main");
//
// Thread safety: every method is safe for concurrent use; Allocate calls are serialised (as in
// kubelet, one admission at a time). Not for production: it trusts the plugin's answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "deviceplugin/plugin_device.h"

namespace npushare::kubelet_sim {

// KubeletSimOptions: where the stand-in lives and its timeouts.
struct KubeletSimOptions {
  // plugin_dir: the device-plugin directory (created 0750 if missing).
  std::string plugin_dir{};
  // dial_timeout: Register's blocking dial back to the plugin (kubelet: 10 s).
  std::chrono::milliseconds dial_timeout{10000};
  // rpc_timeout: bound on GetDevicePluginOptions / GetPreferredAllocation / Allocate calls
  // (kubelet: none for Allocate; a bound keeps a hung plugin from hanging a test). 30 s.
  std::chrono::milliseconds rpc_timeout{30000};
};

// RegistrationRecord: one Register call and how it ended.
struct RegistrationRecord {
  std::string version{};
  std::string endpoint{};
  std::string resource_name{};
  bool request_preferred_allocation = false;  // RegisterRequest.options (informational)
  Status result;
};

// ResourceState: kubelet's view of one extended resource.
struct ResourceState {
  std::string endpoint{};                           // socket file name the plugin registered
  bool connected = false;                           // registered and its ListAndWatch stream open
  bool pre_start_required = false;                  // from GetDevicePluginOptions
  bool get_preferred_allocation_available = false;  // from GetDevicePluginOptions
  std::vector<deviceplugin::PluginDevice> devices;  // last ListAndWatch list, in plugin order
  uint64_t list_and_watch_updates = 0;              // messages received, over all streams
  uint64_t stream_ends = 0;                         // streams that ended while current
  std::map<std::string, std::string> allocated;     // device id -> owner
  uint64_t preferred_allocation_calls = 0;
  uint64_t allocate_calls = 0;

  size_t capacity() const { return devices.size(); }
  size_t allocatable() const;  // healthy devices
};

// KubeletState: everything observable, as one consistent copy.
struct KubeletState {
  std::map<std::string, ResourceState> resources;
  std::vector<RegistrationRecord> registrations;  // every Register call, in arrival order
  uint64_t restarts = 0;
};

// DeviceRequest: one container's need for one resource.
struct DeviceRequest {
  // owner: who holds the devices ("<pod uid>/<container>"); empty: a fresh anonymous owner.
  std::string owner{};
  std::string resource_name{};
  int32_t count = 0;
  // reusable: devices this container may reuse (an init container's), taken first and sent as
  // must_include in GetPreferredAllocation.
  std::vector<std::string> reusable{};
};

// DeviceGrant: what Allocate decided and what the plugin answered.
struct DeviceGrant {
  std::string owner{};
  std::vector<std::string> device_ids{};  // sent in the ContainerAllocateRequest, in this order
  std::vector<std::string> preferred{};   // GetPreferredAllocation's answer (empty if not called)
  bool preferred_called = false;
  deviceplugin::ContainerAllocation response;  // container_responses[0]
};

class KubeletSim {
 public:
  // Start: creates plugin_dir if needed and serves kubelet.sock there. Errors: kInvalidArgument
  // for an empty or too long path, FileSystemError for the directory, kUnavailable when the
  // socket cannot be served.
  static Result<std::unique_ptr<KubeletSim>> Start(KubeletSimOptions options);
  // ~KubeletSim: Stop().
  ~KubeletSim();
  KubeletSim(const KubeletSim&) = delete;
  KubeletSim& operator=(const KubeletSim&) = delete;

  // Restart: a kubelet restart (see the file comment). Errors as Start (then it is stopped).
  Status Restart();
  // Stop: stops serving and closes every plugin connection; kubelet.sock is removed. Plugin
  // sockets are left alone (a stopped kubelet removes nothing). Idempotent.
  void Stop();

  // Allocate: kubelet's admission of one container for one resource (see DeviceGrant).
  // When `owner` already holds devices of this resource: the same grant again without calling
  // the plugin (kubelet does not re-allocate), kFailedPrecondition if the count differs.
  // Errors: kNotFound for a resource no plugin registered ("unknown Device Plugin"),
  // kUnavailable when its plugin is disconnected, PickDevices' errors, the plugin's own gRPC
  // errors (code and message as sent) from GetPreferredAllocation or Allocate, kInternal for an
  // empty container_responses. Nothing is recorded on error.
  Result<DeviceGrant> Allocate(const DeviceRequest& request);
  // Release: frees every device `owner` holds (a container removed). Returns how many.
  size_t Release(const std::string& owner);

  // State: a consistent copy of kubelet's view.
  KubeletState State() const;
  // WaitFor: blocks until `predicate(state)` holds (re-evaluated after every change) or
  // `timeout` passes; returns whether it held. The predicate runs under the internal lock: it
  // must not call back into this object.
  bool WaitFor(const std::function<bool(const KubeletState&)>& predicate,
               std::chrono::milliseconds timeout) const;
  // WaitForHealthy: WaitFor(resource connected with exactly `healthy` healthy devices).
  bool WaitForHealthy(const std::string& resource_name, size_t healthy,
                      std::chrono::milliseconds timeout) const;

  const std::string& plugin_dir() const;
  // socket_path: <plugin_dir>/kubelet.sock.
  std::string socket_path() const;

 private:
  class Impl;
  explicit KubeletSim(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace npushare::kubelet_sim
