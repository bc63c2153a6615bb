// File: softslice/node/tenant_files.h
//
// The node side of soft slicing: the two files through which the node (the device plugin, at
// Allocate) tells the soft-slicing runtime what a container was granted. The container can
// read neither back into a larger grant:
//   * the share file `<shares_dir>/<tenant>.share` (share_file.h), read only by
//     npushare-arbiter: compute percent, hard cap and the pinned physical chip per device;
//   * the quota file `<quota_root>/<tenant>/quota` (interceptor/config.h), read by libvnpu.so
//     in the container at /run/npushare/vnpu/quota: memory MiB per device. Mount the
//     directory `<quota_root>/<tenant>` read-only at /run/npushare/vnpu (a directory, not the
//     file: a file bind mount pins the inode, so a later atomic replace would not be seen).
// `tenant` is also the name of the container's state directory under the arbiter's
// --tenants-dir, which is how the arbiter pairs a tenant page with its share file.
//
// Files are replaced atomically (readers never see a partial file), mode 0644; directories
// this creates are 0755. Nothing here is group/world-writable.
//
// Thread safety: free functions; concurrent calls for different tenants are safe.
#pragma once

#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace npushare::softslice {

struct DeviceGrant {
  uint32_t core_percent = 0;  // 0..100; 0 = best effort
  bool hard_cap = false;      // never more than core_percent (REQUIRES core_percent > 0)
  int32_t chip = -1;          // physical chip of this logical device, -1 = not pinned
  uint64_t memory_mb = 0;     // quota in MiB, 0 = unlimited
};

struct TenantGrant {
  std::string tenant;                // [a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?
  std::vector<DeviceGrant> devices;  // logical devices 0, 1, ... (at most VNPU_MAX_DEVICES)
};

struct TenantFilesOptions {
  std::string shares_dir;  // the arbiter's --shares-dir (must exist)
  std::string quota_root;  // parent of the per-tenant quota directories (must exist)
};

// ValidateTenantGrant: OK when the grant can be written: a valid tenant name, 1..16 devices,
// percents 0..100, cap only with a percent, chips -1..63 and no chip pinned twice, quotas
// within libvnpu's limit. Errors: kInvalidArgument naming the field.
Status ValidateTenantGrant(const TenantGrant& grant);

// RenderQuotaFile: "<mb>,<mb>,...\n" for the grant's devices (what libvnpu parses).
std::string RenderQuotaFile(const TenantGrant& grant);

// WriteTenantFiles: validates, then writes the quota file (creating `<quota_root>/<tenant>`)
// and then the share file. Errors: those of ValidateTenantGrant; kFailedPrecondition when the
// quota path is not a directory; for a failing system call FileSystemError's code
// (common/fs_error.h: kNotFound when a directory is missing, kPermissionDenied when not
// writable, ...).
Status WriteTenantFiles(const TenantFilesOptions& options, const TenantGrant& grant);

// RemoveTenantFiles: removes both files and the tenant's quota directory; missing ones are
// fine. Errors: kInvalidArgument for a bad name; FileSystemError's code when something exists
// but cannot be removed (e.g. kFailedPrecondition for a non-empty directory).
Status RemoveTenantFiles(const TenantFilesOptions& options, std::string_view tenant);

}  // namespace npushare::softslice
