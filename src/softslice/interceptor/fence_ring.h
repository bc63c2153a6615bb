// File: softslice/interceptor/fence_ring.h
//
// Event fences of the launch gate: how libvnpu.so measures the device time of a tenant's work,
// charges work that runs past a grant, and bounds the work a process may have queued.
//
// A *segment* is the run of launches made on one stream between two fences on that stream. At
// a gated slow path (launch_gate.cc) the gate first tells the ring how many launches the thread
// made on its previous stream (FenceNoteLaunches: bookkeeping only, that stream is never
// touched: the application may have destroyed it). It then records a fence with the real
// rtEventRecord on the stream it is *about to launch on* (valid by construction), covering the
// launches queued on that stream since its previous fence. Fences are polled in record order
// per device with the real, non-blocking rtEventQueryStatus; a completed fence gives its
// segment's device time
//     min(rtEventElapsedTime(previous fence of the stream, fence),  observed − segment start)
// (the second term alone for a stream's first fence). It is added to the tenant page's
// device_ns. If the grant the segment was queued under has ended, the time its work ran while
// the tenant did not hold the chip is overrun (overrun.h).
//
// Queue bound: a device's outstanding (recorded, not yet seen complete) fences may cover at
// most kMaxQueuedLaunches launches. Past that, the slow path blocks in the real
// rtEventSynchronize on the oldest fence (counted in `syncing`, so the tenant shows demand)
// before its launch proceeds. Each launching thread may add up to kLaunchCredit launches not
// yet fenced, so a process has at most about kMaxQueuedLaunches + threads × kLaunchCredit
// launches queued per device (plus launches left on streams it no longer launches on).
//
// In-flight budget: while the tenant holds the grant, queued work is also kept within what
// ends by the grant's slice_end_ns + kInflightSlackNs, estimated as queued launches × device
// time per launch (measured per device from the intervals between consecutive fence
// completions), and the gate's next credit is cut to the launches that still fit. So little
// of a tenant's work runs in the next tenant's grant even when its kernels are long.
//
// device_ns is a per-stream measure: streams of one process that run concurrently are each
// charged their span (their sum can exceed wall time).
//
// Events: created lazily with the real rtEventCreateWithFlag (or rtEventCreate) on the slow
// path and reused from a fixed pool of kFencePool slots; nothing of ours is allocated. They are
// leaked at exit (the runtime may already be finalised when our destructor runs) and dropped
// without destruction in a fork child (they belong to the parent's runtime context). When an
// event function is missing or creating an event fails, fencing is disabled for the process
// (logged once) and the gate behaves as it did without fences; a failing rtEventRecord (for
// example on a stream being captured into a graph) drops that one fence.
//
// Locking: one process-wide mutex guards the tables; it is never held across a runtime call.
// The tables and algorithms are FenceRing<Env> (fence_ring_core.h), a template over the clock and
// the runtime's event functions; fence_ring.cc instantiates it once, the unit tests with a
// scripted environment (tests/unit/softslice/fence_interleave_test.cc).
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <stdint.h>

#include "softslice/interceptor/launch_gate.h"
#include "softslice/shared_state.h"

namespace npushare::vnpu {

// Outstanding fences per process and device; the bound is expressed in launches so that an
// application alternating streams (one launch per fence) is not serialised.
inline constexpr int32_t kMaxQueuedFences = 2;
inline constexpr int32_t kMaxQueuedLaunches = kMaxQueuedFences * kLaunchCredit;
inline constexpr int32_t kFencePool = 128;    // event slots (outstanding fences + anchors)
inline constexpr int32_t kFenceStreams = 64;  // streams tracked per process
// In-flight budget while holding a grant: queued work may end at most this long after the
// grant's slice_end_ns (estimated as queued launches × measured device time per launch).
inline constexpr uint64_t kInflightSlackNs = 1'000'000;

// FenceTarget: what a fence is accounted against.
struct FenceTarget {
  VnpuTenantDevice* td;       // tenant page entry of the logical device (device_ns, overrun)
  const VnpuGrantChip* chip;  // grant line of the chip the device launches on
  uint64_t token;             // owner field that means "this tenant"
  uint32_t dev;               // logical device, < VNPU_MAX_DEVICES
};

// NotedLaunches: `n` launches a thread made on `stream` of `dev` since host time `since_ns`,
// under grant epoch `epoch` (0 = ungated).
struct NotedLaunches {
  void* stream;
  uint32_t dev;
  int32_t n;
  uint64_t since_ns;
  uint64_t epoch;
};

// FenceNoteLaunches: adds `noted` to its stream's launches not yet fenced. Bookkeeping only (no
// runtime call): the stream may have been destroyed since.
void FenceNoteLaunches(const NotedLaunches& noted);

// FenceBeforeLaunch: notes `noted` (if not null) as FenceNoteLaunches does, records a fence on
// `stream` covering its noted launches (if any), checks the device's oldest outstanding fence
// and, when the outstanding fences exceed kMaxQueuedLaunches, waits for the oldest ones.
// `owned_epoch` is the current grant epoch if the tenant owns the chip now, else 0 (the fence
// then keeps the epoch its launches were noted under). While owning, it also waits until the
// queued work fits the in-flight budget (kInflightSlackNs) and returns how many launches still
// fit (1..kLaunchCredit; kLaunchCredit when unknown): the caller's next credit.
// *now_ns: set to a CLOCK_MONOTONIC reading taken after the oldest fence was checked and after
// any wait: the caller's "now" (the slow path reads the clock once).
// Cost when nothing waits: two locked sections and one clock read (see bench/softslice).
int32_t FenceBeforeLaunch(const NotedLaunches* noted, void* stream, const FenceTarget& target,
                          uint64_t owned_epoch, uint64_t* now_ns);

// FencePoll: processes the device's completed fences, in record order, without blocking. A
// fence whose query or synchronize fails is dropped unmeasured (the queue never wedges).
// A completed fence of an ended grant adds its segment's overrun (overrun.h: the time its work
// ran while the tenant did not hold the chip, counted once per tenant and epoch).
void FencePoll(uint32_t dev);

// FencesOutstanding: whether `dev` has fences not yet seen complete (cheap, lock-free).
bool FencesOutstanding(uint32_t dev);

// FenceAfterForkChild: drops every fence and stream of the parent (the child must not use the
// parent's events) and resets the mutex.
void FenceAfterForkChild();

}  // namespace npushare::vnpu
