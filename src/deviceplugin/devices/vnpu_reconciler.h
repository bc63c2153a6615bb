// File: deviceplugin/devices/vnpu_reconciler.h
//
// VnpuReconciler: destroys hard-slice vNPUs left behind on this node's chips, and only those.
//
// The Ascend container runtime creates a vNPU when a hard-sliced container starts and
// destroys it in the container's poststop hook; a crashed runtime or a node reboot can leave
// one behind, holding a quarter or half of a chip that the scheduler believes is free. HAMi's
// plugin destroys every vNPU whose is_container_used is 0 at start-up. That is too eager (a
// vNPU created for a container that has not attached yet also reads 0) and leaky (it never
// looks again). Here a vNPU is destroyed only when all of these hold:
//   1. DCMI reports is_container_used == 0 (the NA value 0xFFFFFFFF counts as used);
//   2. it has been seen idle on every check for at least `grace` (a vNPU seen used, or
//      missing, starts over);
//   3. it is not claimed by a live pod: the pods on this node (LiveSliceSource) hold, per
//      (chip UUID, template), some number of hard slices; those of them that are not matched
//      by an in-use vNPU of that chip and template each protect one idle vNPU there (the most
//      recently idle ones, which are the likeliest to be a starting container's);
//   4. the live-pod list could be read on this check (an API error destroys nothing).
//
// Usage:
//   KubeLiveSlices pods(node, client, devices);
//   VnpuReconciler reconciler(VnpuReconcilerOptions{}, dcmi, devices, pods);
//   reconciler.Start();  ...  reconciler.Stop();
//
// Thread safety: safe for concurrent use; ReconcileOnce() calls are serialised.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "deviceplugin/devices/dcmi.h"
#include "deviceplugin/devices/device_manager.h"
#include "deviceplugin/plugin_device.h"
#include "kube/clock.h"
#include "kube/kube_client.h"

namespace npushare::deviceplugin::devices {

// OwnedSlice: one hard slice a live pod on this node holds: chip UUID and template name.
struct OwnedSlice {
  std::string uuid;
  std::string template_name;
  friend bool operator==(const OwnedSlice&, const OwnedSlice&) = default;
};

// LiveSliceSource: the hard slices held by live pods on this node.
class LiveSliceSource {
 public:
  virtual ~LiveSliceSource() = default;
  // LiveSlices: one entry per (container, device) slice. Any error means "unknown".
  virtual Result<std::vector<OwnedSlice>> LiveSlices() = 0;
};

// KubeLiveSlices: LiveSliceSource from the API server: pods with spec.nodeName == node that
// are not Succeeded/Failed; per pod, its hami.io/<cw>-devices-allocated devices whose
// huawei.com/<cw> runtime info names a template (soft slices and whole chips have none).
// A pod whose annotations do not decode is skipped (it cannot own a vNPU we could match).
class KubeLiveSlices final : public LiveSliceSource {
 public:
  // REQUIRES: client and devices outlive this.
  KubeLiveSlices(std::string node_name, kube::KubeClient& client,
                 const DeviceSnapshotSource& devices)
      : node_name_(std::move(node_name)), client_(client), devices_(devices) {}
  Result<std::vector<OwnedSlice>> LiveSlices() override;

 private:
  const std::string node_name_;
  kube::KubeClient& client_;
  const DeviceSnapshotSource& devices_;
};

// SlicesOfPod: the hard slices one pod object holds for chip `common_word` (see above).
std::vector<OwnedSlice> SlicesOfPod(const nlohmann::json& pod, const std::string& common_word);

struct VnpuReconcilerOptions {
  // grace: how long a vNPU must be seen idle, continuously, before it may be destroyed.
  // Default 120 s (two checks at the default interval): longer than a container start.
  std::chrono::milliseconds grace{120000};
  // interval: check period (HAMi's --check_idle_vnpu_interval). Default 60 s.
  std::chrono::milliseconds interval{60000};
  LogFn log;  // default: stderr
};

// ReconcileReport: what one check saw and did.
struct ReconcileReport {
  int vnpus = 0;                    // vNPUs listed on the node's chips
  int idle = 0;                     // with is_container_used == 0
  int protected_by_pods = 0;        // idle but claimed by a live pod
  std::vector<uint32_t> destroyed;  // ids destroyed
  std::vector<std::string> errors;  // DCMI errors (listing or destroying)
};

class VnpuReconciler {
 public:
  // REQUIRES: dcmi, devices, pods and clock outlive this.
  VnpuReconciler(VnpuReconcilerOptions options, Dcmi& dcmi, const DeviceSnapshotSource& devices,
                 LiveSliceSource& pods, kube::Clock& clock = kube::RealClock());
  ~VnpuReconciler();
  VnpuReconciler(const VnpuReconciler&) = delete;
  VnpuReconciler& operator=(const VnpuReconciler&) = delete;

  // ReconcileOnce: one check. Errors: kFailedPrecondition without a snapshot; the
  // LiveSliceSource's error (nothing destroyed, idle times still tracked). DCMI errors on one
  // chip or vNPU are collected in the report, not returned.
  Result<ReconcileReport> ReconcileOnce();

  // DestroyedTotal: vNPUs destroyed since construction (a metric).
  uint64_t DestroyedTotal() NPUSHARE_EXCLUDES(reconcile_mu_);

  // Start: the thread (first check after `interval`); does nothing after Stop().
  // Stop: idempotent.
  void Start() NPUSHARE_EXCLUDES(mu_);
  void Stop();

 private:
  void Log(const std::string& line) const;
  void Run() NPUSHARE_EXCLUDES(mu_);

  const VnpuReconcilerOptions options_;
  Dcmi& dcmi_;
  const DeviceSnapshotSource& devices_;
  LiveSliceSource& pods_;
  kube::Clock& clock_;

  Mutex reconcile_mu_;  // serialises ReconcileOnce; guards the two fields below
  std::map<uint32_t, std::chrono::steady_clock::time_point> idle_since_
      NPUSHARE_GUARDED_BY(reconcile_mu_);
  uint64_t destroyed_total_ NPUSHARE_GUARDED_BY(reconcile_mu_) = 0;

  Mutex mu_;  // guards the fields below
  CondVar cv_;
  bool stopping_ NPUSHARE_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace npushare::deviceplugin::devices
