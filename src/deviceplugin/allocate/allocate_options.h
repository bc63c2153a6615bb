// File: deviceplugin/allocate/allocate_options.h
//
// Options of the allocate/ part of npushare-device-plugin (AllocateService, TenantReaper).
// Host paths are node paths: kubelet hands them to the container runtime, which resolves
// them on the host, so when the plugin itself runs in a container it must see each of these
// directories at the same path (hostPath volumes mounted at their host path). The arbiter
// container needs shares_dir, grant_dir and tenants_dir the same way. Container paths are
// inside the workload.
//
// Soft-slicing layout (docs/softslice.md §2), per soft-sliced container `<tenant>`:
//   host                                   container                        mode
//   soft.libvnpu_path                   -> soft.container_libvnpu_path      ro
//   soft.ld_so_preload_path             -> /etc/ld.so.preload               ro  (holds the line
//                                          "<container_libvnpu_path>\n"; written by the plugin)
//   soft.quota_root/<tenant>/ (quota)   -> /run/npushare/vnpu               ro  (libvnpu's fixed
//                                          quota path; a directory so replacements are seen)
//   soft.grant_dir (arbiter --grant-dir)-> soft.container_grant_dir         ro
//   soft.tenants_dir/<tenant>/          -> soft.container_state_dir         rw  (0700, owned by
//                                          the container's runAsUser when the pod sets one)
//   soft.shares_dir/<tenant>.share      (not mounted; read by npushare-arbiter)
//
// Thread safety: plain values.
#pragma once

#include <chrono>
#include <string>

#include "kube/node_lock_client.h"

namespace npushare::deviceplugin::allocate {

// SoftSliceOptions: where the node side of soft slicing lives. Every host directory must
// exist and be writable by the plugin (WriteTenantFiles refuses otherwise, and the Allocate
// of a soft-sliced pod then fails with kFailedPrecondition naming the directory).
struct SoftSliceOptions {
  // --- host paths (must match npushare-arbiter's flags) ---
  std::string shares_dir = "/run/npushare/shares";    // arbiter --shares-dir
  std::string quota_root = "/run/npushare/quota";     // parent of per-tenant quota dirs
  std::string grant_dir = "/run/npushare/arbiter";    // arbiter --grant-dir
  std::string tenants_dir = "/run/npushare/tenants";  // arbiter --tenants-dir
  std::string libvnpu_path = "/usr/local/npushare/lib/libvnpu.so";
  // ld_so_preload_path: the host file mounted at /etc/ld.so.preload. The service writes it
  // (mode 0644, atomically) when it is missing or does not name container_libvnpu_path.
  std::string ld_so_preload_path = "/usr/local/npushare/ld.so.preload";
  // --- container paths ---
  std::string container_libvnpu_path = "/usr/local/lib/npushare/libvnpu.so";
  std::string container_grant_dir = "/run/npushare/arbiter";  // NPUSHARE_VNPU_ARBITER_DIR
  std::string container_state_dir = "/run/npushare/state";    // NPUSHARE_VNPU_STATE_DIR
  // --- policy ---
  // hard_cap: core shares are hard caps (share file `cap`, NPUSHARE_VNPU_CORE_CAP=1) instead
  // of work-conserving weights. Default false (an idle chip is lent out).
  bool hard_cap = false;
};

// The container path of the quota directory is fixed by libvnpu.so (interceptor/config.h
// kQuotaFilePath without "/quota"); it is not an option.
inline constexpr char kContainerQuotaDir[] = "/run/npushare/vnpu";
inline constexpr char kContainerPreloadPath[] = "/etc/ld.so.preload";

struct AllocateOptions {
  // --- correctness ---
  SoftSliceOptions soft;
  // lock: used to release the node lock after the pod's last container (and on failure).
  kube::NodeLockOptions lock;
  // --- parameters that affect performance ---
  // pod_update_attempts: rounds of read-pod / patch-pod when the pod changes under us (409)
  // or the patch response is lost. KubeClient's own retries (ClientOptions) bound each call
  // against an unreachable API server. Default 4.
  int pod_update_attempts = 4;
  // pod_update_backoff: sleep before the second round, doubled per round. Default 20 ms.
  std::chrono::milliseconds pod_update_backoff{20};
};

}  // namespace npushare::deviceplugin::allocate
