// File: softslice/interceptor/fence_ring_core.h
//
// The fence ring's tables and algorithms (fence_ring.h describes what they do) as a class
// template over its environment, so that interleavings are tested step by step.
//
// Seam: FenceRing<Env> holds every table of the ring and calls `env` for everything it reads
// from outside: the clock and the real runtime's event functions. The shared pages are reached
// through the FenceTarget pointers the caller passes (tenant page entry, grant chip line), so a
// test passes its own. fence_ring.cc instantiates it once, as a constinit global, with its
// production environment (the resolved runtime functions, CLOCK_MONOTONIC): after inlining the
// code is the one before the seam (no indirect call or branch added; the launch fast path,
// launch_gate.h, does not reach the ring at all). The unit tests
// (tests/unit/softslice/fence_interleave_test.cc) instantiate it with a scripted environment
// whose event functions run "another thread's" ring calls in the middle of this thread's fence
// (the ring's mutex is never held across an environment call, so they may re-enter).
//
// Env must provide:
//   bool Resolve();      // event functions usable (resolved lazily); false: fencing off
//   bool Missing();      // resolution found them missing (cheap; no side effect)
//   RtError CreateEvent(void** event);                 // a timeline event if possible
//   RtError Record(void* event, void* stream);         // rtEventRecord
//   RtError Query(void* event, int* status);           // rtEventQueryStatus (non-blocking)
//   RtError Sync(void* event);                         // rtEventSynchronize
//   RtError Elapsed(float* ms, void* from, void* to);  // rtEventElapsedTime; error if missing
//   uint64_t Now();                                    // CLOCK_MONOTONIC, ns
//   void Yield();                                      // sched_yield
//   void LogDisabled(const char* why);                 // fencing disabled (logged once)
//
// Thread safety: every public member may be called from any thread; one mutex guards the
// tables and is never held across an Env call.
#pragma once

#include <pthread.h>
#include <stdint.h>

#include <atomic>

#include "softslice/interceptor/fence_ring.h"
#include "softslice/interceptor/overrun.h"
#include "softslice/interceptor/rt_abi.h"

namespace npushare::vnpu {

namespace fence_detail {

inline constexpr int kEventRecorded = 1;  // RT_EVENT_RECORDED: the recorded point was reached

enum SlotState : uint8_t {
  kFree,         // no fence (the event, if created, is kept for reuse)
  kRecording,    // reserved by a thread that is calling rtEventRecord
  kOutstanding,  // recorded, not yet seen complete; in its device's queue
  kChecking,     // a thread is querying/synchronising it (still at the queue head)
  kDone,         // complete and accounted; kept while a successor or its stream needs it
};

struct Slot {
  void* event;
  VnpuTenantDevice* td;
  const VnpuGrantChip* chip;
  uint64_t token;
  uint64_t epoch;         // grant epoch the segment was queued under, 0 = unknown/ungated
  uint64_t seg_start_ns;  // host time the segment's first launch could have been queued
  int32_t launches;       // launches the segment covers
  int16_t prev;           // previous fence of the same stream, -1 = none
  SlotState state;
  bool is_last;     // its stream's latest fence (the next fence's `prev`)
  bool successor;   // a later fence of the stream still needs it for rtEventElapsedTime
  bool dev_anchor;  // its device's latest completed fence (the per-launch rate's reference)
};

struct StreamEntry {
  void* stream;
  uint64_t seg_start_ns;  // earliest launch noted since the stream's latest fence
  uint64_t epoch;         // epoch of the latest noted launches
  uint64_t lru;
  int32_t pending;  // launches noted since the stream's latest fence
  int16_t last;     // its latest fence slot, -1 = none
  uint8_t dev;
  bool used;
  bool recording;  // a thread is recording a fence on it
};

// Queue of outstanding fences of one device, in record order.
struct DeviceQueue {
  int16_t ring[kFencePool];
  int32_t head;
  int32_t count;
  int32_t launches;  // Σ launches of the queued fences
};

enum class Wait : uint8_t {
  kNever,      // only fences already complete
  kOverBound,  // wait for the head while the queue covers more than kMaxQueuedLaunches
  kAlways,     // wait for the head
};

// HeadCheck: one check of a device's queue head. BeginHead fills the first part under the
// mutex, QueryHead and MeasureHead the rest without it (runtime calls), FinishHead accounts it
// under the mutex again.
struct HeadCheck {
  int16_t slot;
  int16_t anchor;  // the device's anchor fence at BeginHead
  void* event;
  void* prev_event;    // the stream's previous fence, if still there (rtEventElapsedTime)
  void* anchor_event;  // the anchor's event when it belongs to the same grant epoch
  VnpuTenantDevice* td;
  uint64_t seg_start_ns;
  // Set by QueryHead and MeasureHead.
  bool done;         // the fence completed
  bool failed;       // query or synchronize failed: dropped unmeasured
  bool dev_sampled;  // dev_gap_ns is a device-time interval since the anchor
  bool keep_anchor;  // the fence completed before the anchor (record order ≠ completion order)
  uint64_t observed_ns;
  uint64_t seg_ns;
  uint64_t dev_gap_ns;
};

enum class HeadClaim : uint8_t { kNone, kOtherThread, kClaimed };

// Queued launches always allowed under the in-flight budget, so that the device does not idle
// while the host turns around.
inline constexpr int32_t kMinInflightLaunches = 2;

static_assert(VNPU_MAX_DEVICES == 16, "g_dev_anchor's initialiser lists every device");

}  // namespace fence_detail

template <typename Env>
class FenceRing {
 public:
  // The environment: public so that the production code and the tests reach their own.
  Env env{};

