// File: softslice/interceptor/ledger.cc
//
// Why a robust mutex for the check-and-charge: the container's total is the sum of per-slot
// charges. A lock-free reservation needs a second word (a shared total, or an intent record)
// and a process killed between the two stores leaves an ambiguity no survivor can resolve
// exactly. Under the mutex every update is a single 8-byte store, so a holder that dies leaves
// the ledger consistent and EOWNERDEAD only needs pthread_mutex_consistent. The critical
// section is a few dozen loads and never spans a runtime call or a blocking system call (the
// sweep's F_OFD_GETLK calls only run when a reservation is about to be refused).
#include "softslice/interceptor/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "softslice/interceptor/log.h"
#include "softslice/interceptor/mapping_guard.h"

namespace npushare::vnpu {
namespace {

constexpr uint32_t kTableShift =
    64 - static_cast<uint32_t>(__builtin_ctz(VNPU_MAX_ALLOCS_PER_PROC));
constexpr uint64_t kSizeMask = (uint64_t{1} << VNPU_ALLOC_SIZE_BITS) - 1;

std::atomic_ref<uint64_t> A64(uint64_t& v) {
  return std::atomic_ref<uint64_t>(v);
}
std::atomic_ref<uint32_t> A32(uint32_t& v) {
  return std::atomic_ref<uint32_t>(v);
}

uint64_t SatAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? ~uint64_t{0} : r;
}

off_t SlotLockOffset(uint32_t i) {
  return static_cast<off_t>(offsetof(VnpuLedger, procs) + i * sizeof(VnpuProcSlot));
}

uint32_t HashIndex(uint64_t key) {
  // Device pointers are at least 32-byte aligned; drop the low bits before mixing.
  return static_cast<uint32_t>(((key >> 5) * 0x9E3779B97F4A7C15ull) >> kTableShift);
}

void ZeroCharges(VnpuProcSlot& s) {
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    A64(s.charged_bytes[d]).store(0, std::memory_order_relaxed);
  }
}

bool UnsafeMode(const struct stat& st) {
  return (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

}  // namespace

uint64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

LedgerError Ledger::Open(const char* dir, const uint64_t* quota_bytes) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    return LedgerError::kIo;
  }
  struct stat st;
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || UnsafeMode(st) ||
      (st.st_uid != geteuid() && st.st_uid != 0)) {
    return LedgerError::kIo;
  }
  int n = snprintf(path_, sizeof(path_), "%s/%s", dir, VNPU_LEDGER_FILE_NAME);
  if (n < 0 || static_cast<size_t>(n) >= sizeof(path_)) {
    return LedgerError::kIo;
  }
  int fd = open(path_, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return LedgerError::kIo;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || UnsafeMode(st)) {
    close(fd);
    return LedgerError::kIo;
  }
  LedgerError e = MapFd(fd, quota_bytes);
  if (e != LedgerError::kOk) {
    close(fd);
  }
  return e;
}

LedgerError Ledger::OpenPrivate(const uint64_t* quota_bytes) {
  int fd = memfd_create("vnpu-ledger", MFD_CLOEXEC);
  if (fd < 0) {
    return LedgerError::kIo;
  }
  // Each process (fork children included) reopens through its own fd table, which gives it
  // its own open file description and therefore its own OFD liveness lock.
  snprintf(path_, sizeof(path_), "/proc/self/fd/%d", fd);
  LedgerError e = MapFd(fd, quota_bytes);
  if (e != LedgerError::kOk) {
    close(fd);
  }
  return e;
}

