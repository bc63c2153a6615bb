// File: deviceplugin/allocate/allocate_service.h
//
// AllocateService: npushare-device-plugin's AllocateBackend (plugin_device.h). It turns the
// allocation the scheduler wrote into the pod's annotations into kubelet's
// ContainerAllocateResponse, for hard slices (vNPU templates) and soft slices (libvnpu.so +
// npushare-arbiter). One kubelet Allocate call per container:
//
//   1. The resource must be the one this node serves.
//   2. PodLocator::Locate: node lock holder with a pending allocation, else the earliest
//      bound pending pod of this node (pod_locator.h). Nothing found: error, no pod touched.
//   3. PlanContainer: pop the first non-empty `hami.io/<cw>-devices-to-allocate` entry,
//      check it against kubelet's request (count; IDs must be ones we advertise) and this
//      node's chips (container_plan.h). A failing Allocate makes kubelet reject the pod, so
//      every error from here on also marks the pod `failed` and releases its lock.
//   4. Hard slice: ASCEND_VISIBLE_DEVICES (+ ASCEND_VNPU_SPECS). Soft slice: write the
//      tenant's quota/share files and state directory, answer env + mounts
//      (container_response.h, soft_slice_files.h).
//   5. One merge patch of the pod with its resourceVersion as precondition: the remaining
//      `-devices-to-allocate`, plus `hami.io/bind-phase: success` when no container of this
//      chip type is left (init containers included). A 409 (the pod changed) or a lost
//      response whose effect is not visible on a re-read starts again at 2, at most
//      AllocateOptions::pod_update_attempts times.
//   6. After the pod's last container only (upstream releases after the first, bug §9.1):
//      release the node lock if it names the pod.
//   On any failure after step 2 identified the pod: `hami.io/bind-phase: failed` and the node
//   lock released (both best effort: when the API server is unreachable they cannot happen;
//   the TenantReaper releases a lock whose holder has terminated, which kubelet's rejection
//   of the pod brings about).
//
// Errors (the message reaches the user in the pod's events):
//   kInvalidArgument   malformed or inconsistent annotations, unknown device or kubelet ID,
//                      wrong resource;
//   (errors of step 2 read "get pending pod error: ...", as upstream's)
//   kNotFound          no pod to allocate, or nothing pending for it;
//   kFailedPrecondition soft slicing asked for on a node without it, or node-side soft
//                      slicing files/directories missing;
//   kUnavailable etc.  the API server could not be reached (after KubeClient's retries);
//   kAborted           the pod kept changing under us.
//
// Construction (npushare-device-plugin main):
//   AllocateOptions opts;               // soft-slicing paths, see allocate_options.h
//   opts.soft.shares_dir = ...;         // = npushare-arbiter --shares-dir, etc.
//   AllocateService allocate(kube_client, device_manager, node_name, opts);
//   PluginFleet fleet(fleet_options, &allocate);  // an AllocateBackend*
// PreferredAllocation never fails and never writes.
//
// Thread safety: safe for concurrent use; Allocate calls are serialised per service (one
// node), PreferredAllocation runs concurrently with them.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "deviceplugin/allocate/allocate_options.h"
#include "deviceplugin/plugin_device.h"
#include "kube/clock.h"
#include "kube/kube_client.h"
#include "kube/node_lock_client.h"

namespace npushare::deviceplugin::allocate {

class AllocateService final : public AllocateBackend {
 public:
  // AllocateService: REQUIRES: client, devices and clock outlive this; devices.Current() is
  // non-null once kubelet can call (before that, Allocate answers kUnavailable).
  AllocateService(kube::KubeClient& client, const DeviceSnapshotSource& devices,
                  std::string node_name, AllocateOptions options = {},
                  kube::Clock& clock = kube::RealClock());
  AllocateService(const AllocateService&) = delete;
  AllocateService& operator=(const AllocateService&) = delete;

  Result<ContainerAllocation> AllocateContainer(
      const std::string& resource_name, const std::vector<std::string>& device_ids) override;

  std::vector<std::string> PreferredAllocation(const std::string& resource_name,
                                               const std::vector<std::string>& available,
                                               const std::vector<std::string>& must_include,
                                               int32_t allocation_size) override;

 private:
  Result<ContainerAllocation> AllocateOnce(const NodeDevices& devices,
                                           const std::vector<std::string>& device_ids,
                                           std::optional<hami::PodRef>* identified, bool* retry);
  void MarkFailedAndRelease(const hami::PodRef& pod, const Status& why);

  kube::KubeClient& client_;
  const DeviceSnapshotSource& devices_;
  const std::string node_;
  const AllocateOptions options_;
  kube::Clock& clock_;
  kube::NodeLockClient locks_;
  Mutex allocate_mu_;  // serialises AllocateContainer
};

}  // namespace npushare::deviceplugin::allocate