  // fence_ring.h's functions, on this ring.
  void NoteLaunches(const NotedLaunches& noted);
  int32_t BeforeLaunch(const NotedLaunches* noted, void* stream, const FenceTarget& target,
                       uint64_t owned_epoch, uint64_t* now_ns);
  void PollDevice(uint32_t dev);
  bool Outstanding(uint32_t dev) const {
    return dev < VNPU_MAX_DEVICES &&
           (outstanding_mask_.load(std::memory_order_relaxed) & (1u << dev)) != 0;
  }
  void ResetAfterForkChild();

  // Observers (each takes the mutex; for tests and diagnostics).
  int32_t OutstandingFences(uint32_t dev);  // fences of `dev` recorded, not yet seen complete
  int32_t QueuedLaunchesOf(uint32_t dev);   // Σ launches they cover
  int32_t PendingLaunches(void* stream, uint32_t dev);  // noted, not yet fenced; -1 untracked
  int32_t FreeSlots();                                  // event slots holding no fence
  uint64_t NsPerLaunch(uint32_t dev);                   // the in-flight budget's rate, 0 unknown
  // MutexBusy: whether the ring's mutex is held (by any thread). An Env call made while it is
  // held would break the "never held across a runtime call" rule; tests check it.
  bool MutexBusy() {
    if (pthread_mutex_trylock(&mu_) != 0) {
      return true;
    }
    pthread_mutex_unlock(&mu_);
    return false;
  }

 private:
  using Slot = fence_detail::Slot;
  using StreamEntry = fence_detail::StreamEntry;
  using DeviceQueue = fence_detail::DeviceQueue;
  using Wait = fence_detail::Wait;
  using HeadCheck = fence_detail::HeadCheck;
  using HeadClaim = fence_detail::HeadClaim;