LedgerError Ledger::MapFd(int fd, const uint64_t* quota_bytes) {
  while (flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      return LedgerError::kIo;
    }
  }
  LedgerError result = LedgerError::kOk;
  struct stat st;
  void* p = MAP_FAILED;
  if (fstat(fd, &st) != 0) {
    result = LedgerError::kIo;
  } else if (st.st_size != 0 && static_cast<uint64_t>(st.st_size) != sizeof(VnpuLedger)) {
    result = LedgerError::kBadFormat;
  } else if (st.st_size == 0 && ftruncate(fd, sizeof(VnpuLedger)) != 0) {
    result = LedgerError::kIo;
  } else {
    p = mmap(nullptr, sizeof(VnpuLedger), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      result = LedgerError::kIo;
    }
  }
  if (result == LedgerError::kOk) {
    auto* l = static_cast<VnpuLedger*>(p);
    static const char kZero[8] = {};
    if (memcmp(l->magic, kZero, sizeof(kZero)) == 0) {
      // New file, or a creator died before finishing: (re)initialise. Holding flock, nobody
      // else can be using it, because nobody uses a ledger whose magic is not set.
      memset(l, 0, offsetof(VnpuLedger, procs));
      l->version = VNPU_LEDGER_VERSION;
      l->header_size = offsetof(VnpuLedger, procs);
      l->file_size = sizeof(VnpuLedger);
      l->device_count = VNPU_MAX_DEVICES;
      l->proc_count = VNPU_MAX_PROCS;
      l->alloc_count = VNPU_MAX_ALLOCS_PER_PROC;
      for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
        l->quota_bytes[d] = quota_bytes[d];
      }
      pthread_mutexattr_t attr;
      pthread_mutexattr_init(&attr);
      pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
      pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
      int rc = pthread_mutex_init(&l->lock.mutex, &attr);
      pthread_mutexattr_destroy(&attr);
      if (rc != 0) {
        result = LedgerError::kIo;
      } else {
        std::atomic_thread_fence(std::memory_order_release);
        memcpy(l->magic, VNPU_LEDGER_MAGIC, 8);
      }
    } else if (memcmp(l->magic, VNPU_LEDGER_MAGIC, 8) != 0 || l->version != VNPU_LEDGER_VERSION ||
               l->header_size != offsetof(VnpuLedger, procs) ||
               l->file_size != sizeof(VnpuLedger) || l->device_count != VNPU_MAX_DEVICES ||
               l->proc_count != VNPU_MAX_PROCS || l->alloc_count != VNPU_MAX_ALLOCS_PER_PROC) {
      result = LedgerError::kBadFormat;
    }
  }
  flock(fd, LOCK_UN);
  if (result != LedgerError::kOk) {
    if (p != MAP_FAILED) {
      munmap(p, sizeof(VnpuLedger));
    }
    return result;
  }
  map_ = static_cast<VnpuLedger*>(p);
  map_fd_ = fd;
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    opened_quota_[d] = A64(map_->quota_bytes[d]).load(std::memory_order_relaxed);
  }
  // A truncated ledger must not kill the process with SIGBUS (mapping_guard.h): the fault
  // turns the mapping into zeros and Broken() refuses to use it from then on.
  GuardMapping(GuardedMap::kLedger, map_, sizeof(VnpuLedger), true);
  return LedgerError::kOk;
}

bool Ledger::Broken() const {
  if (MappingLostAt(GuardedMap::kLedger, map_)) {
    return true;
  }
  // Scribbled over (or truncated and re-extended, which reads as zeros without a fault): the
  // magic and the version word after it, one 8-byte and one 4-byte load on every allocation.
  uint64_t magic;
  memcpy(&magic, map_->magic, sizeof(magic));
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "magic word as loaded on LE hosts");
  constexpr uint64_t kMagic = [] {
    const char* m = VNPU_LEDGER_MAGIC;
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
      v = v << 8 | static_cast<uint8_t>(m[i]);
    }
    return v;
  }();
  return magic != kMagic ||
         __atomic_load_n(&map_->version, __ATOMIC_RELAXED) != VNPU_LEDGER_VERSION;
}

bool Ledger::LockMutex() {
  int rc = pthread_mutex_trylock(&map_->lock.mutex);
  if (rc == EBUSY) {
    // Bounded: a container that scribbles over its own ledger's mutex must not hang its
    // allocations forever (issue 15); a holder never keeps it for more than ~64 loads. The
    // clock is read only when the mutex is busy, so the uncontended path costs what it did.
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += kMutexWaitS;
    rc = pthread_mutex_clocklock(&map_->lock.mutex, CLOCK_MONOTONIC, &deadline);
  }
  if (rc == EOWNERDEAD) {
    // The holder died inside a critical section. Every update in one is a single atomic
    // store, so the data is consistent as it stands.
    pthread_mutex_consistent(&map_->lock.mutex);
    return true;
  }
  return rc == 0;
}

void Ledger::UnlockMutex() {
  pthread_mutex_unlock(&map_->lock.mutex);
}

LedgerError Ledger::ClaimSlot() {
  if (map_ == nullptr || slot_.load() >= 0) {
    return LedgerError::kIo;
  }
  lock_fd_ = open(path_, O_RDWR | O_CLOEXEC);
  if (lock_fd_ < 0) {
    return LedgerError::kIo;
  }
  for (uint32_t i = 0; i < VNPU_MAX_PROCS; ++i) {
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = SlotLockOffset(i);
    fl.l_len = 1;
    if (fcntl(lock_fd_, F_OFD_SETLK, &fl) != 0) {
      continue;
    }
    // The table belongs to whoever holds the lock; nobody else reads it.
    memset(&map_->tables[i], 0, sizeof(VnpuAllocTable));
    if (!LockMutex()) {
      break;
    }
    VnpuProcSlot& s = map_->procs[i];
    if (A32(s.state).load(std::memory_order_relaxed) != VNPU_SLOT_FREE) {
      A64(map_->reclaimed_procs).fetch_add(1, std::memory_order_relaxed);
    }
    ZeroCharges(s);
    s.pid = static_cast<int32_t>(getpid());
    s.generation = s.generation + 1;
    A32(s.state).store(VNPU_SLOT_LIVE, std::memory_order_release);
    UnlockMutex();
    slot_.store(static_cast<int32_t>(i), std::memory_order_release);
    return LedgerError::kOk;
  }
  close(lock_fd_);
  lock_fd_ = -1;
  return LedgerError::kNoSlot;
}

