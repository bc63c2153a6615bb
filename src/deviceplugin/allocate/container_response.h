// File: deviceplugin/allocate/container_response.h
//
// What kubelet gets back for one container (ascend-abi.md §4.2-§4.3), built from a
// ContainerPlan. Pure; the files a soft slice needs are written by soft_slice_files.h.
//
// Always: ASCEND_VISIBLE_DEVICES = the devices' physical ids, comma-joined in annotation order
// (logical device i of the container is the i-th id, which is how multi-chip and
// non-first-chip containers see the right devices).
//
// Hard slice (pod without `huawei.com/vnpu-mode: hami-core`): ASCEND_VNPU_SPECS = the first
// non-empty RuntimeInfo `temp` of the container's devices (absent when none: whole chips). No
// mounts: the Ascend container runtime creates the vNPU.
//
// Soft slice (`huawei.com/vnpu-mode: hami-core`), per device i: memory MiB = RuntimeInfo
// `memory` when present, else the allocation's usedmem; core % = RuntimeInfo `core` when
// present, else usedcores. Env:
//   NPUSHARE_VNPU_MEM_MB / NPUSHARE_VNPU_CORE_PCT  "m0,m1,..." / "c0,c1,..." per device
//   NPUSHARE_VNPU_STATE_DIR / NPUSHARE_VNPU_ARBITER_DIR  the container paths of the options
//   NPUSHARE_VNPU_CORE_CAP=1                      only with SoftSliceOptions::hard_cap
//   NPU_MEM_QUOTA / NPU_PRIORITY                  hami-vnpu-core compatibility: the first
//                                                 device's memory / core (NPU_PRIORITY omitted
//                                                 when 0, as upstream)
// Mounts: see allocate_options.h. The node-written quota file (read-only mount) is what
// libvnpu enforces; the env quotas are the same numbers for tools that read the env.
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "common/status.h"
#include "deviceplugin/allocate/allocate_options.h"
#include "deviceplugin/allocate/container_plan.h"
#include "deviceplugin/plugin_device.h"
#include "softslice/node/tenant_files.h"

namespace npushare::deviceplugin::allocate {

// IsSoftSlicePod: the pod annotation huawei.com/vnpu-mode is exactly "hami-core".
bool IsSoftSlicePod(const kube::PodView& pod);

// TenantNameFor: "<pod uid>_<container name>", the soft-slicing tenant (and state directory)
// name of one container. kInvalidArgument when the result is not a valid tenant name
// ([a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?; Kubernetes UIDs and container names always are).
Result<std::string> TenantNameFor(const std::string& pod_uid, const std::string& container);

// PodUidOfTenant: the pod UID part of a tenant name made by TenantNameFor, or "" when `tenant`
// does not have that shape (no '_', empty halves).
std::string PodUidOfTenant(const std::string& tenant);

// BuildHardAllocation: the hard-slice (and whole-chip) response.
ContainerAllocation BuildHardAllocation(const ContainerPlan& plan);

// BuildTenantGrant: the soft-slice grant of `plan` for `tenant`. kInvalidArgument for a
// negative memory or core value, a core above 100, or more devices than libvnpu handles.
Result<softslice::TenantGrant> BuildTenantGrant(const ContainerPlan& plan,
                                                const std::string& tenant, bool hard_cap);

// BuildSoftAllocation: the soft-slice response for `grant` (from BuildTenantGrant).
ContainerAllocation BuildSoftAllocation(const ContainerPlan& plan,
                                        const softslice::TenantGrant& grant,
                                        const SoftSliceOptions& options);

}  // namespace npushare::deviceplugin::allocate