  // --- Table helpers; REQUIRES mu_. ---
  void MaybeFree(int16_t i);
  StreamEntry* FindStream(void* stream, uint32_t dev, bool create);
  int16_t ReserveSlot();
  void Push(uint32_t dev, int16_t slot);
  void PopHead(uint32_t dev);
  StreamEntry* NoteLocked(const NotedLaunches& noted);
  void AddOverrun(const Slot& s, uint32_t dev, uint64_t end_ns, uint64_t seg_ns, bool dev_sampled,
                  uint64_t dev_gap_ns);
  HeadClaim BeginHead(uint32_t dev, int16_t newest, HeadCheck* h);
  bool FinishHead(uint32_t dev, const HeadCheck& h);
  // --- No lock held: Env calls. ---
  void QueryHead(HeadCheck* h, bool enforce);
  void MeasureHead(HeadCheck* h, uint64_t observed_ns);
  // --- Take the lock themselves. ---
  bool ProcessHead(uint32_t dev, Wait wait, int16_t newest = -1);
  void Poll(uint32_t dev, Wait wait, int16_t newest = -1);
  int32_t QueuedLaunches(uint32_t dev) const {
    return __atomic_load_n(&queues_[dev].launches, __ATOMIC_RELAXED);
  }
  bool InflightOverBudget(uint32_t dev, uint64_t slice_end_ns, uint64_t now, int32_t* credit);
  bool FencesEnabled() { return !env.Missing() && !no_record_.load(std::memory_order_relaxed); }

  pthread_mutex_t mu_ = PTHREAD_MUTEX_INITIALIZER;
  std::atomic<bool> no_record_{false};  // creating events failed: no new fences
  Slot slots_[kFencePool] = {};
  StreamEntry streams_[kFenceStreams] = {};
  DeviceQueue queues_[VNPU_MAX_DEVICES] = {};
  OverrunState overrun_[VNPU_MAX_DEVICES] = {};
  // Device time per launch. Another tenant's work interleaves with our tail after a grant
  // ends, so a segment's span then overstates our device time; launches × this rate bounds it.
  // Per device: EMAs of the device time between consecutive completed fences (any stream) and
  // of the launches those fences cover. The intervals between consecutive completions tile the
  // device's timeline, so their ratio is the device time per launch even when the process's
  // streams run interleaved (a per-stream span would count the other streams' work too).
  uint64_t ns_per_launch_[VNPU_MAX_DEVICES] = {};
  uint64_t ema_ns_[VNPU_MAX_DEVICES] = {};
  uint64_t ema_launches_x16_[VNPU_MAX_DEVICES] = {};  // fixed point, × 16
  int16_t dev_anchor_[VNPU_MAX_DEVICES] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                           -1, -1, -1, -1, -1, -1, -1, -1};
  uint64_t lru_ = 0;
  std::atomic<uint32_t> outstanding_mask_{0};  // bit d: device d has queued fences
};

// ---------------------------------------------------------------------------------------------

template <typename Env>
void FenceRing<Env>::MaybeFree(int16_t i) {
  Slot& s = slots_[i];
  if (s.state == fence_detail::kDone && !s.is_last && !s.successor && !s.dev_anchor) {
    s.state = fence_detail::kFree;
    s.prev = -1;
  }
}

template <typename Env>
typename FenceRing<Env>::StreamEntry* FenceRing<Env>::FindStream(void* stream, uint32_t dev,
                                                                 bool create) {
  StreamEntry* victim = nullptr;
  for (StreamEntry& e : streams_) {
    if (e.used && e.stream == stream && e.dev == dev) {
      e.lru = ++lru_;
      return &e;
    }
    if (!e.used) {
      if (victim == nullptr || victim->used) {
        victim = &e;
      }
    } else if (!e.recording && (victim == nullptr || (victim->used && e.lru < victim->lru))) {
      victim = &e;
    }
  }
  if (!create || victim == nullptr) {
    return nullptr;
  }
  if (victim->used && victim->last >= 0) {
    // Evicting the least recently used stream: its latest fence is no longer anyone's `prev`.
    slots_[victim->last].is_last = false;
    MaybeFree(victim->last);
  }
  *victim = StreamEntry{};
  victim->stream = stream;
  victim->dev = static_cast<uint8_t>(dev);
  victim->last = -1;
  victim->used = true;
  victim->lru = ++lru_;
  return victim;
}

template <typename Env>
int16_t FenceRing<Env>::ReserveSlot() {
  // Prefer a free slot whose event already exists (no creation on the slow path).
  int16_t fresh = -1;
  for (int16_t i = 0; i < kFencePool; ++i) {
    if (slots_[i].state == fence_detail::kFree) {
      if (slots_[i].event != nullptr) {
        return i;
      }
      if (fresh < 0) {
        fresh = i;
      }
    }
  }
  return fresh;
}