void Ledger::ReleaseSlot() {
  int32_t slot = slot_.exchange(-1, std::memory_order_acq_rel);
  if (map_ == nullptr || slot < 0) {
    return;
  }
  if (LockMutex()) {
    VnpuProcSlot& s = map_->procs[slot];
    ZeroCharges(s);
    A32(s.state).store(VNPU_SLOT_FREE, std::memory_order_release);
    UnlockMutex();
  }
  close(lock_fd_);  // drops the liveness lock
  lock_fd_ = -1;
}

void Ledger::AfterForkChild() {
  // The inherited descriptor shares the parent's open file description, and so its lock:
  // closing our reference leaves the parent's lock in place.
  if (lock_fd_ >= 0) {
    close(lock_fd_);
  }
  lock_fd_ = -1;
  slot_.store(-1, std::memory_order_relaxed);
}

void Ledger::Close() {
  ForgetMapping(GuardedMap::kLedger, map_);
  ReleaseSlot();
  if (map_ != nullptr) {
    munmap(map_, sizeof(VnpuLedger));
    map_ = nullptr;
  }
  if (map_fd_ >= 0) {
    close(map_fd_);
    map_fd_ = -1;
  }
}

void Ledger::PinQuotas(const uint64_t* quota_bytes) {
  if (map_ == nullptr) {
    return;
  }
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    pinned_quota_[d] = quota_bytes[d];
    A64(map_->quota_bytes[d]).store(quota_bytes[d], std::memory_order_relaxed);
  }
  pinned_ = true;
}

uint64_t Ledger::Quota(uint32_t dev) const {
  if (map_ == nullptr || dev >= VNPU_MAX_DEVICES) {
    return 0;
  }
  if (pinned_) {
    return pinned_quota_[dev];
  }
  if (Broken()) {
    return opened_quota_[dev];  // a zeroed or scribbled header must not lift the quota
  }
  return A64(map_->quota_bytes[dev]).load(std::memory_order_relaxed);
}

uint64_t Ledger::Used(uint32_t dev) const {
  if (map_ == nullptr || dev >= VNPU_MAX_DEVICES) {
    return 0;
  }
  uint64_t total = 0;
  for (uint32_t i = 0; i < VNPU_MAX_PROCS; ++i) {
    total = SatAdd(total, A64(map_->procs[i].charged_bytes[dev]).load(std::memory_order_acquire));
  }
  return total;
}

LedgerError Ledger::Reserve(uint32_t dev, uint64_t bytes) {
  int32_t slot = slot_.load(std::memory_order_acquire);
  if (map_ == nullptr || slot < 0 || dev >= VNPU_MAX_DEVICES || bytes > kSizeMask) {
    return LedgerError::kOverQuota;
  }
  if (Broken()) {
    // Truncated or scribbled over by the container itself: it gets no memory on limited
    // devices until the ledger is recreated (a new process tree), never more than its quota.
    if (!broken_logged_.exchange(true, std::memory_order_relaxed)) {
      Log("container ledger %s is truncated or corrupt: allocations on limited devices fail",
          path_[0] != '\0' ? path_ : "(private)");
    }
    return LedgerError::kBadFormat;
  }
  uint64_t quota =
      pinned_ ? pinned_quota_[dev] : A64(map_->quota_bytes[dev]).load(std::memory_order_relaxed);
  if (!LockMutex()) {
    return LedgerError::kIo;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    uint64_t used = Used(dev);
    if (quota == 0 || (bytes <= quota && used <= quota - bytes)) {
      A64(map_->procs[slot].charged_bytes[dev]).fetch_add(bytes, std::memory_order_release);
      UnlockMutex();
      return LedgerError::kOk;
    }
    if (attempt == 0 && SweepLocked() == 0) {
      break;
    }
  }
  A64(map_->denied_allocs).fetch_add(1, std::memory_order_relaxed);
  UnlockMutex();
  return LedgerError::kOverQuota;
}

void Ledger::Unreserve(uint32_t dev, uint64_t bytes) {
  int32_t slot = slot_.load(std::memory_order_acquire);
  if (map_ == nullptr || slot < 0 || dev >= VNPU_MAX_DEVICES) {
    return;
  }
  // Saturating: a container that scribbled over its own ledger must not wrap to 2^64.
  auto charged = A64(map_->procs[slot].charged_bytes[dev]);
  uint64_t v = charged.load(std::memory_order_relaxed);
  while (!charged.compare_exchange_weak(v, v > bytes ? v - bytes : 0, std::memory_order_release,
                                        std::memory_order_relaxed)) {
  }
}

