// Mapping, locking and dead-process reclamation of the npu-sim state file.
//
// Why a robust mutex rather than a lock-free design: the state is small, every operation that
// touches it (allocation, vNPU change, kernel dispatch) is short, and several fields must change
// together (per-process memory and the chip timeline). A single robust mutex gives atomicity
// across those fields and, unlike a spinlock or a flock on the file, tells the next locker when
// the holder died so it can repair the state. Reads that must never block (none today) would
// need a seqlock; see docs/npu-sim.md.
#include "state/shared_state.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/fs_error.h"
#include "state/state_validation.h"

namespace npushare::sim {
namespace {

// kLockProbeTimeoutNs: how long Open waits for the state lock. Every holder keeps it for
// microseconds, so a lock still held after this long is garbage (an "owner" that never
// existed) or a hung process: either way the tool reports it instead of hanging.
constexpr int64_t kLockProbeTimeoutNs = 10'000'000'000;

// ProbeLockAndValidate: takes the state lock with a deadline and validates the contents
// under it, so the fields every reader indexes with are known good before first use.
Status ProbeLockAndValidate(NpuSimState& state, int probe_fd) {
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += kLockProbeTimeoutNs / 1'000'000'000;
  int rc = pthread_mutex_clocklock(&state.lock.mutex, CLOCK_MONOTONIC, &deadline);
  const bool owner_died = rc == EOWNERDEAD;
  if (owner_died) {
    pthread_mutex_consistent(&state.lock.mutex);
    rc = 0;
  }
  if (rc == ETIMEDOUT) {
    return UnavailableError("npu-sim state lock held for more than " +
                            std::to_string(kLockProbeTimeoutNs / 1'000'000'000) +
                            " s (a hung process, or garbage in the lock area: re-run "
                            "`npu-sim init`)");
  }
  if (rc != 0) {
    return FailedPreconditionError(std::string("npu-sim state lock unusable (") +
                                   std::strerror(rc) + "); re-run `npu-sim init`");
  }
  Status s = ValidateStateContents(state);
  if (s.ok() && owner_died) {
    // The repair StateLock does on EOWNERDEAD (see there), which this probe took over.
    state.last_sweep_ns = MonotonicNs();
    if (SweepDeadProcesses(state, probe_fd) > 0) {
      ++state.sweeps;
    }
    ApplyHealthRecovery(state, state.last_sweep_ns);
  }
  pthread_mutex_unlock(&state.lock.mutex);
  return s;
}

}  // namespace

uint64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string ResolveStateDir() {
  const char* env = std::getenv("NPU_SIM_STATE");
  if (env != nullptr && env[0] != '\0') {
    return env;
  }
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg != nullptr && xdg[0] != '\0') {
    return std::string(xdg) + "/npu-sim";
  }
  return "/tmp/npu-sim-" + std::to_string(getuid());
}

Status PrepareStateDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return FileSystemError(errno, "cannot create state directory " + dir);
  }
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) {
    return FileSystemError(errno, "cannot stat state directory " + dir);
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("state path " + dir + " is not a directory");
  }
  if (st.st_uid != getuid()) {
    return PermissionDeniedError("state directory " + dir + " is owned by another user");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return PermissionDeniedError("state directory " + dir + " is group/world-writable");
  }
  return OkStatus();
}

bool IsProcessAlive(int32_t pid) {
  if (pid <= 0) {
    return false;
  }
#ifdef SYS_pidfd_open
  // A pidfd becomes readable once the process has terminated, even while it is an unreaped
  // zombie; kill(pid, 0) would still report a zombie as alive.
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    pollfd p{static_cast<int>(fd), POLLIN, 0};
    int r = poll(&p, 1, 0);
    close(static_cast<int>(fd));
    return !(r == 1 && (p.revents & POLLIN) != 0);
  }
  if (errno == ESRCH) {
    return false;
  }
#endif
  return kill(pid, 0) == 0 || errno == EPERM;
}

off_t ProcSlotLockOffset(uint32_t slot) {
  return static_cast<off_t>(offsetof(NpuSimState, procs) + slot * sizeof(NpuSimProc));
}

namespace {

struct flock SlotLockRange(uint32_t slot, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = ProcSlotLockOffset(slot);
  fl.l_len = 1;
  fl.l_pid = 0;  // required by the OFD commands
  return fl;
}

}  // namespace

int TryLockProcSlot(int fd, uint32_t slot) {
  struct flock fl = SlotLockRange(slot, F_WRLCK);
  if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
    return 0;
  }
  return errno == EACCES ? EAGAIN : errno;
}

void UnlockProcSlot(int fd, uint32_t slot) {
  struct flock fl = SlotLockRange(slot, F_UNLCK);
  fcntl(fd, F_OFD_SETLK, &fl);
}