template <typename Env>
void FenceRing<Env>::Push(uint32_t dev, int16_t slot) {
  DeviceQueue& q = queues_[dev];
  q.ring[(q.head + q.count) % kFencePool] = slot;
  ++q.count;
  // Atomic store: read without the mutex (QueuedLaunches).
  __atomic_store_n(&q.launches, q.launches + slots_[slot].launches, __ATOMIC_RELAXED);
  outstanding_mask_.fetch_or(1u << dev, std::memory_order_relaxed);
}

template <typename Env>
void FenceRing<Env>::PopHead(uint32_t dev) {
  DeviceQueue& q = queues_[dev];
  __atomic_store_n(&q.launches, q.launches - slots_[q.ring[q.head]].launches, __ATOMIC_RELAXED);
  q.head = (q.head + 1) % kFencePool;
  --q.count;
  if (q.count == 0) {
    outstanding_mask_.fetch_and(~(1u << dev), std::memory_order_relaxed);
  }
}

// NoteLocked: NoteLaunches' bookkeeping; returns the stream's entry (nullptr when none could be
// made). REQUIRES mu_.
template <typename Env>
typename FenceRing<Env>::StreamEntry* FenceRing<Env>::NoteLocked(const NotedLaunches& noted) {
  StreamEntry* e = FindStream(noted.stream, noted.dev, /*create=*/true);
  if (e != nullptr) {
    if (e->pending == 0 || noted.since_ns < e->seg_start_ns) {
      e->seg_start_ns = noted.since_ns;
    }
    e->pending += noted.n;
    e->epoch = noted.epoch;
  }
  return e;
}

template <typename Env>
void FenceRing<Env>::AddOverrun(const Slot& s, uint32_t dev, uint64_t end_ns, uint64_t seg_ns,
                                bool dev_sampled, uint64_t dev_gap_ns) {
  if (s.epoch == 0 || s.chip == nullptr) {
    return;
  }
  uint64_t w = __atomic_load_n(&s.chip->grant_word, __ATOMIC_ACQUIRE);
  uint64_t current = w >> 16;
  // Rate samples come from fences completed inside our grant, after the previous fence of the
  // same grant: our own work (plus host gaps, which only make the rate, and so the bounds
  // below, looser). Until there is one, a deep queue can make every fence complete after its
  // grant: the first samples are then taken from those too (the interval may include another
  // tenant's work, so the rate starts high and the budget strict, and converges once fences
  // complete in time).
  if (dev_sampled && s.launches > 0 && (current == s.epoch || ns_per_launch_[dev] == 0)) {
    uint64_t& ns = ema_ns_[dev];
    uint64_t& l16 = ema_launches_x16_[dev];
    uint64_t launches16 = static_cast<uint64_t>(s.launches) * 16;
    ns = ns == 0 ? dev_gap_ns : (ns * 7 + dev_gap_ns) / 8;
    l16 = l16 == 0 ? launches16 : (l16 * 7 + launches16) / 8;
    // Atomic store: InflightOverBudget reads it without the mutex.
    __atomic_store_n(&ns_per_launch_[dev], l16 == 0 ? 0 : ns * 16 / l16, __ATOMIC_RELAXED);
  }
  uint64_t part = OverrunPart(*s.chip, s.epoch, s.token, end_ns);
  uint64_t rate = ns_per_launch_[dev];
  if (rate != 0 && rate * static_cast<uint64_t>(s.launches) < seg_ns) {
    seg_ns = rate * static_cast<uint64_t>(s.launches);
  }
  AccountOverrun(s.td, &overrun_[dev], s.epoch, part, seg_ns);
}

