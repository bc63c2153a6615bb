// File: deviceplugin/allocate/tenant_reaper.h
//
// TenantReaper: the clean-up half of soft-slicing Allocate. ReconcileOnce():
//   1. scans the tenant names Allocate creates (TenantNameFor: "<pod uid>_<container>") in
//      soft.quota_root (directories), soft.shares_dir (<tenant>.share) and soft.tenants_dir
//      (directories); names of another shape are not ours and are left alone;
//   2. then lists the pods of this node (fieldSelector spec.nodeName=<node>). Scanning first
//      means a tenant written by an Allocate running concurrently belongs to a pod that was
//      bound before the scan, hence is in the list;
//   3. removes every tenant whose pod UID is not a live pod of the list (absent, or phase
//      Succeeded/Failed: its containers are gone and will not restart) with
//      RemoveSoftSliceFiles. A pod that is Running keeps all its containers' files, even of a
//      container that exited (it may restart);
//   4. releases the node lock when its holder pod is gone or terminated (kubelet rejected
//      it, e.g. after an Allocate whose API calls failed): the lock must not be left held
//      by a pod that will never be allocated.
// A failed listing removes nothing. Start() runs ReconcileOnce every `interval` on a thread.
//
// Thread safety: ReconcileOnce may be called from any thread (calls are serialised); Start and
// Stop from one owner thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "deviceplugin/allocate/allocate_options.h"
#include "kube/clock.h"
#include "kube/kube_client.h"
#include "kube/node_lock_client.h"

namespace npushare::deviceplugin::allocate {

struct TenantReaperOptions {
  SoftSliceOptions soft;  // the same directories AllocateService writes
  kube::NodeLockOptions lock;
  // interval: time between two passes of the Start() loop. Default 30 s.
  std::chrono::milliseconds interval{30000};
};

// ReapResult: what one pass did.
struct ReapResult {
  size_t tenants_seen = 0;
  size_t tenants_removed = 0;
  size_t removal_errors = 0;
  bool lock_released = false;
};

class TenantReaper {
 public:
  // TenantReaper: REQUIRES: client and clock outlive this.
  TenantReaper(kube::KubeClient& client, std::string node_name, TenantReaperOptions options,
               kube::Clock& clock = kube::RealClock());
  ~TenantReaper();  // Stop()s
  TenantReaper(const TenantReaper&) = delete;
  TenantReaper& operator=(const TenantReaper&) = delete;

  // ReconcileOnce: one pass (see the file comment). Errors: the API error when the pods or
  // the node cannot be read (nothing removed then). Removal failures are counted in the
  // result, logged, and retried at the next pass.
  Result<ReapResult> ReconcileOnce() NPUSHARE_EXCLUDES(reconcile_mu_);

  // Start: runs ReconcileOnce now and then every interval until Stop. No-op if running.
  void Start();
  // Stop: wakes and joins the loop thread. Idempotent.
  void Stop();

 private:
  Status ReleaseDeadHolderLock(bool* released);

  kube::KubeClient& client_;
  const std::string node_;
  const TenantReaperOptions options_;
  kube::NodeLockClient locks_;
  Mutex reconcile_mu_;  // serialises ReconcileOnce
  Mutex loop_mu_;       // guards stop_
  CondVar loop_cv_;
  bool stop_ NPUSHARE_GUARDED_BY(loop_mu_) = false;
  std::thread loop_;  // joined by Stop; must be last so it stops before the rest goes
};

}  // namespace npushare::deviceplugin::allocate
