// File: softslice/arbiter/grant_page_writer.h
//
// GrantPageWriter: the arbiter's read-write mapping of the node's grant page
// (`<dir>/grants.v2`, softslice/shared_state.h). Tenants map it read-only. The file is mode
// 0644 in a directory that is not group/world-writable; an existing valid page is reused in
// place (tenants keep their mappings across arbiter restarts), anything else is replaced. The
// mapping is guarded against SIGBUS (a truncated file reads and writes zeros instead), and
// Damage() tells when the page must be rebuilt.
//
// Thread safety: one writer thread. Tenants read concurrently; every field they read is
// written with an atomic store, grant changes are published with release order and a futex
// wake.
#pragma once

#include <stdint.h>

#include <array>
#include <memory>
#include <string>

#include "common/status.h"
#include "softslice/shared_state.h"

namespace npushare::softslice {

class GrantPageWriter {
 public:
  // Open: creates or reuses the page. On reuse every chip's owner is reset to none (epochs keep
  // counting) and the generation is bumped, so tenants re-resolve their index.
  // Errors: kFailedPrecondition for an unsafe directory (not a directory, a symlink, loose mode,
  // foreign owner); when a system call fails (mkdir, stat, creating, sizing or renaming the
  // page, mmap), the code of FileSystemError (common/fs_error.h): e.g. kNotFound for a missing
  // parent, kPermissionDenied for EACCES, kResourceExhausted for EMFILE/ENOSPC,
  // kFailedPrecondition for ENOTDIR/EISDIR (a directory where the page belongs).
  static Result<std::unique_ptr<GrantPageWriter>> Open(const std::string& dir);

  ~GrantPageWriter();
  GrantPageWriter(const GrantPageWriter&) = delete;
  GrantPageWriter& operator=(const GrantPageWriter&) = delete;

  // SetTenant: publishes `tenant_id` (0 = unused) at `index` and bumps the generation. With 0
  // it also clears the index's usage counters and pins.
  void SetTenant(uint32_t index, uint64_t tenant_id);

  // SetPins: publishes the node-pinned chip + 1 of each logical device of tenant `index`
  // (0 = not pinned), one 1-byte atomic store per device. Call before SetTenant publishes a
  // new tenant's id, so that the tenant never sees itself adopted without its pins.
  void SetPins(uint32_t index, const std::array<uint8_t, VNPU_MAX_DEVICES>& pins_plus1);

  // Grant: makes `owner` (tenant index, -1 = none) the owner of `chip` from `now_ns` until
  // `slice_end_ns`, with a new epoch; wakes tenants waiting on the chip.
  void Grant(uint32_t chip, int32_t owner, uint64_t now_ns, uint64_t slice_end_ns);

  // PublishGrant + Wake: Grant in two steps, so that the grant words of several chips changed
  // by one decision (a gang) are stored next to each other and the futex system calls come
  // after all of them: the window in which a reader sees one chip changed and not the other is
  // a few stores long.
  void PublishGrant(uint32_t chip, int32_t owner, uint64_t now_ns, uint64_t slice_end_ns);
  void Wake(uint32_t chip);

  // ExtendSlice: the current owner of `chip` keeps it until `slice_end_ns` (no new epoch, no
  // wake-up). Tenants bound the work they queue by the slice end, so an owner kept past its
  // slice must see the new end.
  void ExtendSlice(uint32_t chip, uint64_t slice_end_ns);

  // Heartbeat: tells tenants the arbiter is alive.
  void Heartbeat(uint64_t now_ns);

  // AddUsage: adds granted and charged time of tenant `index` on its logical device `dev`.
  void AddUsage(uint32_t index, uint32_t dev, uint64_t granted_ns, uint64_t charged_ns);

  // Damage: why the page tenants map is no longer this writer's valid page, or "" when it is:
  // truncated under us (the SIGBUS guard, mapping_guard.h, absorbed a fault and left zeros) or
  // its header overwritten (checked every call, a few loads); with `check_file` also the file
  // itself (fstat and stat: shrunk, deleted, or replaced by another file at the path). The
  // arbiter then rebuilds the page (Arbiter::Tick) instead of dying of SIGBUS or writing into
  // a file nobody reads.
  std::string Damage(bool check_file) const;

  const VnpuGrantPage& page() const { return *page_; }
  const std::string& path() const { return path_; }

 private:
  GrantPageWriter(VnpuGrantPage* page, int fd, std::string path)
      : page_(page), fd_(fd), path_(std::move(path)) {}
  VnpuGrantPage* page_;
  int fd_;            // the mapped file, kept open to notice a truncation (fstat)
  std::string path_;  // <dir>/grants.v2
};

}  // namespace npushare::softslice
