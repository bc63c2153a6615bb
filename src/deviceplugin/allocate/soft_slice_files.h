// File: deviceplugin/allocate/soft_slice_files.h
//
// The node-side files of one soft-sliced container (docs/softslice.md §2), written at Allocate
// before kubelet starts the container and removed by the TenantReaper after it is gone:
//   <quota_root>/<tenant>/quota, <shares_dir>/<tenant>.share   softslice::WriteTenantFiles
//   <tenants_dir>/<tenant>/    the container's state directory: mode 0700 (owner-only, never
//                              group/world-writable), owned by the container's user when the
//                              pod says which (runAsUser / runAsGroup of the container, else of
//                              the pod); root otherwise, which libvnpu accepts (a non-root
//                              process it cannot write to falls back to a per-process memfd
//                              ledger, logged by libvnpu).
//   <ld_so_preload_path>       "<container_libvnpu_path>\n", shared by all soft containers.
//
// Thread safety: free functions; concurrent calls for different tenants are safe.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/status.h"
#include "deviceplugin/allocate/allocate_options.h"
#include "softslice/node/tenant_files.h"

namespace npushare::deviceplugin::allocate {

// ContainerOwner: the uid/gid the state directory is given; nullopt = leave root's.
struct ContainerOwner {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

// WriteSoftSliceFiles: checks that libvnpu.so exists, writes the preload file when missing or
// different, the tenant's quota and share files, and creates (or re-uses) the state directory.
// Errors: kFailedPrecondition naming the path when libvnpu.so is missing, or the state
// directory path is taken by something that is not a directory (e.g. a symlink);
// ValidateTenantGrant's kInvalidArgument; for other system call failures FileSystemError's
// code (common/fs_error.h: kNotFound when a directory is missing, ...). On error
// nothing that this call created is left behind except the shared preload file.
Status WriteSoftSliceFiles(const SoftSliceOptions& options, const softslice::TenantGrant& grant,
                           const ContainerOwner& owner);

// RemoveSoftSliceFiles: removes the tenant's quota, share and state directory (recursively,
// never following symlinks). Missing pieces are fine. Errors: kInvalidArgument for a bad
// name; FileSystemError's code (common/fs_error.h) when something exists but cannot be
// removed.
Status RemoveSoftSliceFiles(const SoftSliceOptions& options, const std::string& tenant);

}  // namespace npushare::deviceplugin::allocate
