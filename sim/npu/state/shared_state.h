// File: sim/npu/state/shared_state.h
//
// SharedState maps the npu-sim state file (layout in state_layout.h, format in
// docs/npu-sim.md) and hands out exclusive access to it through StateLock.
//
// Concurrency: all processes serialise on one robust process-shared mutex inside the file.
// A process that dies holding it leaves the mutex in EOWNERDEAD; the next locker marks it
// consistent and reclaims every dead process's memory before proceeding. Every locker also
// sweeps dead processes when the last sweep is older than kSweepIntervalNs, and readers that
// report memory (DCMI, npu-smi) force a sweep, so a dead process's memory is released within
// that interval of anyone looking.
//
// Process liveness: a process slot is owned through an OFD write lock on the slot's byte of
// state.bin (NPUSIM_PROC_LIVENESS_SLOT_LOCK, taken with TryLockProcSlot on a descriptor from
// OpenSlotLockFd). The kernel drops it when the owner dies, so the sweeper's F_OFD_GETLK works
// whatever pid namespace the owner runs in (a container's pid 1 is not the host's init).
// Slots without the lock (older states, kernels without OFD locks) fall back to the pid.
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(auto state, SharedState::OpenDefault());
//   { StateLock lock(*state); lock->chips[0].health = 3; }
//
// Thread safety: SharedState is safe for concurrent use; StateLock is owned by one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "common/status.h"
#include "state/state_layout.h"

namespace npushare::sim {

// kStateFileName: the file inside the state directory.
inline constexpr const char* kStateFileName = "state.bin";
// kSweepIntervalNs: how stale the dead-process sweep may get on allocation paths.
inline constexpr uint64_t kSweepIntervalNs = 100'000'000;

// MonotonicNs: CLOCK_MONOTONIC in ns (system-wide, so comparable across processes).
uint64_t MonotonicNs();

// ResolveStateDir: $NPU_SIM_STATE if set, else "$XDG_RUNTIME_DIR/npu-sim" or
// "/tmp/npu-sim-<uid>". Does not touch the filesystem.
std::string ResolveStateDir();

// PrepareStateDir: creates `dir` with mode 0700 if missing. Fails kPermissionDenied when the
// directory is group/world-writable or owned by another user, so no other user can swap the
// state under us.
Status PrepareStateDir(const std::string& dir);

// IsProcessAlive: false when `pid` has exited (including zombies that were not reaped yet).
// Only meaningful for a pid of the caller's pid namespace: used for NPUSIM_PROC_LIVENESS_PID.
bool IsProcessAlive(int32_t pid);

// ProcSlotLockOffset: file offset of the byte whose OFD write lock owns procs[slot].
off_t ProcSlotLockOffset(uint32_t slot);

// TryLockProcSlot: takes the OFD write lock of procs[slot] on `fd` without blocking.
// Returns 0, EAGAIN when another open file description holds it, or the fcntl errno (EINVAL
// on kernels without OFD locks).
int TryLockProcSlot(int fd, uint32_t slot);

// UnlockProcSlot: drops the lock TryLockProcSlot took on `fd`.
void UnlockProcSlot(int fd, uint32_t slot);

// SlotLockProbe: what F_OFD_GETLK says about a slot's lock.
enum class SlotLockProbe { kHeld, kFree, kUnknown };

// ProbeProcSlotLock: whether an open file description other than `fd`'s holds the lock of
// procs[slot]. kUnknown when the probe itself fails (then nothing may be reclaimed).
SlotLockProbe ProbeProcSlotLock(int fd, uint32_t slot);

class SharedState {
 public:
  // Create: writes `initial` (with header and a freshly initialised mutex) atomically as
  // <dir>/state.bin, replacing any previous state. REQUIRES: initial chip table filled.
  static Status Create(const std::string& dir, const NpuSimState& initial);

  // Open: maps <dir>/state.bin. kNotFound when missing; kFailedPrecondition when the magic,
  // version or size do not match this build (message names the problem).
  static Result<std::unique_ptr<SharedState>> Open(const std::string& dir);

  // OpenDefault: Open(ResolveStateDir()).
  static Result<std::unique_ptr<SharedState>> OpenDefault();

  ~SharedState();
  SharedState(const SharedState&) = delete;
  SharedState& operator=(const SharedState&) = delete;

  // Static chip description; valid for the lifetime of this object, readable without lock.
  const NpuSimState& Unlocked() const { return *state_; }

  // OpenSlotLockFd: a new descriptor (O_CLOEXEC) of the mapped state file for holding a
  // process slot lock; the caller owns and closes it. It must be a separate open file
  // description from this object's: OFD locks do not conflict with their own description, so
  // the sweeper probing through ours would see its own process's lock as free.
  // kFailedPrecondition when state.bin was replaced since it was mapped.
  Result<int> OpenSlotLockFd() const;

 private:
  friend class StateLock;
  SharedState(NpuSimState* state, size_t size, int fd, std::string path)
      : state_(state), size_(size), fd_(fd), path_(std::move(path)) {}
  NpuSimState* state_;
  size_t size_;
  int fd_;            // the mapped file, O_CLOEXEC; probes slot locks, holds none
  std::string path_;  // <dir>/state.bin
};

// StateLock: RAII exclusive access. Reclaims dead processes as described above.
class StateLock {
 public:
  // force_sweep: check every process slot now instead of at most every kSweepIntervalNs.
  explicit StateLock(SharedState& state, bool force_sweep = false);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

  NpuSimState* operator->() { return state_; }
  NpuSimState& operator*() { return *state_; }

 private:
  NpuSimState* state_;
  int probe_fd_;
};

// SweepDeadProcesses: frees the slots of exited processes: SLOT_LOCK slots whose lock nobody
// holds (probed through `probe_fd`, a descriptor of the same state file that holds no slot
// lock), PID slots whose pid is not alive. REQUIRES: lock held. Returns the number reclaimed.
int SweepDeadProcesses(NpuSimState& state, int probe_fd);

// ApplyHealthRecovery: turns scheduled recoveries that are due into OK. REQUIRES: lock held.
void ApplyHealthRecovery(NpuSimState& state, uint64_t now_ns);

// ChipUsedBytes: device memory charged to chip `chip` by all processes (optionally only to
// vNPU `vnpu_id`; 0 = all). REQUIRES: lock held.
uint64_t ChipUsedBytes(const NpuSimState& state, uint32_t chip, uint32_t vnpu_id = 0);

// ChipUtilizationPercent: busy AI-core time over the last second, 0..100. REQUIRES: lock held.
uint32_t ChipUtilizationPercent(const NpuSimState& state, uint32_t chip, uint64_t now_ns);

// AddUtilization: accounts `cores` busy over [start_ns, end_ns). REQUIRES: lock held.
void AddUtilization(NpuSimChip& chip, uint32_t cores, uint64_t start_ns, uint64_t end_ns);

}  // namespace npushare::sim
