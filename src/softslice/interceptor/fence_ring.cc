// File: softslice/interceptor/fence_ring.cc
#include "softslice/interceptor/fence_ring.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

#include <atomic>

#include "softslice/interceptor/ledger.h"
#include "softslice/interceptor/log.h"
#include "softslice/interceptor/overrun.h"
#include "softslice/interceptor/process_state.h"
#include "softslice/interceptor/rt_abi.h"

namespace npushare::vnpu {
namespace {

using EventCreateFn = RtError (*)(void**);
using EventCreateWithFlagFn = RtError (*)(void**, uint32_t);
using EventRecordFn = RtError (*)(void*, void*);
using EventQueryFn = RtError (*)(void*, int*);  // rtEventStatus_t is an int-sized C enum
using EventSyncFn = RtError (*)(void*);
using EventElapsedFn = RtError (*)(float*, void*, void*);

constexpr int kEventRecorded = 1;         // RT_EVENT_RECORDED: the recorded point was reached
constexpr uint32_t kEventTimeLine = 0x8;  // RT_EVENT_TIME_LINE: the event carries a timestamp

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

struct Api {
  EventCreateFn create;
  EventCreateWithFlagFn create_with_flag;
  EventRecordFn record;
  EventQueryFn query;
  EventSyncFn sync;
  EventElapsedFn elapsed;  // optional: without it only the host-time bound is used
};

constinit pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
constinit std::atomic<int> g_state{0};           // 0 unresolved, 1 resolved, 2 functions missing
constinit std::atomic<bool> g_no_record{false};  // creating events failed: no new fences
constinit Api g_api = {};
constinit Slot g_slots[kFencePool] = {};
constinit StreamEntry g_streams[kFenceStreams] = {};
constinit DeviceQueue g_queues[VNPU_MAX_DEVICES] = {};
constinit OverrunState g_overrun[VNPU_MAX_DEVICES] = {};
// Device time per launch. Another tenant's work interleaves with our tail after a grant ends,
// so a segment's span then overstates our device time; launches × this rate bounds it.
// Per device: EMAs of the device time between consecutive completed fences (any stream) and of
// the launches those fences cover. The intervals between consecutive completions tile the
// device's timeline, so their ratio is the device time per launch even when the process's
// streams run interleaved (a per-stream span would count the other streams' work too).
constinit uint64_t g_ns_per_launch[VNPU_MAX_DEVICES] = {};
constinit uint64_t g_ema_ns[VNPU_MAX_DEVICES] = {};
constinit uint64_t g_ema_launches_x16[VNPU_MAX_DEVICES] = {};  // fixed point, × 16
constinit int16_t g_dev_anchor[VNPU_MAX_DEVICES] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                    -1, -1, -1, -1, -1, -1, -1, -1};
// Queued launches always allowed under the in-flight budget, so that the device does not idle
// while the host turns around.
constexpr int32_t kMinInflightLaunches = 2;
constinit uint64_t g_lru = 0;
constinit std::atomic<uint32_t> g_outstanding_mask{0};  // bit d: device d has queued fences

void LogDisabled(const char* why) {
  Log("event fences disabled (%s): device time is not measured, queued work not bounded", why);
}

bool Resolve() {
  int s = g_state.load(std::memory_order_acquire);
  if (s != 0) {
    return s == 1;
  }
  Api api;
  api.create = Real<EventCreateFn>(Fn::kRtEventCreate);
  api.create_with_flag = Real<EventCreateWithFlagFn>(Fn::kRtEventCreateWithFlag);
  api.record = Real<EventRecordFn>(Fn::kRtEventRecord);
  api.query = Real<EventQueryFn>(Fn::kRtEventQueryStatus);
  api.sync = Real<EventSyncFn>(Fn::kRtEventSynchronize);
  api.elapsed = Real<EventElapsedFn>(Fn::kRtEventElapsedTime);
  if ((api.create == nullptr && api.create_with_flag == nullptr) || api.record == nullptr ||
      api.query == nullptr || api.sync == nullptr) {
    if (g_state.exchange(2, std::memory_order_acq_rel) != 2) {
      LogDisabled("runtime lacks rtEventCreate/Record/QueryStatus/Synchronize");
    }
    return false;
  }
  pthread_mutex_lock(&g_mu);
  if (g_state.load(std::memory_order_relaxed) == 0) {
    g_api = api;
    g_state.store(1, std::memory_order_release);
  }
  pthread_mutex_unlock(&g_mu);
  return g_state.load(std::memory_order_acquire) == 1;
}

// --- Table helpers; REQUIRES g_mu. ---

void MaybeFree(int16_t i) {
  Slot& s = g_slots[i];
  if (s.state == kDone && !s.is_last && !s.successor && !s.dev_anchor) {
    s.state = kFree;
    s.prev = -1;
  }
}

StreamEntry* FindStream(void* stream, uint32_t dev, bool create) {
  StreamEntry* victim = nullptr;
  for (StreamEntry& e : g_streams) {
    if (e.used && e.stream == stream && e.dev == dev) {
      e.lru = ++g_lru;
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
    g_slots[victim->last].is_last = false;
    MaybeFree(victim->last);
  }
  *victim = StreamEntry{};
  victim->stream = stream;
  victim->dev = static_cast<uint8_t>(dev);
  victim->last = -1;
  victim->used = true;
  victim->lru = ++g_lru;
  return victim;
}

int16_t ReserveSlot() {
  // Prefer a free slot whose event already exists (no creation on the slow path).
  int16_t fresh = -1;
  for (int16_t i = 0; i < kFencePool; ++i) {
    if (g_slots[i].state == kFree) {
      if (g_slots[i].event != nullptr) {
        return i;
      }
      if (fresh < 0) {
        fresh = i;
      }
    }
  }
  return fresh;
}

void Push(uint32_t dev, int16_t slot) {
  DeviceQueue& q = g_queues[dev];
  q.ring[(q.head + q.count) % kFencePool] = slot;
  ++q.count;
  // Atomic store: read without the mutex (QueuedLaunches).
  __atomic_store_n(&q.launches, q.launches + g_slots[slot].launches, __ATOMIC_RELAXED);
  g_outstanding_mask.fetch_or(1u << dev, std::memory_order_relaxed);
}

void PopHead(uint32_t dev) {
  DeviceQueue& q = g_queues[dev];
  __atomic_store_n(&q.launches, q.launches - g_slots[q.ring[q.head]].launches, __ATOMIC_RELAXED);
  q.head = (q.head + 1) % kFencePool;
  --q.count;
  if (q.count == 0) {
    g_outstanding_mask.fetch_and(~(1u << dev), std::memory_order_relaxed);
  }
}

// NoteLocked: FenceNoteLaunches' bookkeeping; returns the stream's entry (nullptr when none
// could be made). REQUIRES g_mu.
StreamEntry* NoteLocked(const NotedLaunches& noted) {
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

void AddOverrun(const Slot& s, uint32_t dev, uint64_t end_ns, uint64_t seg_ns, bool dev_sampled,
                uint64_t dev_gap_ns) {
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
  if (dev_sampled && s.launches > 0 && (current == s.epoch || g_ns_per_launch[dev] == 0)) {
    uint64_t& ns = g_ema_ns[dev];
    uint64_t& l16 = g_ema_launches_x16[dev];
    uint64_t launches16 = static_cast<uint64_t>(s.launches) * 16;
    ns = ns == 0 ? dev_gap_ns : (ns * 7 + dev_gap_ns) / 8;
    l16 = l16 == 0 ? launches16 : (l16 * 7 + launches16) / 8;
    // Atomic store: InflightOverBudget reads it without the mutex.
    __atomic_store_n(&g_ns_per_launch[dev], l16 == 0 ? 0 : ns * 16 / l16, __ATOMIC_RELAXED);
  }
  uint64_t part = OverrunPart(*s.chip, s.epoch, s.token, end_ns);
  uint64_t rate = g_ns_per_launch[dev];
  if (rate != 0 && rate * static_cast<uint64_t>(s.launches) < seg_ns) {
    seg_ns = rate * static_cast<uint64_t>(s.launches);
  }
  AccountOverrun(s.td, &g_overrun[dev], s.epoch, part, seg_ns);
}

enum class Wait : uint8_t {
  kNever,      // only fences already complete
  kOverBound,  // wait for the head while the queue covers more than kMaxQueuedLaunches
  kAlways,     // wait for the head
};

// HeadCheck: one check of a device's queue head. BeginHead fills the first part under g_mu,
// QueryHead and MeasureHead the rest without it (runtime calls), FinishHead accounts it under
// g_mu again.
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

// BeginHead: claims `dev`'s queue head for checking. kNone: the queue is empty or its head is
// `newest`; kOtherThread: another thread is checking it (h->event and h->td are set).
// REQUIRES g_mu.
HeadClaim BeginHead(uint32_t dev, int16_t newest, HeadCheck* h) {
  DeviceQueue& q = g_queues[dev];
  if (q.count == 0 || q.ring[q.head] == newest) {
    return HeadClaim::kNone;
  }
  int16_t i = q.ring[q.head];
  Slot& s = g_slots[i];
  *h = HeadCheck{};
  h->slot = i;
  h->event = s.event;
  h->td = s.td;
  if (s.state == kChecking) {
    return HeadClaim::kOtherThread;
  }
  s.state = kChecking;
  h->seg_start_ns = s.seg_start_ns;
  h->prev_event = s.prev >= 0 && g_slots[s.prev].state == kDone ? g_slots[s.prev].event : nullptr;
  // Only the thread checking the head changes the anchor, so it stays valid meanwhile.
  int16_t a = g_dev_anchor[dev];
  h->anchor = a;
  h->anchor_event =
      a >= 0 && g_slots[a].state == kDone && g_slots[a].epoch == s.epoch && s.epoch != 0
          ? g_slots[a].event
          : nullptr;
  return HeadClaim::kClaimed;
}

// QueryHead: queries the claimed head (synchronises on it when `enforce`). No lock held.
void QueryHead(HeadCheck* h, bool enforce) {
  int status = 0;
  RtError rc = g_api.query(h->event, &status);
  h->done = rc == kRtSuccess && status == kEventRecorded;
  if (!h->done && rc == kRtSuccess && enforce) {
    __atomic_fetch_add(&h->td->syncing, 1, __ATOMIC_ACQ_REL);
    rc = g_api.sync(h->event);
    __atomic_fetch_sub(&h->td->syncing, 1, __ATOMIC_ACQ_REL);
    h->done = rc == kRtSuccess;
  }
  h->failed = rc != kRtSuccess;
}

// MeasureHead: the completed head's device time; `observed_ns` is a clock reading taken after
// QueryHead found it complete. No lock held: runtime calls only.
void MeasureHead(HeadCheck* h, uint64_t observed_ns) {
  h->observed_ns = observed_ns;
  h->seg_ns = observed_ns > h->seg_start_ns ? observed_ns - h->seg_start_ns : 0;
  float ms = 0;
  if (h->prev_event != nullptr && g_api.elapsed != nullptr &&
      g_api.elapsed(&ms, h->prev_event, h->event) == kRtSuccess && ms >= 0) {
    double ns = static_cast<double>(ms) * 1e6;
    if (ns < static_cast<double>(h->seg_ns)) {
      h->seg_ns = static_cast<uint64_t>(ns);
    }
  }
  if (h->anchor_event != nullptr && g_api.elapsed != nullptr &&
      g_api.elapsed(&ms, h->anchor_event, h->event) == kRtSuccess) {
    // A fence of another stream may have completed before the anchor (record order is not
    // completion order): it adds launches but no time, and the anchor stays the latest.
    h->dev_sampled = true;
    h->dev_gap_ns = ms > 0 ? static_cast<uint64_t>(static_cast<double>(ms) * 1e6) : 0;
    h->keep_anchor = ms < 0;
  }
}

// FinishHead: accounts the checked head and retires it; a head still running goes back to
// outstanding. Returns whether it was retired. REQUIRES g_mu.
bool FinishHead(uint32_t dev, const HeadCheck& h) {
  Slot& s = g_slots[h.slot];
  if (!h.done && !h.failed) {
    s.state = kOutstanding;
    return false;
  }
  // A failing query or synchronize drops the fence unmeasured rather than wedging the queue.
  PopHead(dev);
  if (h.done) {
    __atomic_fetch_add(&h.td->device_ns, h.seg_ns, __ATOMIC_RELEASE);
    AddOverrun(s, dev, h.observed_ns, h.seg_ns, h.dev_sampled, h.dev_gap_ns);
    if (!h.keep_anchor) {
      if (h.anchor >= 0 && h.anchor != h.slot) {
        g_slots[h.anchor].dev_anchor = false;
        MaybeFree(h.anchor);
      }
      g_dev_anchor[dev] = h.slot;
      s.dev_anchor = true;
    }
  }
  if (s.prev >= 0) {
    g_slots[s.prev].successor = false;
    MaybeFree(s.prev);
    s.prev = -1;
  }
  s.state = kDone;
  MaybeFree(h.slot);
  return true;
}

// Processes the head of `dev`'s queue (not `newest`). Returns false when there is nothing
// (more) to do now.
bool ProcessHead(uint32_t dev, Wait wait, int16_t newest = -1) {
  pthread_mutex_lock(&g_mu);
  bool enforce = wait == Wait::kAlways ||
                 (wait == Wait::kOverBound && g_queues[dev].launches > kMaxQueuedLaunches);
  HeadCheck h;
  HeadClaim claim =
      wait == Wait::kOverBound && !enforce ? HeadClaim::kNone : BeginHead(dev, newest, &h);
  pthread_mutex_unlock(&g_mu);
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
    g_api.sync(h.event);
    __atomic_fetch_sub(&h.td->syncing, 1, __ATOMIC_ACQ_REL);
    sched_yield();
    return true;
  }
  QueryHead(&h, enforce);
  if (h.done) {
    MeasureHead(&h, MonotonicNs());
  }
  pthread_mutex_lock(&g_mu);
  bool retired = FinishHead(dev, h);
  pthread_mutex_unlock(&g_mu);
  return retired;
}

// QueuedLaunches: Σ launches of `dev`'s outstanding fences, read without the mutex (a
// snapshot: good enough for a bound that is re-checked under it).
int32_t QueuedLaunches(uint32_t dev) {
  return __atomic_load_n(&g_queues[dev].launches, __ATOMIC_RELAXED);
}

void Poll(uint32_t dev, Wait wait, int16_t newest = -1) {
  // Bounded: each round retires one fence or stops; the queue holds at most kFencePool.
  // The mask check keeps an empty queue (the common case once fences complete) lock-free.
  for (int round = 0; round < 2 * kFencePool &&
                      (g_outstanding_mask.load(std::memory_order_relaxed) & (1u << dev)) != 0 &&
                      ProcessHead(dev, wait, newest);
       ++round) {
  }
}

// InflightOverBudget: whether the device's queued work, estimated as launches × device time
// per launch, would run more than kInflightSlackNs past `slice_end_ns`. *credit is the number
// of launches that still fit (at least 1, at most kLaunchCredit).
bool InflightOverBudget(uint32_t dev, uint64_t slice_end_ns, uint64_t now, int32_t* credit) {
  *credit = kLaunchCredit;
  uint64_t rate = __atomic_load_n(&g_ns_per_launch[dev], __ATOMIC_RELAXED);
  if (rate == 0) {
    return false;  // no estimate yet: only the hard bound applies
  }
  int32_t launches = QueuedLaunches(dev);
  // Past the slice's end the grant may be revoked at the arbiter's next tick.
  uint64_t budget = (slice_end_ns > now ? slice_end_ns - now : 0) + kInflightSlackNs;
  uint64_t queued = rate * static_cast<uint64_t>(launches);
  if (queued > budget) {
    *credit = 1;
    return launches > kMinInflightLaunches;  // never drain completely: no device bubble
  }
  uint64_t fit = (budget - queued) / rate;
  *credit = fit < 1                                      ? 1
            : fit > static_cast<uint64_t>(kLaunchCredit) ? kLaunchCredit
                                                         : static_cast<int32_t>(fit);
  return false;
}

// FencesEnabled: false once fencing was disabled (missing/failing event functions).
bool FencesEnabled() {
  return g_state.load(std::memory_order_acquire) != 2 &&
         !g_no_record.load(std::memory_order_relaxed);
}

}  // namespace

void FenceNoteLaunches(const NotedLaunches& noted) {
  if (noted.n <= 0 || noted.dev >= VNPU_MAX_DEVICES || !FencesEnabled()) {
    return;
  }
  pthread_mutex_lock(&g_mu);
  NoteLocked(noted);
  pthread_mutex_unlock(&g_mu);
}

int32_t FenceBeforeLaunch(const NotedLaunches* noted, void* stream, const FenceTarget& target,
                          uint64_t owned_epoch, uint64_t* now_ns) {
  if (target.dev >= VNPU_MAX_DEVICES || !Resolve()) {
    if (noted != nullptr) {
      FenceNoteLaunches(*noted);
    }
    *now_ns = MonotonicNs();
    return kLaunchCredit;
  }
  uint32_t dev = target.dev;
  bool may_record = !g_no_record.load(std::memory_order_relaxed);
  // One locked section notes the previous launches, reserves the fence's slot and claims the
  // queue's head; one more, after the runtime calls, commits the fence and accounts the head.
  pthread_mutex_lock(&g_mu);
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
    Slot& s = g_slots[slot];
    s.state = kRecording;
    e->recording = true;
    event = s.event;
    launches = e->pending;
    seg_start = e->seg_start_ns;
    epoch = e->epoch;  // the grant its launches were made under (the fast path sees epochs)
  }
  HeadCheck head;
  bool have_head = BeginHead(dev, -1, &head) == HeadClaim::kClaimed;
  pthread_mutex_unlock(&g_mu);

