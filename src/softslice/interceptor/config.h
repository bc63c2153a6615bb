// File: softslice/interceptor/config.h
//
// libvnpu.so configuration, read once from the process environment (never from files the
// container controls other than its own environment). Variables (docs/softslice.md §Config):
//   NPUSHARE_VNPU_MEM_MB    per-device memory quota in MiB: "4096" (every device) or
//                           "4096,8192" (logical devices 0,1,...); 0 = unlimited.
//   NPUSHARE_VNPU_CORE_PCT  per-device compute share in percent, same syntax (0 = best effort,
//                           weight 1). Present = gated: a malformed value ("abc", "-5", "1000",
//                           "") is best effort with a log line, never ungated.
//   NPUSHARE_VNPU_STATE_DIR directory holding the container's ledger and tenant page.
//   NPUSHARE_VNPU_ARBITER_DIR directory holding the node's grant page (read-only is enough).
//   ASCEND_VISIBLE_DEVICES  physical chip ids ("0,2", "0-3", "Ascend910-1") of logical devices
//                           0,1,...; identity when absent or unparseable.
//   NPUSHARE_VNPU_CORE_CAP  "1": the core shares are hard caps (never exceeded, even when the
//                           chip is idle); "0" or absent: work-conserving shares.
//   NPU_MEM_QUOTA           hami-vnpu-core: MiB; used for every device when NPUSHARE_VNPU_MEM_MB
//                           is absent.
//   NPU_PRIORITY            hami-vnpu-core: compute percent (HAMi sets it from `-core`); used
//                           for every device when NPUSHARE_VNPU_CORE_PCT is absent.
// The node-written quota file is not named by the environment (a process could redirect it for
// the programs it execs): it is always kQuotaFilePath, mounted read-only by the device plugin.
// Its quotas take precedence over the environment and over the ledger (issue 5); see
// ApplyQuotaFile.
// Malformed quotas are ignored with a log line (the variable is treated as absent), so a typo
// can never turn into a smaller-than-intended quota; a malformed share gates as best effort.
// When the node has written the container's files (any file at kQuotaFilePath, see
// GateForNodeFiles) launches are gated whatever the environment says.
//
// Thread safety: ParseConfig is pure and reentrant. It does not allocate.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "softslice/shared_state.h"

namespace npushare::vnpu {

inline constexpr uint64_t kMaxQuotaMb = uint64_t{1} << 24;  // 16 TiB per device
inline constexpr uint32_t kStateDirMax = 256;
inline constexpr const char kDefaultStateDir[] = "/tmp/npushare-vnpu";
inline constexpr const char kDefaultArbiterDir[] = "/run/npushare/arbiter";
// Where the device plugin mounts the container's quota file (read-only bind mount).
inline constexpr const char kQuotaFilePath[] = "/run/npushare/vnpu/quota";

struct Config {
  bool limited;          // some memory quota or core share is configured
  bool compute_limited;  // some core share is configured: launches go through the gate
  bool hard_cap;         // NPUSHARE_VNPU_CORE_CAP=1
  uint64_t mem_quota_bytes[VNPU_MAX_DEVICES];  // 0 = unlimited
  uint32_t core_percent[VNPU_MAX_DEVICES];     // 0 = best effort
  char state_dir[kStateDirMax];                // NUL-terminated, absolute
  char arbiter_dir[kStateDirMax];              // NUL-terminated, absolute
  int32_t chip_of_device[VNPU_MAX_DEVICES];    // physical chip per logical device
  // mem_quota_bytes came from the quota file (ApplyQuotaFile): every process enforces them
  // itself instead of trusting the quotas in the shared ledger.
  bool quota_from_file;
};

inline constexpr uint32_t kMaxQuotaFileBytes = 512;

enum class QuotaFileError {
  kOk = 0,
  kNone,         // no file at the path: no node-written quotas (the environment's apply)
  kIo,           // unreadable, a symlink, not a regular file, or group/world-writable
  kMalformed,    // longer than kMaxQuotaFileBytes or not "N" / "N,N,..." MiB (one optional \n)
  kNotReadOnly,  // not on a read-only mount: the container itself could have written it
};

// ParseConfig: fills *out from `envp` (a NULL-terminated "K=V" array such as environ).
// Returns the number of malformed variables that were ignored (0 when all were fine). *out is
// always fully written; out->limited is false when nothing limits the process (pass-through).
// REQUIRES: out != nullptr.
int ParseConfig(const char* const* envp, Config* out);

// ApplyQuotaFile: reads the quota file at `path` (kQuotaFilePath in production) and replaces
// cfg->mem_quota_bytes (unlisted devices unlimited), sets cfg->quota_from_file and recomputes
// cfg->limited. The file is trusted only when it is a regular file (not a symlink), not
// group/world-writable, and on a read-only mount (fstatvfs ST_RDONLY): a container cannot make
// a read-only mount itself, so such a file came from the node side. On any error *cfg is
// unchanged: the quotas stay those of the environment, which are cooperative (a process
// controls its own environment), and the caller logs it (except kNone).
// Uses only open/fstat/fstatvfs/read/close on a stack buffer; does not allocate.
// REQUIRES: path and cfg non-null.
QuotaFileError ApplyQuotaFile(const char* path, Config* cfg);

// GateForNodeFiles: `e` is ApplyQuotaFile's result for kQuotaFilePath. Unless it is kNone, a
// file exists at the fixed path: the node side provisioned this container (it writes the quota
// file with the share file), so cfg->compute_limited and cfg->limited are set: launches are
// gated (best effort when no share is configured) even when the environment's share is unset
// or zero (issue 15). Being gated never raises anything, so a refused file gates too.
void GateForNodeFiles(QuotaFileError e, Config* cfg);

// ParseQuotaText: the quotas in MiB of a quota file's contents (`len` bytes, no NUL needed):
// "N" (every device) or "N,N,..." (devices 0,1,...; unlisted 0 = unlimited), one optional
// trailing newline, at most kMaxQuotaFileBytes. Returns kOk or kMalformed (`mb` unspecified).
QuotaFileError ParseQuotaText(const char* text, size_t len, uint64_t mb[VNPU_MAX_DEVICES]);

// ParseVisibleDevices: "0,2", "0-3", "Ascend910-1,Ascend910-3" into chips[] (in list order);
// returns the count, or -1 when malformed (chips unspecified). At most max_entries.
int ParseVisibleDevices(const char* text, int32_t* chips, uint32_t max_entries);

// ParseUnsignedList: parses "N" or "N,N,..." (decimal, at most `max_entries`, each <= max).
// A single value is replicated to all `max_entries`. Returns false (and leaves `values`
// unspecified) on any malformed or out-of-range entry.
bool ParseUnsignedList(const char* text, uint64_t max, uint64_t* values, uint32_t max_entries);

}  // namespace npushare::vnpu
