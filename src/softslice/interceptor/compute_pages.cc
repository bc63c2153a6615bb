// File: softslice/interceptor/compute_pages.cc
#include "softslice/interceptor/compute_pages.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include "softslice/interceptor/mapping_guard.h"

namespace npushare::vnpu {
namespace {

bool SafeDir(const char* dir) {
  struct stat st;
  return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
         (st.st_uid == geteuid() || st.st_uid == 0);
}

uint64_t RandomId() {
  uint64_t id = 0;
  while (id == 0) {
    if (getrandom(&id, sizeof(id), 0) != static_cast<ssize_t>(sizeof(id))) {
      // Entropy unavailable: fall back to something unique enough on one node.
      id = (static_cast<uint64_t>(getpid()) << 32) ^ reinterpret_cast<uint64_t>(&id);
    }
  }
  return id;
}

}  // namespace

bool ValidTenantHeader(const VnpuTenantPage* p) {
  return memcmp(p->magic, VNPU_TENANT_MAGIC, 8) == 0 && p->version == VNPU_TENANT_VERSION &&
         p->header_size == offsetof(VnpuTenantPage, devices) &&
         p->file_size == sizeof(VnpuTenantPage) && p->tenant_id != 0;
}

bool ValidGrantHeader(const VnpuGrantPage* p) {
  return memcmp(p->magic, VNPU_GRANT_MAGIC, 8) == 0 && p->version == VNPU_GRANT_VERSION &&
         p->header_size == offsetof(VnpuGrantPage, chips) && p->file_size == sizeof(VnpuGrantPage);
}

PageError OpenTenantPage(const char* dir, const Config& cfg, VnpuTenantPage** out) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    return PageError::kIo;
  }
  char path[kStateDirMax + 32];
  int n = snprintf(path, sizeof(path), "%s/%s", dir, VNPU_TENANT_FILE_NAME);
  if (!SafeDir(dir) || n < 0 || static_cast<size_t>(n) >= sizeof(path)) {
    return PageError::kIo;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return PageError::kIo;
  }
  PageError result = PageError::kOk;
  void* p = MAP_FAILED;
  struct stat st;
  if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    result = PageError::kIo;
  } else if (st.st_size != 0 && static_cast<uint64_t>(st.st_size) != sizeof(VnpuTenantPage)) {
    result = PageError::kBadFormat;
  } else if (st.st_size == 0 && ftruncate(fd, sizeof(VnpuTenantPage)) != 0) {
    result = PageError::kIo;
  } else {
    p = mmap(nullptr, sizeof(VnpuTenantPage), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      result = PageError::kIo;
    }
  }
  if (result == PageError::kOk) {
    auto* page = static_cast<VnpuTenantPage*>(p);
    static const char kZero[8] = {};
    if (memcmp(page->magic, kZero, 8) == 0) {
      memset(page, 0, sizeof(*page));
      page->version = VNPU_TENANT_VERSION;
      page->header_size = offsetof(VnpuTenantPage, devices);
      page->file_size = sizeof(VnpuTenantPage);
      page->tenant_id = RandomId();
      for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
        page->devices[d].chip = -1;  // published on first use (launch_gate.cc)
        page->devices[d].core_percent = cfg.core_percent[d];
        page->devices[d].flags = cfg.hard_cap ? VNPU_TENANT_FLAG_HARD_CAP : 0;
      }
      std::atomic_thread_fence(std::memory_order_release);
      memcpy(page->magic, VNPU_TENANT_MAGIC, 8);
    } else if (!ValidTenantHeader(page)) {
      result = PageError::kBadFormat;
    }
  }
  flock(fd, LOCK_UN);
  close(fd);
  if (result != PageError::kOk) {
    if (p != MAP_FAILED) {
      munmap(p, sizeof(VnpuTenantPage));
    }
    return result;
  }
  *out = static_cast<VnpuTenantPage*>(p);
  // The container may truncate its own page: a fault then reads zeros (tenant id 0, never
  // adopted) instead of killing the process (mapping_guard.h).
  GuardMapping(GuardedMap::kTenantPage, p, sizeof(VnpuTenantPage), true);
  return PageError::kOk;
}

