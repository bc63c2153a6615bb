// File: softslice/interceptor/config.cc
#include "softslice/interceptor/config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "softslice/interceptor/log.h"

namespace npushare::vnpu {
namespace {

// Lookup: the value of `name` in envp, or nullptr. No getenv: it is not async-signal-safe
// with concurrent setenv, and envp may be a snapshot.
const char* Lookup(const char* const* envp, const char* name) {
  if (envp == nullptr) {
    return nullptr;
  }
  size_t len = strlen(name);
  for (const char* const* e = envp; *e != nullptr; ++e) {
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') {
      return *e + len + 1;
    }
  }
  return nullptr;
}

}  // namespace

bool ParseUnsignedList(const char* text, uint64_t max, uint64_t* values, uint32_t max_entries) {
  if (text == nullptr || *text == '\0' || max_entries == 0) {
    return false;
  }
  uint32_t n = 0;
  const char* p = text;
  while (true) {
    if (n == max_entries || *p < '0' || *p > '9') {
      return false;
    }
    uint64_t v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      v = v * 10 + static_cast<uint64_t>(*p - '0');
      if (++digits > 12 || v > max) {
        return false;
      }
      ++p;
    }
    values[n++] = v;
    if (*p == '\0') {
      break;
    }
    if (*p != ',') {
      return false;
    }
    ++p;
  }
  for (uint32_t i = (n == 1 ? 1 : n); i < max_entries; ++i) {
    values[i] = n == 1 ? values[0] : 0;
  }
  return true;
}

int ParseVisibleDevices(const char* text, int32_t* chips, uint32_t max_entries) {
  uint32_t n = 0;
  const char* p = text;
  while (*p != '\0') {
    // An entry is "N", "N-M" or "<Name>-N" (Ascend910-1): skip a leading name.
    const char* entry = p;
    while (*p != '\0' && *p != ',') {
      ++p;
    }
    const char* end = p;
    const char* num = entry;
    if ((*num < '0' || *num > '9')) {
      const char* dash = nullptr;
      for (const char* q = entry; q < end; ++q) {
        if (*q == '-') {
          dash = q;
        }
      }
      if (dash == nullptr || dash == entry) {
        return -1;  // a name is required before the dash ("-1" is not a chip)
      }
      num = dash + 1;
    }
    uint64_t lo = 0;
    uint64_t hi = 0;
    const char* q = num;
    int digits = 0;
    while (q < end && *q >= '0' && *q <= '9' && digits < 4) {
      lo = lo * 10 + static_cast<uint64_t>(*q++ - '0');
      ++digits;
    }
    if (digits == 0) {
      return -1;
    }
    hi = lo;
    if (q < end && *q == '-' && num == entry) {
      ++q;
      hi = 0;
      digits = 0;
      while (q < end && *q >= '0' && *q <= '9' && digits < 4) {
        hi = hi * 10 + static_cast<uint64_t>(*q++ - '0');
        ++digits;
      }
      if (digits == 0 || hi < lo) {
        return -1;
      }
    }
    if (q != end) {
      return -1;
    }
    for (uint64_t v = lo; v <= hi; ++v) {
      if (n == max_entries || v >= VNPU_MAX_CHIPS) {
        return -1;
      }
      chips[n++] = static_cast<int32_t>(v);
    }
    if (*p == ',') {
      ++p;
    }
  }
  return static_cast<int>(n);
}