// BeginHead: claims `dev`'s queue head for checking. kNone: the queue is empty or its head is
// `newest`; kOtherThread: another thread is checking it (h->event and h->td are set).
// REQUIRES mu_.
template <typename Env>
typename FenceRing<Env>::HeadClaim FenceRing<Env>::BeginHead(uint32_t dev, int16_t newest,
                                                             HeadCheck* h) {
  DeviceQueue& q = queues_[dev];
  if (q.count == 0 || q.ring[q.head] == newest) {
    return HeadClaim::kNone;
  }
  int16_t i = q.ring[q.head];
  Slot& s = slots_[i];
  *h = HeadCheck{};
  h->slot = i;
  h->event = s.event;
  h->td = s.td;
  if (s.state == fence_detail::kChecking) {
    return HeadClaim::kOtherThread;
  }
  s.state = fence_detail::kChecking;
  h->seg_start_ns = s.seg_start_ns;
  h->prev_event =
      s.prev >= 0 && slots_[s.prev].state == fence_detail::kDone ? slots_[s.prev].event : nullptr;
  // Only the thread checking the head changes the anchor, so it stays valid meanwhile.
  int16_t a = dev_anchor_[dev];
  h->anchor = a;
  h->anchor_event =
      a >= 0 && slots_[a].state == fence_detail::kDone && slots_[a].epoch == s.epoch && s.epoch != 0
          ? slots_[a].event
          : nullptr;
  return HeadClaim::kClaimed;
}

// QueryHead: queries the claimed head (synchronises on it when `enforce`). No lock held.
template <typename Env>
void FenceRing<Env>::QueryHead(HeadCheck* h, bool enforce) {
  int status = 0;
  RtError rc = env.Query(h->event, &status);
  h->done = rc == kRtSuccess && status == fence_detail::kEventRecorded;
  if (!h->done && rc == kRtSuccess && enforce) {
    __atomic_fetch_add(&h->td->syncing, 1, __ATOMIC_ACQ_REL);
    rc = env.Sync(h->event);
    __atomic_fetch_sub(&h->td->syncing, 1, __ATOMIC_ACQ_REL);
    h->done = rc == kRtSuccess;
  }
  h->failed = rc != kRtSuccess;
}

// MeasureHead: the completed head's device time; `observed_ns` is a clock reading taken after
// QueryHead found it complete. No lock held: runtime calls only.
template <typename Env>
void FenceRing<Env>::MeasureHead(HeadCheck* h, uint64_t observed_ns) {
  h->observed_ns = observed_ns;
  h->seg_ns = observed_ns > h->seg_start_ns ? observed_ns - h->seg_start_ns : 0;
  float ms = 0;
  if (h->prev_event != nullptr && env.Elapsed(&ms, h->prev_event, h->event) == kRtSuccess &&
      ms >= 0) {
    double ns = static_cast<double>(ms) * 1e6;
    if (ns < static_cast<double>(h->seg_ns)) {
      h->seg_ns = static_cast<uint64_t>(ns);
    }
  }
  if (h->anchor_event != nullptr && env.Elapsed(&ms, h->anchor_event, h->event) == kRtSuccess) {
    // A fence of another stream may have completed before the anchor (record order is not
    // completion order): it adds launches but no time, and the anchor stays the latest.
    h->dev_sampled = true;
    h->dev_gap_ns = ms > 0 ? static_cast<uint64_t>(static_cast<double>(ms) * 1e6) : 0;
    h->keep_anchor = ms < 0;
  }
}

// FinishHead: accounts the checked head and retires it; a head still running goes back to
// outstanding. Returns whether it was retired. REQUIRES mu_.
template <typename Env>
bool FenceRing<Env>::FinishHead(uint32_t dev, const HeadCheck& h) {
  Slot& s = slots_[h.slot];
  if (!h.done && !h.failed) {
    s.state = fence_detail::kOutstanding;
    return false;
  }
  // A failing query or synchronize drops the fence unmeasured rather than wedging the queue.
  PopHead(dev);
  if (h.done) {
    __atomic_fetch_add(&h.td->device_ns, h.seg_ns, __ATOMIC_RELEASE);
    AddOverrun(s, dev, h.observed_ns, h.seg_ns, h.dev_sampled, h.dev_gap_ns);
    if (!h.keep_anchor) {
      if (h.anchor >= 0 && h.anchor != h.slot) {
        slots_[h.anchor].dev_anchor = false;
        MaybeFree(h.anchor);
      }
      dev_anchor_[dev] = h.slot;
      s.dev_anchor = true;
    }
  }
  if (s.prev >= 0) {
    slots_[s.prev].successor = false;
    MaybeFree(s.prev);
    s.prev = -1;
  }
  s.state = fence_detail::kDone;
  MaybeFree(h.slot);
  return true;
}

