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
//   <device> <percent> [cap]
//
// One line per logical device: `device` 0..VNPU_MAX_DEVICES-1, `percent` 0..100 (0 = best
// effort, weight 1), optional literal `cap` = hard cap (REQUIRES percent > 0). Fields are
// separated by spaces or tabs; a device may appear once. Devices not listed are best effort.
// Any error rejects the whole file (never a partial share).
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
  };
  std::array<Device, VNPU_MAX_DEVICES> devices;
};

// ParseShareFile: the spec in `text`.
// Errors: kInvalidArgument for a malformed line, unknown token, duplicate device, `cap` with
// percent 0, or text longer than kMaxShareFileBytes; kOutOfRange for a device index or
// percent outside its range (negative numbers included).
Result<ShareSpec> ParseShareFile(std::string_view text);

// ReadShareFile: reads and parses the regular file at `path` (symlinks refused, at most
// kMaxShareFileBytes + 1 bytes read).
// Errors: kNotFound if it does not exist; kFailedPrecondition if it is not a regular file or
// cannot be read; otherwise those of ParseShareFile.
Result<ShareSpec> ReadShareFile(const std::string& path);

}  // namespace npushare::softslice
