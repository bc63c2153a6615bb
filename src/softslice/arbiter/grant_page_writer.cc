// File: softslice/arbiter/grant_page_writer.cc
#include "softslice/arbiter/grant_page_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fs_error.h"
#include "softslice/interceptor/compute_pages.h"
#include "softslice/interceptor/mapping_guard.h"

namespace npushare::softslice {
namespace {

template <typename T>
void Store(T& field, T value) {
  __atomic_store_n(&field, value, __ATOMIC_RELEASE);
}

// Failed: the system call named in `what` failed with errno `err` (read by the caller before
// building `what`, which allocates); closes `fd`, if any.
Status Failed(int err, const std::string& what, int fd = -1) {
  if (fd >= 0) {
    close(fd);
  }
  return FileSystemError(err, what);
}

}  // namespace

Result<std::unique_ptr<GrantPageWriter>> GrantPageWriter::Open(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    const int err = errno;
    return Failed(err, "mkdir " + dir);
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    const int err = errno;
    return Failed(err, "stat " + dir);
  }
  if (!S_ISDIR(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
      (st.st_uid != geteuid() && st.st_uid != 0)) {
    return FailedPreconditionError(dir +
                                   " must be a directory owned by us or root and not "
                                   "group/world-writable");
  }
  std::string path = dir + "/" VNPU_GRANT_FILE_NAME;
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  bool reuse = false;
  if (fd >= 0) {
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<uint64_t>(st.st_size) == sizeof(VnpuGrantPage)) {
      reuse = true;
    } else {
      close(fd);
      fd = -1;
    }
  }
  if (fd < 0) {
    // Build a fresh page beside it and rename it into place, so a tenant never maps half a
    // header.
    std::string tmp = path + ".tmp";
    unlink(tmp.c_str());
    fd = open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
      const int err = errno;
      return Failed(err, "create " + tmp);
    }
    if (fchmod(fd, 0644) != 0 || ftruncate(fd, sizeof(VnpuGrantPage)) != 0) {
      const int err = errno;
      return Failed(err, "size " + tmp, fd);
    }
    if (rename(tmp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      return Failed(err, "rename " + tmp + " to " + path, fd);
    }
  }
  void* p = mmap(nullptr, sizeof(VnpuGrantPage), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    return Failed(err, "mmap " + path, fd);
  }
  // Someone may truncate the file under us (disk full, an operator's cp): the fault must not
  // kill the arbiter silently; Damage() reports it and the arbiter rebuilds the page.
  vnpu::GuardMapping(vnpu::GuardedMap::kGrantPage, p, sizeof(VnpuGrantPage), true);
  auto* page = static_cast<VnpuGrantPage*>(p);
  if (!reuse || !vnpu::ValidGrantHeader(page)) {
    memset(page, 0, sizeof(*page));
    page->version = VNPU_GRANT_VERSION;
    page->header_size = offsetof(VnpuGrantPage, chips);
    page->file_size = sizeof(VnpuGrantPage);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(page->magic, VNPU_GRANT_MAGIC, 8);
  }
  page->arbiter_pid = static_cast<uint64_t>(getpid());
  std::unique_ptr<GrantPageWriter> w(new GrantPageWriter(page, fd, path));
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    Store<uint64_t>(page->tenants[i].tenant_id, 0);
    for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
      Store<uint8_t>(page->tenants[i].pinned_chip_plus1[d], 0);  // re-published at adoption
    }
  }
  for (uint32_t c = 0; c < VNPU_MAX_CHIPS; ++c) {
    w->Grant(c, -1, 0, 0);
  }
  Store<uint64_t>(page->generation, page->generation + 1);
  return w;
}

GrantPageWriter::~GrantPageWriter() {
  vnpu::ForgetMapping(vnpu::GuardedMap::kGrantPage, page_);
  munmap(page_, sizeof(VnpuGrantPage));
  close(fd_);
}