// ProcessHead: processes the head of `dev`'s queue (not `newest`). Returns false when there is
// nothing (more) to do now.
template <typename Env>
bool FenceRing<Env>::ProcessHead(uint32_t dev, Wait wait, int16_t newest) {
  pthread_mutex_lock(&mu_);
  bool enforce = wait == Wait::kAlways ||
                 (wait == Wait::kOverBound && queues_[dev].launches > kMaxQueuedLaunches);
  HeadCheck h;
  HeadClaim claim =
      wait == Wait::kOverBound && !enforce ? HeadClaim::kNone : BeginHead(dev, newest, &h);
  pthread_mutex_unlock(&mu_);
  if (claim == HeadClaim::kNone) {
    return false;
  }
  if (claim == HeadClaim::kOtherThread) {
    // Over the bound we wait for the same event (synchronising a completed or re-recorded
    // event is harmless), then let that thread finish the head.
    if (!enforce) {
      return false;
    }
    __atomic_fetch_add(&h.td->syncing, 1, __ATOMIC_ACQ_REL);
    env.Sync(h.event);
    __atomic_fetch_sub(&h.td->syncing, 1, __ATOMIC_ACQ_REL);
    env.Yield();
    return true;
  }
  QueryHead(&h, enforce);
  if (h.done) {
    MeasureHead(&h, env.Now());
  }
  pthread_mutex_lock(&mu_);
  bool retired = FinishHead(dev, h);
  pthread_mutex_unlock(&mu_);
  return retired;
}

template <typename Env>
void FenceRing<Env>::Poll(uint32_t dev, Wait wait, int16_t newest) {
  // Bounded: each round retires one fence or stops; the queue holds at most kFencePool.
  // The mask check keeps an empty queue (the common case once fences complete) lock-free.
  for (int round = 0; round < 2 * kFencePool &&
                      (outstanding_mask_.load(std::memory_order_relaxed) & (1u << dev)) != 0 &&
                      ProcessHead(dev, wait, newest);
       ++round) {
  }
}

// InflightOverBudget: whether the device's queued work, estimated as launches × device time
// per launch, would run more than kInflightSlackNs past `slice_end_ns`. *credit is the number
// of launches that still fit (at least 1, at most kLaunchCredit).
template <typename Env>
bool FenceRing<Env>::InflightOverBudget(uint32_t dev, uint64_t slice_end_ns, uint64_t now,
                                        int32_t* credit) {
  *credit = kLaunchCredit;
  uint64_t rate = __atomic_load_n(&ns_per_launch_[dev], __ATOMIC_RELAXED);
  if (rate == 0) {
    return false;  // no estimate yet: only the hard bound applies
  }
  int32_t launches = QueuedLaunches(dev);
  // Past the slice's end the grant may be revoked at the arbiter's next tick.
  uint64_t budget = (slice_end_ns > now ? slice_end_ns - now : 0) + kInflightSlackNs;
  uint64_t queued = rate * static_cast<uint64_t>(launches);
  if (queued > budget) {
    *credit = 1;
    return launches > fence_detail::kMinInflightLaunches;  // never drain: no device bubble
  }
  uint64_t fit = (budget - queued) / rate;
  *credit = fit < 1                                      ? 1
            : fit > static_cast<uint64_t>(kLaunchCredit) ? kLaunchCredit
                                                         : static_cast<int32_t>(fit);
  return false;
}