SlotLockProbe ProbeProcSlotLock(int fd, uint32_t slot) {
  if (fd < 0) {
    return SlotLockProbe::kUnknown;
  }
  struct flock fl = SlotLockRange(slot, F_WRLCK);
  if (fcntl(fd, F_OFD_GETLK, &fl) != 0) {
    return SlotLockProbe::kUnknown;
  }
  return fl.l_type == F_UNLCK ? SlotLockProbe::kFree : SlotLockProbe::kHeld;
}

Status SharedState::Create(const std::string& dir, const NpuSimState& initial) {
  NPUSHARE_RETURN_IF_ERROR(PrepareStateDir(dir));
  std::string tmp = dir + "/.state.bin.XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0) {
    return FileSystemError(errno, "cannot create temporary state file in " + dir);
  }
  const size_t size = sizeof(NpuSimState);
  if (fchmod(fd, 0600) != 0 || ftruncate(fd, static_cast<off_t>(size)) != 0) {
    Status s = FileSystemError(errno, "cannot size state file");
    close(fd);
    unlink(tmp.c_str());
    return s;
  }
  void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) {
    Status s = FileSystemError(errno, "cannot map state file");
    close(fd);
    unlink(tmp.c_str());
    return s;
  }
  auto* st = static_cast<NpuSimState*>(mem);
  std::memcpy(st, &initial, size);
  std::memcpy(st->magic, NPUSIM_STATE_MAGIC, 8);
  st->version = NPUSIM_STATE_VERSION;
  st->header_size = static_cast<uint32_t>(size);
  st->file_size = size;
  std::memset(&st->lock, 0, sizeof(st->lock));
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  int rc = pthread_mutex_init(&st->lock.mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  int sync_rc = msync(mem, size, MS_SYNC);
  munmap(mem, size);
  close(fd);
  if (rc != 0 || sync_rc != 0) {
    unlink(tmp.c_str());
    return InternalError("cannot initialise state file mutex");
  }
  std::string final_path = dir + "/" + kStateFileName;
  if (rename(tmp.c_str(), final_path.c_str()) != 0) {
    Status s = FileSystemError(errno, "cannot install " + final_path);
    unlink(tmp.c_str());
    return s;
  }
  return OkStatus();
}

Result<std::unique_ptr<SharedState>> SharedState::Open(const std::string& dir) {
  std::string path = dir + "/" + kStateFileName;
  // O_NOFOLLOW: a symlink planted in place of state.bin must not redirect us (and our writes)
  // to another file.
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      return NotFoundError("no npu-sim state at " + path + " (run `npu-sim init NODE.yaml`)");
    }
    if (err == ELOOP) {
      return FailedPreconditionError("npu-sim state " + path +
                                     " is a symbolic link; refusing to follow it");
    }
    return FileSystemError(err, "cannot open " + path);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    Status s = FileSystemError(errno, "cannot stat " + path);
    close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return FailedPreconditionError("npu-sim state " + path + " is not a regular file");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return PermissionDeniedError("npu-sim state " + path + " has mode " + mode +
                                 ": group/world-writable state could be rewritten by anyone; "
                                 "chmod 600 it or re-run `npu-sim init`");
  }
  const size_t size = sizeof(NpuSimState);
  // Check the header with read() first so a foreign file is never mapped at the wrong size.
  char header[kStateHeaderBytes] = {};
  const ssize_t got = pread(fd, header, sizeof(header), 0);
  Status header_ok = ValidateStateHeader(header, got < 0 ? 0 : static_cast<size_t>(got),
                                         st.st_size < 0 ? 0 : static_cast<size_t>(st.st_size));
  if (!header_ok.ok()) {
    close(fd);
    return header_ok.WithContext(path);
  }
  void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) {
    Status s = FileSystemError(errno, "cannot map " + path);
    close(fd);
    return s;
  }
  auto* state = static_cast<NpuSimState*>(mem);
  Status valid = ValidateStateLock(*state);
  if (valid.ok()) {
    valid = ProbeLockAndValidate(*state, fd);
  }
  if (!valid.ok()) {
    munmap(mem, size);
    close(fd);
    return valid.WithContext(path);
  }
  return std::unique_ptr<SharedState>(new SharedState(state, size, fd, path));
}

Result<int> SharedState::OpenSlotLockFd() const {
  int fd = open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return FileSystemError(errno, "cannot open " + path_ + " for the process slot lock");
  }
  struct stat mine {};
  struct stat theirs {};
  if (fstat(fd_, &mine) != 0 || fstat(fd, &theirs) != 0 || mine.st_dev != theirs.st_dev ||
      mine.st_ino != theirs.st_ino) {
    // A lock on a newer state.bin would not protect our slot in the file we have mapped.
    close(fd);
    return FailedPreconditionError(path_ + " was replaced since it was opened");
  }
  return fd;
}

Result<std::unique_ptr<SharedState>> SharedState::OpenDefault() {
  return Open(ResolveStateDir());
}

SharedState::~SharedState() {
  munmap(state_, size_);
  close(fd_);
}