int ParseConfig(const char* const* envp, Config* out) {
  memset(out, 0, sizeof(*out));
  int bad = 0;
  uint64_t values[VNPU_MAX_DEVICES];

  const char* mem = Lookup(envp, "NPUSHARE_VNPU_MEM_MB");
  const char* mem_name = "NPUSHARE_VNPU_MEM_MB";
  if (mem == nullptr) {
    mem = Lookup(envp, "NPU_MEM_QUOTA");
    mem_name = "NPU_MEM_QUOTA";
  }
  if (mem != nullptr) {
    if (ParseUnsignedList(mem, kMaxQuotaMb, values, VNPU_MAX_DEVICES)) {
      for (uint32_t i = 0; i < VNPU_MAX_DEVICES; ++i) {
        out->mem_quota_bytes[i] = values[i] << 20;
        out->limited = out->limited || values[i] != 0;
      }
    } else {
      Log("ignoring malformed %s", mem_name);
      ++bad;
    }
  }

  const char* core = Lookup(envp, "NPUSHARE_VNPU_CORE_PCT");
  const char* core_name = "NPUSHARE_VNPU_CORE_PCT";
  if (core == nullptr) {
    core = Lookup(envp, "NPU_PRIORITY");
    core_name = "NPU_PRIORITY";
  }
  if (core != nullptr) {
    // Present means gated, whatever the value: 0 is best effort (weight 1), and a malformed
    // value is best effort too, never ungated (issue 15: "abc", "-5", "1000" or "" must not be
    // a way out of the gate).
    out->compute_limited = true;
    out->limited = true;
    if (ParseUnsignedList(core, 100, values, VNPU_MAX_DEVICES)) {
      for (uint32_t i = 0; i < VNPU_MAX_DEVICES; ++i) {
        out->core_percent[i] = static_cast<uint32_t>(values[i]);
      }
    } else {
      Log("malformed %s: launches are gated as best effort (weight 1)", core_name);
      ++bad;
    }
  }

  const char* cap = Lookup(envp, "NPUSHARE_VNPU_CORE_CAP");
  if (cap != nullptr) {
    if (strcmp(cap, "1") == 0 || strcmp(cap, "0") == 0) {
      out->hard_cap = cap[0] == '1';
    } else {
      Log("ignoring malformed NPUSHARE_VNPU_CORE_CAP (want 0 or 1)");
      ++bad;
    }
  }

  const char* dir = Lookup(envp, "NPUSHARE_VNPU_STATE_DIR");
  if (dir != nullptr && (dir[0] != '/' || strlen(dir) >= kStateDirMax)) {
    Log("ignoring NPUSHARE_VNPU_STATE_DIR: not an absolute path shorter than %u bytes",
        kStateDirMax);
    ++bad;
    dir = nullptr;
  }
  strncpy(out->state_dir, dir != nullptr ? dir : kDefaultStateDir, kStateDirMax - 1);

  const char* arb = Lookup(envp, "NPUSHARE_VNPU_ARBITER_DIR");
  if (arb != nullptr && (arb[0] != '/' || strlen(arb) >= kStateDirMax)) {
    Log("ignoring NPUSHARE_VNPU_ARBITER_DIR: not an absolute path shorter than %u bytes",
        kStateDirMax);
    ++bad;
    arb = nullptr;
  }
  strncpy(out->arbiter_dir, arb != nullptr ? arb : kDefaultArbiterDir, kStateDirMax - 1);

  for (uint32_t i = 0; i < VNPU_MAX_DEVICES; ++i) {
    out->chip_of_device[i] = static_cast<int32_t>(i);
  }
  const char* visible = Lookup(envp, "ASCEND_VISIBLE_DEVICES");
  if (visible != nullptr && strcmp(visible, "void") != 0) {
    int32_t chips[VNPU_MAX_DEVICES];
    int n = ParseVisibleDevices(visible, chips, VNPU_MAX_DEVICES);
    if (n < 0) {
      Log("ASCEND_VISIBLE_DEVICES not understood; assuming logical = physical ids");
    } else {
      for (int i = 0; i < static_cast<int>(VNPU_MAX_DEVICES); ++i) {
        out->chip_of_device[i] = i < n ? chips[i] : -1;
      }
    }
  }
  return bad;
}

QuotaFileError ParseQuotaText(const char* text, size_t len, uint64_t mb[VNPU_MAX_DEVICES]) {
  if (len > kMaxQuotaFileBytes) {
    return QuotaFileError::kMalformed;
  }
  if (len > 0 && text[len - 1] == '\n') {
    --len;
  }
  if (memchr(text, '\0', len) != nullptr) {
    return QuotaFileError::kMalformed;  // an embedded NUL would hide the rest of the file
  }
  char buf[kMaxQuotaFileBytes + 1];
  memcpy(buf, text, len);
  buf[len] = '\0';
  return ParseUnsignedList(buf, kMaxQuotaMb, mb, VNPU_MAX_DEVICES) ? QuotaFileError::kOk
                                                                   : QuotaFileError::kMalformed;
}

QuotaFileError ApplyQuotaFile(const char* path, Config* cfg) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    return errno == ENOENT ? QuotaFileError::kNone : QuotaFileError::kIo;
  }
  struct stat st;
  struct statvfs vfs;
  // Writable by group/other: anyone could have written it, so it is no better than the
  // environment.
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
      fstatvfs(fd, &vfs) != 0) {
    close(fd);
    return QuotaFileError::kIo;
  }
  if ((vfs.f_flag & ST_RDONLY) == 0) {
    close(fd);
    return QuotaFileError::kNotReadOnly;
  }
  // One byte more than allowed so that an over-long file is refused rather than truncated.
  char buf[kMaxQuotaFileBytes + 1] = {};
  size_t got = 0;
  while (got < sizeof(buf)) {
    ssize_t n = read(fd, buf + got, sizeof(buf) - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      close(fd);
      return QuotaFileError::kIo;
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  close(fd);
  uint64_t values[VNPU_MAX_DEVICES];
  QuotaFileError e = ParseQuotaText(buf, got, values);
  if (e != QuotaFileError::kOk) {
    return e;
  }
  bool mem_limited = false;
  for (uint32_t i = 0; i < VNPU_MAX_DEVICES; ++i) {
    cfg->mem_quota_bytes[i] = values[i] << 20;
    mem_limited = mem_limited || values[i] != 0;
  }
  cfg->quota_from_file = true;
  cfg->limited = mem_limited || cfg->compute_limited;
  return QuotaFileError::kOk;
}

void GateForNodeFiles(QuotaFileError e, Config* cfg) {
  if (e == QuotaFileError::kNone) {
    return;
  }
  // The node side writes the quota file together with the share file, so any file at the fixed
  // path means a soft-sliced container: its launches are gated whatever its environment says
  // (best effort when the environment names no share: the arbiter takes the weight from the
  // share file anyway). A file the container planted itself only gates the container.
  cfg->compute_limited = true;
  cfg->limited = true;
}

}  // namespace npushare::vnpu