namespace {

// The inode of the grant page this process maps (ReopenGrantPage compares it with the path's).
constinit std::atomic<uint64_t> g_grant_dev{0};
constinit std::atomic<uint64_t> g_grant_ino{0};

// OpenValidGrantFile: an O_RDONLY descriptor of `<dir>/grants.v2` whose size and header (read
// with pread, so a file truncated meanwhile cannot fault us) are valid; *st is its fstat.
PageError OpenValidGrantFile(const char* dir, int* fd_out, struct stat* st) {
  char path[kStateDirMax + 32];
  int n = snprintf(path, sizeof(path), "%s/%s", dir, VNPU_GRANT_FILE_NAME);
  if (n < 0 || static_cast<size_t>(n) >= sizeof(path)) {
    return PageError::kIo;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return errno == ENOENT ? PageError::kMissing : PageError::kIo;
  }
  // The header's first fields, read with pread (a small stack buffer: hooks may run on small
  // thread stacks).
  struct {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint64_t file_size;
  } h;
  static_assert(sizeof(h) == offsetof(VnpuGrantPage, generation));
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) ||
      static_cast<uint64_t>(st->st_size) != sizeof(VnpuGrantPage) ||
      pread(fd, &h, sizeof(h), 0) != static_cast<ssize_t>(sizeof(h)) ||
      memcmp(h.magic, VNPU_GRANT_MAGIC, 8) != 0 || h.version != VNPU_GRANT_VERSION ||
      h.header_size != offsetof(VnpuGrantPage, chips) || h.file_size != sizeof(VnpuGrantPage)) {
    close(fd);
    return PageError::kBadFormat;
  }
  *fd_out = fd;
  return PageError::kOk;
}

}  // namespace

PageError OpenGrantPage(const char* dir, const VnpuGrantPage** out) {
  int fd = -1;
  struct stat st;
  PageError e = OpenValidGrantFile(dir, &fd, &st);
  if (e != PageError::kOk) {
    return e;
  }
  void* p = mmap(nullptr, sizeof(VnpuGrantPage), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    return PageError::kIo;
  }
  // Guarded before the first access: the file may be truncated at any time (mapping_guard.h).
  GuardMapping(GuardedMap::kGrantPage, p, sizeof(VnpuGrantPage), false);
  if (!ValidGrantHeader(static_cast<const VnpuGrantPage*>(p))) {
    ForgetMapping(GuardedMap::kGrantPage, p);
    munmap(p, sizeof(VnpuGrantPage));
    return PageError::kBadFormat;
  }
  g_grant_dev.store(st.st_dev, std::memory_order_relaxed);
  g_grant_ino.store(st.st_ino, std::memory_order_relaxed);
  *out = static_cast<const VnpuGrantPage*>(p);
  return PageError::kOk;
}

bool GrantPageLost(const VnpuGrantPage* page) {
  return MappingLostAt(GuardedMap::kGrantPage, page) || !ValidGrantHeader(page);
}

PageError ReopenGrantPage(const char* dir, const VnpuGrantPage* page) {
  int fd = -1;
  struct stat st;
  PageError e = OpenValidGrantFile(dir, &fd, &st);
  if (e != PageError::kOk) {
    return e;
  }
  bool same = st.st_dev == g_grant_dev.load(std::memory_order_relaxed) &&
              st.st_ino == g_grant_ino.load(std::memory_order_relaxed);
  if (same && !GrantPageLost(page)) {
    close(fd);
    return PageError::kMissing;  // nothing newer than what we map
  }
  bool ok = RemapAt(GuardedMap::kGrantPage, fd);
  close(fd);
  if (!ok) {
    return PageError::kIo;
  }
  g_grant_dev.store(st.st_dev, std::memory_order_relaxed);
  g_grant_ino.store(st.st_ino, std::memory_order_relaxed);
  return GrantPageLost(page) ? PageError::kBadFormat : PageError::kOk;
}

}  // namespace npushare::vnpu