  bool created = true;
  RtError rc = kRtSuccess;
  if (slot >= 0) {
    created = event != nullptr;
    if (!created) {
      RtError crc = g_api.create_with_flag != nullptr
                        ? g_api.create_with_flag(&event, kEventTimeLine)
                        : g_api.create(&event);
      if (crc != kRtSuccess && g_api.create != nullptr) {
        crc = g_api.create(&event);
      }
      created = crc == kRtSuccess && event != nullptr;
    }
    // A failing record (e.g. a stream being captured into a graph) drops this fence only; its
    // launches stay unmeasured.
    rc = created ? g_api.record(event, stream) : kRtInternalError;
  }
  if (have_head) {
    QueryHead(&head, /*enforce=*/false);
  }
  // The slow path's one clock reading: taken after the head was found complete (so it is a
  // valid observation time for it) and returned as the caller's "now".
  uint64_t now = MonotonicNs();
  if (have_head && head.done) {
    MeasureHead(&head, now);
  }
  pthread_mutex_lock(&g_mu);
  if (slot >= 0) {
    Slot& s = g_slots[slot];
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
        g_slots[e->last].is_last = false;
        g_slots[e->last].successor = true;
      }
      e->last = slot;
      e->pending -= launches;
      s.state = kOutstanding;
      Push(dev, slot);
    } else {
      s.event = created ? event : nullptr;  // a created event is kept for reuse
      s.state = kFree;
      e->pending -= launches;
    }
  }
  // More completed fences may follow a retired head; the fence just recorded is left to the
  // next poll (it has rarely completed yet, and checking it costs two more locked sections).
  bool more = have_head && FinishHead(dev, head) && g_queues[dev].count > 0 &&
              g_queues[dev].ring[g_queues[dev].head] != slot;
  pthread_mutex_unlock(&g_mu);
  if (!created && !g_no_record.exchange(true, std::memory_order_relaxed)) {
    LogDisabled("rtEventCreate failed");
  }
  if (more) {
    Poll(dev, Wait::kNever, slot);
  }
  if (QueuedLaunches(dev) > kMaxQueuedLaunches) {
    Poll(dev, Wait::kOverBound);
    now = MonotonicNs();
  }
  int32_t credit = kLaunchCredit;
  if (owned_epoch != 0 && target.chip != nullptr) {
    // In-flight budget: what we queue while holding a grant should finish by the slice's end
    // (+ slack), so that little of it runs in the next tenant's grant.
    uint64_t slice_end = __atomic_load_n(&target.chip->slice_end_ns, __ATOMIC_ACQUIRE);
    for (int round = 0; round < kFencePool && InflightOverBudget(dev, slice_end, now, &credit);
         ++round) {
      ProcessHead(dev, Wait::kAlways);
      now = MonotonicNs();
    }
  }
  *now_ns = now;
  return credit;
}

