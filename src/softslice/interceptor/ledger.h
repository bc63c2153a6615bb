// File: softslice/interceptor/ledger.h
//
// Ledger: one process's handle on the container memory ledger (softslice/shared_state.h,
// docs/softslice.md). It reserves bytes against per-device quotas before the real allocator
// runs, so that no interleaving of the container's processes can exceed a quota; records what
// each pointer was charged so that a free returns exactly that; and reclaims the charges of
// processes that died, detected through OFD locks that the kernel drops at death.
//
// Everything here is async-signal-unsafe but allocation-free and exception-free; it is usable
// from the intercepted paths of libvnpu.so. A Ledger is constant-initialised (no global
// constructor). Thread safety: after Open and ClaimSlot, Reserve/Unreserve/Record/Forget/Used/
// Sweep may be called concurrently from any thread of the process; Open, ClaimSlot,
// ReleaseSlot and AfterForkChild must be serialised by the caller.
#pragma once

#include <stdint.h>

#include <atomic>

#include "softslice/shared_state.h"

namespace npushare::vnpu {

enum class LedgerError : uint8_t {
  kOk,
  kOverQuota,  // the reservation would exceed the device's quota
  kTableFull,  // no free allocation record within the probe window
  kNotFound,   // Forget: the key is not tracked by this process
  kNoSlot,     // all VNPU_MAX_PROCS slots are owned by live processes
  kIo,         // a system call failed or the state directory is unsafe
  kBadFormat,  // the file exists but is not a ledger of this version
};

// How long a process waits for the ledger mutex before refusing the operation (kIo): only a
// mutex scribbled over by the container itself is held that long.
inline constexpr int kMutexWaitS = 2;

// Probe window of the allocation table: lookups and inserts touch at most this many records.
inline constexpr uint32_t kMaxProbe = 64;

class Ledger {
 public:
  // Open: maps `<dir>/ledger.v1`, creating the directory (0700) and the file (0600) if needed.
  // The creator writes `quota_bytes` (VNPU_MAX_DEVICES entries); later openers use the quotas
  // already in the file. Refuses a directory or file that is a symlink, not owned by this uid
  // or group/world-writable (kIo), and a file of another format (kBadFormat).
  // On error nothing stays open or mapped. REQUIRES: not open.
  LedgerError Open(const char* dir, const uint64_t* quota_bytes);

  // OpenPrivate: like Open but on an anonymous memfd, shared only with fork children. The
  // fallback when the state directory is unusable: quotas still hold per process tree.
  LedgerError OpenPrivate(const uint64_t* quota_bytes);

  // ClaimSlot: takes the first process slot whose liveness lock is free, reclaiming what a dead
  // previous owner left. kNoSlot when all are held. REQUIRES: open, no slot held.
  LedgerError ClaimSlot();

  // ReleaseSlot: returns this process's charges and slot (normal exit). No-op without a slot.
  void ReleaseSlot();

  // AfterForkChild: in a fork child, forgets the parent's slot (and closes the inherited lock
  // descriptor without releasing the parent's lock). The mapping stays usable.
  void AfterForkChild();

  // Close: ReleaseSlot, then unmaps and closes everything. Used by tests.
  void Close();

  bool is_open() const { return map_ != nullptr; }
  bool has_slot() const { return slot_.load(std::memory_order_acquire) >= 0; }
  int32_t slot() const { return slot_.load(std::memory_order_acquire); }

  // PinQuotas: from now on this process enforces `quota_bytes` (VNPU_MAX_DEVICES entries,
  // from the node-written quota file) instead of the quotas in the shared ledger, which any
  // process of the container can write; also publishes them in the ledger for metrics.
  // REQUIRES: open; called before the ledger is used by other threads (setup).
  void PinQuotas(const uint64_t* quota_bytes);

  // Quota: the device's quota in bytes (pinned ones if PinQuotas was called), 0 when unlimited
  // or dev is out of range.
  uint64_t Quota(uint32_t dev) const;

  // Reserve: charges `bytes` on `dev` to this process if the container's total stays within
  // the quota; when it would not, first reclaims dead processes and retries once. kOverQuota
  // leaves nothing charged; kBadFormat when the ledger is Broken() (logged once).
  // REQUIRES: has_slot(), dev < VNPU_MAX_DEVICES.
  LedgerError Reserve(uint32_t dev, uint64_t bytes);

  // Unreserve: returns `bytes` on `dev` previously reserved by this process.
  void Unreserve(uint32_t dev, uint64_t bytes);

  // Record: remembers that `key` (a device pointer or handle, > 1) was charged `bytes` on dev.
  // kTableFull when no record is free in the probe window (nothing is recorded).
  LedgerError Record(uint64_t key, uint32_t dev, uint64_t bytes);

  // Forget: removes `key` and returns what it was charged. Exactly one of concurrent Forgets
  // of the same key succeeds; the others get kNotFound. Outputs unchanged on kNotFound.
  LedgerError Forget(uint64_t key, uint32_t* dev, uint64_t* bytes);

  // Used: bytes charged on `dev` by all processes of the container (dead ones not yet swept
  // included). Lock-free; 0 for dev out of range.
  uint64_t Used(uint32_t dev) const;

  // Sweep: reclaims the slots of dead processes; returns how many. `min_interval_ns` > 0 skips
  // the sweep (returning 0) when the last one is more recent than that.
  int Sweep(uint64_t min_interval_ns);

  // Broken: the mapping was lost to a truncation (SIGBUS absorbed, mapping_guard.h) or its
  // header no longer validates (scribbled over, or truncated and re-extended). Quota() then
  // keeps returning the quotas seen at Open and Reserve refuses. REQUIRES: open.
  bool Broken() const;

  // Raw: the mapped ledger, for introspection. nullptr when not open.
  const VnpuLedger* raw() const { return map_; }

 private:
  LedgerError MapFd(int fd, const uint64_t* quota_bytes);
  bool LockMutex();
  void UnlockMutex();
  int SweepLocked();
  bool SlotOwnerAlive(uint32_t i) const;

  VnpuLedger* map_ = nullptr;
  int map_fd_ = -1;
  int lock_fd_ = -1;
  // Atomic: ReleaseSlot (library teardown) may run while other threads are in a hook; they
  // read it once per call and see either the slot or -1.
  std::atomic<int32_t> slot_{-1};
  char path_[300] = {};
  bool pinned_ = false;  // written only during setup, before the ledger is published
  uint64_t pinned_quota_[VNPU_MAX_DEVICES] = {};
  uint64_t opened_quota_[VNPU_MAX_DEVICES] = {};  // the ledger's quotas when it was mapped
  std::atomic<bool> broken_logged_{false};
};

// MonotonicNs: CLOCK_MONOTONIC in nanoseconds.
uint64_t MonotonicNs();

}  // namespace npushare::vnpu