std::string GrantPageWriter::Damage(bool check_file) const {
  if (vnpu::MappingLostAt(vnpu::GuardedMap::kGrantPage, page_)) {
    return "was truncated under the arbiter (a write faulted)";
  }
  if (!vnpu::ValidGrantHeader(page_)) {
    return "has a corrupt header";
  }
  if (!check_file) {
    return "";
  }
  struct stat mine;
  if (fstat(fd_, &mine) != 0) {
    const int err = errno;
    return "cannot be checked: " + Failed(err, "fstat").message();
  }
  if (static_cast<uint64_t>(mine.st_size) != sizeof(VnpuGrantPage)) {
    return "was truncated to " + std::to_string(mine.st_size) + " bytes";
  }
  struct stat at_path;
  if (lstat(path_.c_str(), &at_path) != 0) {
    const int err = errno;
    Status st = Failed(err, "stat");
    return st.code() == StatusCode::kNotFound ? "was deleted"
                                              : "cannot be checked: " + st.message();
  }
  if (at_path.st_ino != mine.st_ino || at_path.st_dev != mine.st_dev) {
    return "was replaced by another file";
  }
  return "";
}

void GrantPageWriter::SetTenant(uint32_t index, uint64_t tenant_id) {
  if (index >= VNPU_MAX_TENANTS) {
    return;
  }
  Store(page_->tenants[index].tenant_id, tenant_id);
  if (tenant_id == 0) {
    for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
      Store<uint64_t>(page_->tenants[index].granted_ns[d], 0);
      Store<uint64_t>(page_->tenants[index].charged_ns[d], 0);
      Store<uint8_t>(page_->tenants[index].pinned_chip_plus1[d], 0);
    }
  }
  Store<uint64_t>(page_->generation, page_->generation + 1);
}

void GrantPageWriter::SetPins(uint32_t index,
                              const std::array<uint8_t, VNPU_MAX_DEVICES>& pins_plus1) {
  if (index >= VNPU_MAX_TENANTS) {
    return;
  }
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    uint8_t v = pins_plus1[d] <= VNPU_MAX_CHIPS ? pins_plus1[d] : 0;
    if (page_->tenants[index].pinned_chip_plus1[d] != v) {
      Store<uint8_t>(page_->tenants[index].pinned_chip_plus1[d], v);
    }
  }
}

void GrantPageWriter::Grant(uint32_t chip, int32_t owner, uint64_t now_ns, uint64_t slice_end_ns) {
  PublishGrant(chip, owner, now_ns, slice_end_ns);
  Wake(chip);
}

void GrantPageWriter::Wake(uint32_t chip) {
  if (chip >= VNPU_MAX_CHIPS) {
    return;
  }
  syscall(SYS_futex, &page_->chips[chip].seq, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

void GrantPageWriter::PublishGrant(uint32_t chip, int32_t owner, uint64_t now_ns,
                                   uint64_t slice_end_ns) {
  if (chip >= VNPU_MAX_CHIPS) {
    return;
  }
  VnpuGrantChip& c = page_->chips[chip];
  uint64_t epoch = (c.grant_word >> 16) + 1;
  uint64_t owner_field = owner >= 0 ? static_cast<uint64_t>(owner) + 1 : 0;
  // Both before the grant word that publishes them; the start before the owner, which readers
  // load first (fence_ring.cc: an owner read from a newer epoch implies a start as new).
  Store(c.epoch_start_ns[epoch % VNPU_EPOCH_HISTORY], now_ns);
  Store(c.epoch_owner[epoch % VNPU_EPOCH_HISTORY], static_cast<uint16_t>(owner_field));
  Store(c.granted_at_ns, now_ns);
  Store(c.slice_end_ns, slice_end_ns);
  Store(c.grant_word, (epoch << 16) | owner_field);
  Store(c.seq, c.seq + 1);
}

void GrantPageWriter::ExtendSlice(uint32_t chip, uint64_t slice_end_ns) {
  if (chip >= VNPU_MAX_CHIPS || page_->chips[chip].slice_end_ns == slice_end_ns) {
    return;
  }
  Store(page_->chips[chip].slice_end_ns, slice_end_ns);
}

void GrantPageWriter::Heartbeat(uint64_t now_ns) {
  Store(page_->heartbeat_ns, now_ns);
}

void GrantPageWriter::AddUsage(uint32_t index, uint32_t dev, uint64_t granted_ns,
                               uint64_t charged_ns) {
  if (index >= VNPU_MAX_TENANTS || dev >= VNPU_MAX_DEVICES) {
    return;
  }
  __atomic_fetch_add(&page_->tenants[index].granted_ns[dev], granted_ns, __ATOMIC_RELAXED);
  __atomic_fetch_add(&page_->tenants[index].charged_ns[dev], charged_ns, __ATOMIC_RELAXED);
}

}  // namespace npushare::softslice
