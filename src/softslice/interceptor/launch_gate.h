// File: softslice/interceptor/launch_gate.h
//
// The launch gate: every intercepted kernel/AI-CPU/model launch calls Gate() before the real
// launch. A launch may proceed when the calling thread holds launch credit and the container
// (tenant) owns the current grant of the chip (or runs ungated, see below).
//
// Fast path (inline, below): a thread-local credit counter and one load of the chip's grant
// word from the read-only grant page. No system call, no lock, no allocation, no write to
// shared memory. Every kLaunchCredit launches the slow path runs: it refreshes the tenant's
// demand signal and re-validates the grant, and it blocks (futex on the chip's seq word, 2 ms
// timeouts) while another tenant owns the chip.
//
// Ungated ("open") mode, never blocking: the process has no core share configured; or there is
// no grant page, the arbiter's heartbeat is older than kStaleArbiterNs, or the arbiter has not
// adopted the tenant yet. Open mode is re-checked every kOpenCredit launches, so a restarted
// arbiter takes over again within that many launches.
//
// Thread safety: Gate() and SetThreadDevice() act on the calling thread's state; the shared
// state they touch is atomic.
#pragma once

#include <stdint.h>

struct VnpuTenantDevice;

namespace npushare::vnpu {

using VnpuTenantDeviceRef = ::VnpuTenantDevice;

inline constexpr int32_t kLaunchCredit = 8;
inline constexpr int32_t kOpenCredit = 32;
inline constexpr uint64_t kStaleArbiterNs = 100'000'000;  // 100 ms without a heartbeat
inline constexpr uint64_t kOwnerMask = 0xffff;

struct GateThread {
  const uint64_t* word;  // grant word of the chip this thread launches on, nullptr if none
  uint64_t token;        // owner field that means "this tenant"
  int32_t credit;        // launches left before the next slow path
  bool open;             // ungated until credit runs out
  uint64_t epoch;        // epoch of the grant this thread last acquired
  int32_t device;        // logical device from rtSetDevice, -1 = process default
};

// One per thread, initial-exec TLS (libvnpu.so is preloaded; no __tls_get_addr on this path).
// constinit: no dynamic initialisation, so other files access it directly (no TLS wrapper).
extern constinit thread_local GateThread tl_gate __attribute__((tls_model("initial-exec")));

// GateSlow: the slow path; returns when the launch may proceed.
void GateSlow();

// Gate: see the file comment.
inline void Gate() {
  GateThread& t = tl_gate;
  if (t.credit > 0 && (t.open || (t.word != nullptr && (__atomic_load_n(t.word, __ATOMIC_ACQUIRE) &
                                                        kOwnerMask) == t.token))) {
    --t.credit;
    return;
  }
  GateSlow();
}

// SyncScope / SyncBegin / SyncEnd bracket a blocking synchronize call (stream, event, device).
// While inside, the tenant shows demand (its work is in flight). If the grant under which the
// thread last launched has ended before the call returned, its work ran past that grant: the
// time from the grant's end (the next epoch's start, from the chip's epoch ring) to the return,
// or to our next grant if we got the chip back first, is reported as overrun (at most
// kMaxOverrunNs, once per grant epoch and process: the maximum over its threads).
struct SyncScope {
  VnpuTenantDeviceRef* device = nullptr;
  const uint64_t* word = nullptr;
  uint64_t token = 0;
  uint32_t dev = 0;
  uint64_t launch_epoch = 0;
};
inline constexpr uint64_t kMaxOverrunNs = 50'000'000;
SyncScope SyncBegin();
void SyncEnd(const SyncScope& scope);

// SetThreadDevice: records the device the calling thread selected (rtSetDevice) so that the
// gate knows which chip its launches go to.
void SetThreadDevice(int32_t device);

// GateAfterForkChild: resets locks the parent may have held at fork time.
void GateAfterForkChild();

// GateStatus: for vnpu_gate_status: 1 gated (tenant adopted, arbiter alive), 0 open, -1 off.
int GateStatus();

}  // namespace npushare::vnpu
