// File: softslice/interceptor/launch_gate.h
//
// The launch gate: every intercepted kernel/AI-CPU/model launch calls Gate(stream) before the
// real launch. A launch may proceed when the calling thread holds launch credit and the
// container (tenant) owns the current grant of the chip (or runs ungated, see below).
//
// Fast path (inline, below): a thread-local credit counter, a compare of the launch's stream
// with the thread's current stream and one load of the chip's grant word from the read-only
// grant page, compared whole (owner and epoch) with the word the thread acquired. No system
// call, no lock, no allocation, no write to shared memory. The slow path runs every
// kLaunchCredit launches, on a stream switch and when the grant changed, including a revoke
// and re-grant to us between two launches (a new epoch: so a fence never covers launches of
// two grants, and overrun is measured against the grant they were made under). It
// refreshes the tenant's demand signal, re-validates the grant, records an event fence on the
// stream it is about to launch on and bounds the process's queued work (fence_ring.h), and it
// blocks (futex on the chip's seq word; 2 ms timeouts, 300 us while fences are outstanding so
// that they are observed promptly) while another tenant owns the chip.
//
// Ungated ("open") mode, never waiting for a grant: the process has no core share configured
// and no node-written quota file (pure pass-through: no fences either); or there is no grant
// page, the arbiter's heartbeat is older than kStaleArbiterNs on a valid page, or the tenant is
// not adopted. A grant page lost under us (truncated: the SIGBUS guard of mapping_guard.h left
// zeros) or garbage is not open: the tenant is throttled like an unadopted one until a valid
// page is back, which the slow path re-maps at the same address (ReopenGrantPage). Whenever a
// tenant page exists, open launches are still fenced and the queue bound applies, so a tenant
// cannot queue seconds of work while ungated and run it during others' grants later. Open mode is
// re-checked every kOpenCredit launches, so a restarted arbiter takes over again within that many
// launches. Not adopted while the arbiter is alive is not a way out of the gate: the launch waits
// up to kAdoptionWaitNs for adoption (one rescan normally), and a tenant that stays unadopted (its
// page garbage or unusable) gets only kOpenCredit launches per wait.
//
// Thread safety: Gate() and SetThreadDevice() act on the calling thread's state; the shared
// state they touch is atomic.
#pragma once

#include <stdint.h>

#include "softslice/shared_state.h"

struct VnpuTenantDevice;

namespace npushare::vnpu {

using VnpuTenantDeviceRef = ::VnpuTenantDevice;

inline constexpr int32_t kLaunchCredit = 8;
inline constexpr int32_t kOpenCredit = 32;
// How long a launch waits for the arbiter to adopt its tenant (see AwaitAdoption).
inline constexpr uint64_t kAdoptionWaitNs = 100'000'000;
inline constexpr uint64_t kStaleArbiterNs = 100'000'000;  // 100 ms without a heartbeat
inline constexpr uint64_t kOwnerMask = VNPU_OWNER_MASK;

// Fields read by the fast path come first (one cache line).
struct GateThread {
  const uint64_t* word;  // grant word of the chip this thread launches on, nullptr if none
  uint64_t expect;       // the grant word as this thread acquired it (epoch << 16 | owner)
  void* stream;          // stream of the launches since the last gated slow path
  int32_t credit;        // launches left before the next slow path
  bool open;             // ungated until credit runs out
  uint64_t epoch;        // epoch of the grant this thread last acquired
  int32_t device;        // logical device from rtSetDevice, -1 = process default
  int32_t batch;         // launches allowed at the last gated slow path: batch − credit were made
  int32_t stream_dev;    // logical device of `stream`
  uint64_t batch_start_ns;  // when that slow path let its launch through
};

// One per thread, initial-exec TLS (libvnpu.so is preloaded; no __tls_get_addr on this path).
// constinit: no dynamic initialisation, so other files access it directly (no TLS wrapper).
extern constinit thread_local GateThread tl_gate __attribute__((tls_model("initial-exec")));

// GateSlow: the slow path; returns when the launch on `stream` may proceed.
void GateSlow(void* stream);

// GateFastOn: the fast path alone on thread state `t`; true (one credit used) when the launch
// on `stream` may proceed without the slow path. `stream` is the launch's stream argument
// (nullptr = the default stream); it is compared, never dereferenced. The unit tests' seam
// (gate_interleave_test.cc); GateFast inlines it on tl_gate, so the hooks' code is unchanged.
inline bool GateFastOn(GateThread& t, void* stream) {
  if (t.credit > 0 && (t.open || (stream == t.stream && t.word != nullptr &&
                                  __atomic_load_n(t.word, __ATOMIC_ACQUIRE) == t.expect))) {
    --t.credit;
    return true;
  }
  return false;
}

// GateFast: GateFastOn on the calling thread's state.
inline bool GateFast(void* stream) {
  return GateFastOn(tl_gate, stream);
}

// Gate: see the file comment; returns when the launch on `stream` may proceed.
inline void Gate(void* stream) {
  if (!GateFast(stream)) {
    GateSlow(stream);
  }
}

// SyncScope / SyncBegin / SyncEnd bracket a blocking synchronize call (stream, event, device).
// While inside, the tenant shows demand (its work is in flight). When the call returns the
// process's outstanding fences are polled (fence_ring.h), which is where most fences of a
// synchronising application are seen complete and where overrun past an ended grant (at most
// kMaxOverrunNs per grant epoch and tenant, overrun.h) is reported.
struct SyncScope {
  VnpuTenantDeviceRef* device = nullptr;
  uint32_t dev = 0;
};
SyncScope SyncBegin();
void SyncEnd(const SyncScope& scope);

// SetThreadDevice: records the device the calling thread selected (rtSetDevice) so that the
// gate knows which chip its launches go to.
void SetThreadDevice(int32_t device);

// GateAfterForkChild: resets locks the parent may have held at fork time and drops the
// parent's fences.
void GateAfterForkChild();

// GateStatus: for vnpu_gate_status: 1 gated (tenant adopted, arbiter alive), 0 open, -1 off.
int GateStatus();

}  // namespace npushare::vnpu