template <typename Env>
void FenceRing<Env>::NoteLaunches(const NotedLaunches& noted) {
  if (noted.n <= 0 || noted.dev >= VNPU_MAX_DEVICES || !FencesEnabled()) {
    return;
  }
  pthread_mutex_lock(&mu_);
  NoteLocked(noted);
  pthread_mutex_unlock(&mu_);
}

template <typename Env>
int32_t FenceRing<Env>::BeforeLaunch(const NotedLaunches* noted, void* stream,
                                     const FenceTarget& target, uint64_t owned_epoch,
                                     uint64_t* now_ns) {
  if (target.dev >= VNPU_MAX_DEVICES || !env.Resolve()) {
    if (noted != nullptr) {
      NoteLaunches(*noted);
    }
    *now_ns = env.Now();
    return kLaunchCredit;
  }
  uint32_t dev = target.dev;
  bool may_record = !no_record_.load(std::memory_order_relaxed);
  // One locked section notes the previous launches, reserves the fence's slot and claims the
  // queue's head; one more, after the runtime calls, commits the fence and accounts the head.
  pthread_mutex_lock(&mu_);
  StreamEntry* e = nullptr;
  if (noted != nullptr && noted->n > 0 && noted->dev < VNPU_MAX_DEVICES && may_record) {
    e = NoteLocked(*noted);
    if (e != nullptr && (e->stream != stream || e->dev != dev)) {
      e = nullptr;
    }
  }
  if (e == nullptr && may_record) {
    e = FindStream(stream, dev, /*create=*/false);
  }
  int16_t slot = -1;
  if (e != nullptr && e->pending > 0 && !e->recording) {
    slot = ReserveSlot();
  }
  void* event = nullptr;
  int32_t launches = 0;
  uint64_t seg_start = 0;
  uint64_t epoch = 0;
  if (slot >= 0) {
    Slot& s = slots_[slot];
    s.state = fence_detail::kRecording;
    e->recording = true;
    event = s.event;
    launches = e->pending;
    seg_start = e->seg_start_ns;
    epoch = e->epoch;  // the grant its launches were made under (the fast path sees epochs)
  }
  HeadCheck head;
  bool have_head = BeginHead(dev, -1, &head) == HeadClaim::kClaimed;
  pthread_mutex_unlock(&mu_);

  bool created = true;
  RtError rc = kRtSuccess;
  if (slot >= 0) {
    created = event != nullptr;
    if (!created) {
      created = env.CreateEvent(&event) == kRtSuccess && event != nullptr;
    }
    // A failing record (e.g. a stream being captured into a graph) drops this fence only; its
    // launches stay unmeasured.
    rc = created ? env.Record(event, stream) : kRtInternalError;
  }
  if (have_head) {
    QueryHead(&head, /*enforce=*/false);
  }
  // The slow path's one clock reading: taken after the head was found complete (so it is a
  // valid observation time for it) and returned as the caller's "now".
  uint64_t now = env.Now();
  if (have_head && head.done) {
    MeasureHead(&head, now);
  }
  pthread_mutex_lock(&mu_);
  if (slot >= 0) {
    Slot& s = slots_[slot];
    // The entry cannot have been evicted or reused meanwhile: eviction skips recording entries.
    // Other threads may have noted launches on it meanwhile: only ours are taken off.
    e->recording = false;
    if (rc == kRtSuccess) {
      s.event = event;
      s.td = target.td;
      s.chip = target.chip;
      s.token = target.token;
      s.epoch = epoch;
      s.seg_start_ns = seg_start;
      s.launches = launches;
      s.prev = e->last;
      s.is_last = true;
      s.successor = false;
      s.dev_anchor = false;
      if (e->last >= 0) {
        slots_[e->last].is_last = false;
        slots_[e->last].successor = true;
      }
      e->last = slot;
      e->pending -= launches;
      s.state = fence_detail::kOutstanding;
      Push(dev, slot);
    } else {
      s.event = created ? event : nullptr;  // a created event is kept for reuse
      s.state = fence_detail::kFree;
      e->pending -= launches;
    }
  }
  // More completed fences may follow a retired head; the fence just recorded is left to the
  // next poll (it has rarely completed yet, and checking it costs two more locked sections).
  bool more = have_head && FinishHead(dev, head) && queues_[dev].count > 0 &&
              queues_[dev].ring[queues_[dev].head] != slot;
  pthread_mutex_unlock(&mu_);
  if (!created && !no_record_.exchange(true, std::memory_order_relaxed)) {
    env.LogDisabled("rtEventCreate failed");
  }
  if (more) {
    Poll(dev, Wait::kNever, slot);
  }
  if (QueuedLaunches(dev) > kMaxQueuedLaunches) {
    Poll(dev, Wait::kOverBound);
    now = env.Now();
  }
  int32_t credit = kLaunchCredit;
  if (owned_epoch != 0 && target.chip != nullptr) {
    // In-flight budget: what we queue while holding a grant should finish by the slice's end
    // (+ slack), so that little of it runs in the next tenant's grant.
    uint64_t slice_end = __atomic_load_n(&target.chip->slice_end_ns, __ATOMIC_ACQUIRE);
    for (int round = 0; round < kFencePool && InflightOverBudget(dev, slice_end, now, &credit);
         ++round) {
      ProcessHead(dev, Wait::kAlways);
      now = env.Now();
    }
  }
  *now_ns = now;
  return credit;
}