LedgerError Ledger::Record(uint64_t key, uint32_t dev, uint64_t bytes) {
  int32_t slot = slot_.load(std::memory_order_acquire);
  if (map_ == nullptr || slot < 0 || key <= VNPU_ALLOC_KEY_TOMBSTONE || dev >= VNPU_MAX_DEVICES ||
      bytes > kSizeMask) {
    return LedgerError::kTableFull;
  }
  VnpuAllocRecord* records = map_->tables[slot].records;
  uint32_t h = HashIndex(key);
  for (uint32_t i = 0; i < kMaxProbe; ++i) {
    VnpuAllocRecord& r = records[(h + i) & (VNPU_MAX_ALLOCS_PER_PROC - 1)];
    uint64_t k = A64(r.key).load(std::memory_order_acquire);
    if (k != VNPU_ALLOC_KEY_EMPTY && k != VNPU_ALLOC_KEY_TOMBSTONE) {
      continue;
    }
    // Claim the record first (so no other thread writes size_dev), then fill it. Only this
    // process's Forget reads size_dev, and only for a key it got back from the allocator,
    // which happens after this Record returned.
    if (A64(r.key).compare_exchange_strong(k, key, std::memory_order_acq_rel)) {
      A64(r.size_dev)
          .store((uint64_t{dev} << VNPU_ALLOC_SIZE_BITS) | bytes, std::memory_order_release);
      return LedgerError::kOk;
    }
  }
  return LedgerError::kTableFull;
}

LedgerError Ledger::Forget(uint64_t key, uint32_t* dev, uint64_t* bytes) {
  int32_t slot = slot_.load(std::memory_order_acquire);
  if (map_ == nullptr || slot < 0 || key <= VNPU_ALLOC_KEY_TOMBSTONE) {
    return LedgerError::kNotFound;
  }
  VnpuAllocRecord* records = map_->tables[slot].records;
  uint32_t h = HashIndex(key);
  for (uint32_t i = 0; i < kMaxProbe; ++i) {
    VnpuAllocRecord& r = records[(h + i) & (VNPU_MAX_ALLOCS_PER_PROC - 1)];
    uint64_t k = A64(r.key).load(std::memory_order_acquire);
    if (k == VNPU_ALLOC_KEY_EMPTY) {
      return LedgerError::kNotFound;
    }
    if (k != key) {
      continue;
    }
    uint64_t sd = A64(r.size_dev).load(std::memory_order_acquire);
    if (!A64(r.key).compare_exchange_strong(k, VNPU_ALLOC_KEY_TOMBSTONE,
                                            std::memory_order_acq_rel)) {
      return LedgerError::kNotFound;  // a concurrent Forget of the same key won
    }
    *dev = static_cast<uint32_t>(sd >> VNPU_ALLOC_SIZE_BITS);
    *bytes = sd & kSizeMask;
    return LedgerError::kOk;
  }
  return LedgerError::kNotFound;
}

bool Ledger::SlotOwnerAlive(uint32_t i) const {
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = SlotLockOffset(i);
  fl.l_len = 1;
  if (fcntl(lock_fd_, F_OFD_GETLK, &fl) != 0) {
    return true;  // cannot tell: never reclaim what might be live
  }
  return fl.l_type != F_UNLCK;
}

int Ledger::SweepLocked() {
  if (lock_fd_ < 0) {
    return 0;
  }
  int reclaimed = 0;
  for (uint32_t i = 0; i < VNPU_MAX_PROCS; ++i) {
    VnpuProcSlot& s = map_->procs[i];
    if (static_cast<int32_t>(i) == slot_.load(std::memory_order_relaxed) ||
        A32(s.state).load(std::memory_order_acquire) == VNPU_SLOT_FREE || SlotOwnerAlive(i)) {
      continue;
    }
    ZeroCharges(s);
    A32(s.state).store(VNPU_SLOT_FREE, std::memory_order_release);
    A64(map_->reclaimed_procs).fetch_add(1, std::memory_order_relaxed);
    ++reclaimed;
  }
  A64(map_->last_sweep_ns).store(MonotonicNs(), std::memory_order_relaxed);
  return reclaimed;
}

int Ledger::Sweep(uint64_t min_interval_ns) {
  if (map_ == nullptr || lock_fd_ < 0) {
    return 0;
  }
  if (min_interval_ns > 0 &&
      MonotonicNs() - A64(map_->last_sweep_ns).load(std::memory_order_relaxed) < min_interval_ns) {
    return 0;
  }
  if (!LockMutex()) {
    return 0;
  }
  int n = SweepLocked();
  UnlockMutex();
  return n;
}

}  // namespace npushare::vnpu