StateLock::StateLock(SharedState& state, bool force_sweep)
    : state_(state.state_), probe_fd_(state.fd_) {
  int rc = pthread_mutex_lock(&state_->lock.mutex);
  if (rc == EOWNERDEAD) {
    // The previous holder died mid-update. Every multi-field update we make is re-derivable
    // (totals are recomputed from per-process slots), so marking consistent is safe.
    pthread_mutex_consistent(&state_->lock.mutex);
    force_sweep = true;
  } else if (rc != 0) {
    std::fprintf(stderr, "npu-sim: state mutex unusable (%s)\n", std::strerror(rc));
    std::abort();
  }
  uint64_t now = MonotonicNs();
  if (force_sweep || now - state_->last_sweep_ns >= kSweepIntervalNs) {
    state_->last_sweep_ns = now;
    if (SweepDeadProcesses(*state_, probe_fd_) > 0) {
      ++state_->sweeps;
    }
    ApplyHealthRecovery(*state_, now);
  }
}

StateLock::~StateLock() {
  pthread_mutex_unlock(&state_->lock.mutex);
}

int SweepDeadProcesses(NpuSimState& state, int probe_fd) {
  int reclaimed = 0;
  for (uint32_t i = 0; i < NPUSIM_MAX_PROCS; ++i) {
    NpuSimProc& proc = state.procs[i];
    if (proc.pid == 0) {
      continue;
    }
    // A SLOT_LOCK slot's pid belongs to the owner's pid namespace and says nothing here.
    const bool dead = proc.liveness == NPUSIM_PROC_LIVENESS_SLOT_LOCK
                          ? ProbeProcSlotLock(probe_fd, i) == SlotLockProbe::kFree
                          : !IsProcessAlive(proc.pid);
    if (dead) {
      std::memset(&proc, 0, sizeof(proc));
      ++reclaimed;
    }
  }
  return reclaimed;
}

void ApplyHealthRecovery(NpuSimState& state, uint64_t now_ns) {
  for (uint32_t i = 0; i < state.chip_count && i < NPUSIM_MAX_CHIPS; ++i) {
    NpuSimChip& chip = state.chips[i];
    if (chip.health_recover_at_ns != 0 && now_ns >= chip.health_recover_at_ns) {
      chip.health = 0;
      chip.error_count = 0;
      chip.health_recover_at_ns = 0;
    }
  }
}

uint64_t ChipUsedBytes(const NpuSimState& state, uint32_t chip, uint32_t vnpu_id) {
  if (chip >= NPUSIM_MAX_CHIPS) {
    return 0;
  }
  uint64_t total = 0;
  for (const auto& proc : state.procs) {
    if (proc.pid != 0 && (vnpu_id == 0 || proc.vnpu_id[chip] == vnpu_id)) {
      total += proc.used_bytes[chip];
    }
  }
  return total;
}

void AddUtilization(NpuSimChip& chip, uint32_t cores, uint64_t start_ns, uint64_t end_ns) {
  constexpr uint64_t kW = NPUSIM_UTIL_BUCKET_NS;
  // Keep only what fits in the ring ahead of the start; longer kernels are truncated.
  if (end_ns - start_ns > (NPUSIM_UTIL_BUCKETS - 12) * kW) {
    end_ns = start_ns + (NPUSIM_UTIL_BUCKETS - 12) * kW;
  }
  uint64_t t = start_ns;
  while (t < end_ns) {
    uint64_t epoch = t / kW;
    uint64_t bucket_end = (epoch + 1) * kW;
    uint64_t seg_end = end_ns < bucket_end ? end_ns : bucket_end;
    size_t b = epoch % NPUSIM_UTIL_BUCKETS;
    if (chip.util_epoch[b] != epoch) {
      chip.util_epoch[b] = epoch;
      chip.util_core_ns[b] = 0;
    }
    chip.util_core_ns[b] += static_cast<uint64_t>(cores) * (seg_end - t);
    t = seg_end;
  }
}

uint32_t ChipUtilizationPercent(const NpuSimState& state, uint32_t chip_index, uint64_t now_ns) {
  if (chip_index >= state.chip_count) {
    return 0;
  }
  const NpuSimChip& chip = state.chips[chip_index];
  if (chip.aicore == 0) {
    return 0;
  }
  constexpr uint64_t kWindow = 10;
  uint64_t cur = now_ns / NPUSIM_UTIL_BUCKET_NS;
  uint64_t busy = 0;
  for (uint64_t e = cur >= kWindow ? cur - kWindow : 0; e < cur; ++e) {
    size_t b = e % NPUSIM_UTIL_BUCKETS;
    if (chip.util_epoch[b] == e) {
      busy += chip.util_core_ns[b];
    }
  }
  uint64_t capacity = static_cast<uint64_t>(chip.aicore) * kWindow * NPUSIM_UTIL_BUCKET_NS;
  uint64_t pct = busy * 100 / capacity;
  return static_cast<uint32_t>(pct > 100 ? 100 : pct);
}

}  // namespace npushare::sim
