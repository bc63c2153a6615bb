// File: softslice/arbiter/ledger_metrics.cc
#include "softslice/arbiter/ledger_metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "common/fs_error.h"

namespace npushare::softslice {
namespace {

// PreadAll: reads exactly `size` bytes at `offset` of `path` (open as `fd`). Errors:
// kFailedPrecondition for a short read (the file shrank), FileSystemError's code for a failed
// read.
Status PreadAll(int fd, const std::string& path, void* buf, size_t size, off_t offset) {
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < size) {
    ssize_t n = pread(fd, p + got, size - got, offset + static_cast<off_t>(got));
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) {
        continue;
      }
      return FileSystemError(err, "read " + path);
    }
    if (n == 0) {
      return Status(StatusCode::kFailedPrecondition, path + ": short read");
    }
    got += static_cast<size_t>(n);
  }
  return OkStatus();
}

uint64_t SatAdd(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

// Header: the ledger up to (not including) the process slots; slots are read separately.
constexpr size_t kHeaderBytes = offsetof(VnpuLedger, procs);
constexpr size_t kSlotsBytes = sizeof(VnpuProcSlot) * VNPU_MAX_PROCS;

}  // namespace

Result<LedgerUsage> ReadLedgerUsage(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    return FileSystemError(err, "ledger " + path);  // ELOOP (a symlink): kFailedPrecondition
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return FileSystemError(err, "stat ledger " + path);
  }
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) < sizeof(VnpuLedger)) {
    close(fd);
    return Status(StatusCode::kFailedPrecondition, path + ": not a complete ledger file");
  }
  // Heap buffers: the header is 512 bytes and the slots 16 KiB, too large for a small stack.
  std::vector<unsigned char> header(kHeaderBytes);
  std::vector<unsigned char> slots(kSlotsBytes);
  Status read = PreadAll(fd, path, header.data(), header.size(), 0);
  if (read.ok()) {
    read = PreadAll(fd, path, slots.data(), slots.size(), kHeaderBytes);
  }
  close(fd);
  if (!read.ok()) {
    return read;
  }
  // The ledger struct is 8 MiB (its allocation tables): read header fields by offset instead.
  auto field = [&header](size_t offset, auto* out) {
    memcpy(out, header.data() + offset, sizeof(*out));
  };
  uint32_t version = 0, header_size = 0, device_count = 0, proc_count = 0, alloc_count = 0;
  uint64_t file_size = 0;
  field(offsetof(VnpuLedger, version), &version);
  field(offsetof(VnpuLedger, header_size), &header_size);
  field(offsetof(VnpuLedger, file_size), &file_size);
  field(offsetof(VnpuLedger, device_count), &device_count);
  field(offsetof(VnpuLedger, proc_count), &proc_count);
  field(offsetof(VnpuLedger, alloc_count), &alloc_count);
  if (memcmp(header.data(), VNPU_LEDGER_MAGIC, 8) != 0 || version != VNPU_LEDGER_VERSION ||
      header_size != kHeaderBytes || file_size != sizeof(VnpuLedger) ||
      device_count != VNPU_MAX_DEVICES || proc_count != VNPU_MAX_PROCS ||
      alloc_count != VNPU_MAX_ALLOCS_PER_PROC) {
    return Status(StatusCode::kInvalidArgument, path + ": not a v1 ledger");
  }
  LedgerUsage u;
  field(offsetof(VnpuLedger, quota_bytes), &u.quota_bytes);
  field(offsetof(VnpuLedger, reclaimed_procs), &u.reclaimed_procs);
  field(offsetof(VnpuLedger, denied_allocs), &u.denied_allocs);
  for (uint32_t i = 0; i < VNPU_MAX_PROCS; ++i) {
    VnpuProcSlot s;
    memcpy(&s, slots.data() + i * sizeof(VnpuProcSlot), sizeof(s));
    if (s.state == VNPU_SLOT_LIVE) {
      ++u.live_procs;
    }
    for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
      u.used_bytes[d] = SatAdd(u.used_bytes[d], s.charged_bytes[d]);
    }
  }
  return u;
}

std::string LedgerMetricsText(const std::string& tenants_dir, size_t max_dirs) {
  std::vector<std::string> names;
  DIR* dir = opendir(tenants_dir.c_str());
  if (dir == nullptr) {
    return "";
  }
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)) {
      continue;
    }
    names.emplace_back(e->d_name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  if (names.size() > max_dirs) {
    names.resize(max_dirs);
  }
  std::string out;
  for (const std::string& name : names) {
    std::string path = tenants_dir;
    path.append("/").append(name).append("/" VNPU_LEDGER_FILE_NAME);
    auto usage = ReadLedgerUsage(path);
    if (!usage.ok()) {
      continue;
    }
    for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
      // A single-value quota applies to all 16 logical devices: list device 0, and the others
      // only when they hold memory or have a quota of their own.
      bool listed =
          d == 0 ? usage->quota_bytes[0] != 0 || usage->used_bytes[0] != 0
                 : usage->used_bytes[d] != 0 || (usage->quota_bytes[d] != 0 &&
                                                 usage->quota_bytes[d] != usage->quota_bytes[0]);
      if (!listed) {
        continue;
      }
      out.append("tenant=").append(name);
      out.append(" mem_dev=").append(std::to_string(d));
      out.append(" quota_bytes=").append(std::to_string(usage->quota_bytes[d]));
      out.append(" used_bytes=").append(std::to_string(usage->used_bytes[d]));
      out.append(" live_procs=").append(std::to_string(usage->live_procs));
      out.append(" reclaimed_procs=").append(std::to_string(usage->reclaimed_procs));
      out.append(" denied_allocs=").append(std::to_string(usage->denied_allocs)).append("\n");
    }
  }
  return out;
}

}  // namespace npushare::softslice