void FencePoll(uint32_t dev) {
  if (dev < VNPU_MAX_DEVICES && FencesOutstanding(dev) && Resolve()) {
    Poll(dev, Wait::kNever);
  }
}

bool FencesOutstanding(uint32_t dev) {
  return dev < VNPU_MAX_DEVICES &&
         (g_outstanding_mask.load(std::memory_order_relaxed) & (1u << dev)) != 0;
}

void FenceAfterForkChild() {
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&g_mu, &fresh, sizeof(fresh));
  // The parent's events belong to its runtime context: forget them (not destroyed).
  memset(static_cast<void*>(g_slots), 0, sizeof(g_slots));
  memset(static_cast<void*>(g_streams), 0, sizeof(g_streams));
  memset(static_cast<void*>(g_queues), 0, sizeof(g_queues));
  memset(static_cast<void*>(g_overrun), 0, sizeof(g_overrun));
  memset(g_ns_per_launch, 0, sizeof(g_ns_per_launch));
  memset(g_ema_ns, 0, sizeof(g_ema_ns));
  memset(g_ema_launches_x16, 0, sizeof(g_ema_launches_x16));
  for (int16_t& a : g_dev_anchor) {
    a = -1;
  }
  for (Slot& s : g_slots) {
    s.prev = -1;
  }
  g_outstanding_mask.store(0, std::memory_order_relaxed);
}

}  // namespace npushare::vnpu