template <typename Env>
void FenceRing<Env>::PollDevice(uint32_t dev) {
  if (dev < VNPU_MAX_DEVICES && Outstanding(dev) && env.Resolve()) {
    Poll(dev, Wait::kNever);
  }
}

// ResetAfterForkChild: forgets every fence and stream of the parent (its events belong to the
// parent's runtime context: not destroyed) and resets the mutex. The environment is kept.
template <typename Env>
void FenceRing<Env>::ResetAfterForkChild() {
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  mu_ = fresh;
  for (Slot& s : slots_) {
    s = Slot{};
    s.prev = -1;
  }
  for (StreamEntry& e : streams_) {
    e = StreamEntry{};
  }
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    queues_[d] = DeviceQueue{};
    overrun_[d] = OverrunState{};
    ns_per_launch_[d] = 0;
    ema_ns_[d] = 0;
    ema_launches_x16_[d] = 0;
    dev_anchor_[d] = -1;
  }
  outstanding_mask_.store(0, std::memory_order_relaxed);
}

template <typename Env>
int32_t FenceRing<Env>::OutstandingFences(uint32_t dev) {
  pthread_mutex_lock(&mu_);
  int32_t n = dev < VNPU_MAX_DEVICES ? queues_[dev].count : 0;
  pthread_mutex_unlock(&mu_);
  return n;
}

template <typename Env>
int32_t FenceRing<Env>::QueuedLaunchesOf(uint32_t dev) {
  pthread_mutex_lock(&mu_);
  int32_t n = dev < VNPU_MAX_DEVICES ? queues_[dev].launches : 0;
  pthread_mutex_unlock(&mu_);
  return n;
}

template <typename Env>
int32_t FenceRing<Env>::PendingLaunches(void* stream, uint32_t dev) {
  pthread_mutex_lock(&mu_);
  int32_t n = -1;
  for (const StreamEntry& e : streams_) {
    if (e.used && e.stream == stream && e.dev == dev) {
      n = e.pending;
    }
  }
  pthread_mutex_unlock(&mu_);
  return n;
}

template <typename Env>
int32_t FenceRing<Env>::FreeSlots() {
  pthread_mutex_lock(&mu_);
  int32_t n = 0;
  for (const Slot& s : slots_) {
    n += s.state == fence_detail::kFree ? 1 : 0;
  }
  pthread_mutex_unlock(&mu_);
  return n;
}

template <typename Env>
uint64_t FenceRing<Env>::NsPerLaunch(uint32_t dev) {
  return dev < VNPU_MAX_DEVICES ? __atomic_load_n(&ns_per_launch_[dev], __ATOMIC_RELAXED) : 0;
}

}  // namespace npushare::vnpu
