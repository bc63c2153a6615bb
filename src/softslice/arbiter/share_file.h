// File: softslice/arbiter/share_file.h
//
// Share files: the compute share of each soft-sliced container, written by the node side (the
// device plugin at Allocate) into the arbiter's --shares-dir, never visible to the container.
// With --shares-dir the arbiter takes weights and hard caps only from here, so a container
// cannot raise its own share by editing its tenant page (issue 5).
//
// Format of `<shares_dir>/<tenant dir name>.share` (text, at most kMaxShareFileBytes bytes):
//
//   # comment lines and blank lines are ignored
//   <device> <percent> [cap] [chip=N]
//
// One line per logical device: `device` 0..VNPU_MAX_DEVICES-1, `percent` 0..100 (0 = best
// effort, weight 1), then optional tokens, each at most once and in any order: the literal
// `cap` = hard cap (REQUIRES percent > 0), and `chip=N` = the physical chip N
// (0..VNPU_MAX_CHIPS-1) the node gave this device, which pins where the arbiter schedules it
// whatever the container's tenant page declares. Fields are separated by spaces or tabs; a
// device may appear once, and a chip may be pinned by one device only (a container never sees
// one chip as two devices; a file that says so is a node-side bug and is refused rather than
// guessed at). Devices not listed are best effort and unpinned. Any error rejects the whole file
// (never a partial share or pin).
//
// Trust: the file and its directory must be owned by the arbiter's uid or root and must not be
// group/world-writable, and the file must not be a symlink: only the node side may write
// shares.
//
// Thread safety: free functions without shared state.
#pragma once

#include <stdint.h>

#include <array>
#include <string>
#include <string_view>

#include "common/status.h"
#include "softslice/shared_state.h"

namespace npushare::softslice {

inline constexpr size_t kMaxShareFileBytes = 4096;

struct ShareSpec {
  struct Device {
    bool listed = false;    // false: best effort (weight 1, not capped)
    uint32_t percent = 0;   // 0..100
    bool hard_cap = false;  // never more than percent, even on an idle chip
    int32_t chip = -1;      // pinned physical chip, -1 = not pinned
  };
  std::array<Device, VNPU_MAX_DEVICES> devices;
};

// ParseShareFile: the spec in `text`.
// Errors: kInvalidArgument for a malformed line, unknown or repeated token, duplicate device,
// chip pinned by two devices, `cap` with percent 0, or text longer than kMaxShareFileBytes;
// kOutOfRange for a device index, percent or chip outside its range (negative numbers
// included).
Result<ShareSpec> ParseShareFile(std::string_view text);

// RenderShareFile: the text of `spec` as the node side writes it: a header comment, then one
// line per listed device in device order (`<device> <percent>[ cap][ chip=N]`).
// ParseShareFile(RenderShareFile(s)) == s for every spec that ParseShareFile can return.
std::string RenderShareFile(const ShareSpec& spec);

// ReadShareFile: reads and parses the regular file at `path` (symlinks refused, at most
// kMaxShareFileBytes + 1 bytes read).
// Errors: kFailedPrecondition if it is not a regular file (a directory, a FIFO), is
// group/world-writable or owned by a uid other than ours or root; when open, fstat or read
// fails, the code of FileSystemError (common/fs_error.h): kNotFound if it does not exist,
// kFailedPrecondition for a symlink (ELOOP) or a path through a file (ENOTDIR),
// kPermissionDenied for EACCES, kResourceExhausted for EMFILE, kDataLoss for EIO;
// otherwise those of ParseShareFile.
Result<ShareSpec> ReadShareFile(const std::string& path);

// CheckShareDir: OK if `dir` is a directory (not a symlink) owned by our uid or root and not
// group/world-writable. Errors: kFailedPrecondition if it is not such a directory; when lstat
// fails, the code of FileSystemError: kNotFound if it does not exist, kPermissionDenied for
// EACCES, kFailedPrecondition for ENOTDIR, kInvalidArgument for ENAMETOOLONG.
Status CheckShareDir(const std::string& dir);

}  // namespace npushare::softslice
