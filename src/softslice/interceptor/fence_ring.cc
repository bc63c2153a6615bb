// File: softslice/interceptor/fence_ring.cc
#include "softslice/interceptor/fence_ring.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

#include <atomic>

#include "softslice/interceptor/ledger.h"
#include "softslice/interceptor/log.h"
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

// Overrun bookkeeping per device for the latest epoch seen complete (FencePoll's rule).
struct OverrunState {
  uint64_t epoch;
  uint64_t max_end_ns;
  uint64_t sum_ns;
  uint64_t reported_ns;
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
  q.launches += g_slots[slot].launches;
  g_outstanding_mask.fetch_or(1u << dev, std::memory_order_relaxed);
}

void PopHead(uint32_t dev) {
  DeviceQueue& q = g_queues[dev];
  q.launches -= g_slots[q.ring[q.head]].launches;
  q.head = (q.head + 1) % kFencePool;
  --q.count;
  if (q.count == 0) {
    g_outstanding_mask.fetch_and(~(1u << dev), std::memory_order_relaxed);
  }
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
  if (current == s.epoch) {
    return;
  }
  if (current - s.epoch >= 4) {
    return;  // too many grants ago to know when ours ended
  }
  uint64_t ours_ended =
      __atomic_load_n(&s.chip->epoch_start_ns[(s.epoch + 1) % 4], __ATOMIC_ACQUIRE);
  if ((w & kOwnerMask) == s.token) {
    uint64_t regained = __atomic_load_n(&s.chip->granted_at_ns, __ATOMIC_ACQUIRE);
    end_ns = regained < end_ns ? regained : end_ns;  // from then on it is held time again
  }
  if (end_ns <= ours_ended) {
    return;
  }
  OverrunState& o = g_overrun[dev];
  if (o.epoch != s.epoch) {
    o = OverrunState{s.epoch, 0, 0, 0};
  }
  uint64_t part = end_ns - ours_ended;
  uint64_t rate = g_ns_per_launch[dev];
  if (rate != 0 && rate * static_cast<uint64_t>(s.launches) < seg_ns) {
    seg_ns = rate * static_cast<uint64_t>(s.launches);
  }
  o.max_end_ns = end_ns > o.max_end_ns ? end_ns : o.max_end_ns;
  o.sum_ns += part < seg_ns ? part : seg_ns;
  uint64_t value = o.max_end_ns - ours_ended;
  value = o.sum_ns < value ? o.sum_ns : value;
  value = kMaxOverrunNs < value ? kMaxOverrunNs : value;
  if (value > o.reported_ns) {
    __atomic_fetch_add(&s.td->overrun_ns, value - o.reported_ns, __ATOMIC_RELEASE);
    o.reported_ns = value;
  }
}

enum class Wait : uint8_t {
  kNever,      // only fences already complete
  kOverBound,  // wait for the head while the queue covers more than kMaxQueuedLaunches
  kAlways,     // wait for the head
};

// Processes the head of `dev`'s queue. Returns false when there is nothing (more) to do now.
bool ProcessHead(uint32_t dev, Wait wait) {
  pthread_mutex_lock(&g_mu);
  DeviceQueue& q = g_queues[dev];
  bool enforce =
      wait == Wait::kAlways || (wait == Wait::kOverBound && q.launches > kMaxQueuedLaunches);
  if (q.count == 0 || (wait == Wait::kOverBound && !enforce)) {
    pthread_mutex_unlock(&g_mu);
    return false;
  }
  int16_t i = q.ring[q.head];
  Slot& s = g_slots[i];
  void* event = s.event;
  VnpuTenantDevice* td = s.td;
  if (s.state == kChecking) {
    // Another thread is on it. Over the bound we wait for the same event (synchronising a
    // completed or re-recorded event is harmless), then let that thread finish the head.
    pthread_mutex_unlock(&g_mu);
    if (!enforce) {
      return false;
    }
    __atomic_fetch_add(&td->syncing, 1, __ATOMIC_ACQ_REL);
    g_api.sync(event);
    __atomic_fetch_sub(&td->syncing, 1, __ATOMIC_ACQ_REL);
    sched_yield();
    return true;
  }
  s.state = kChecking;
  void* prev_event =
      s.prev >= 0 && g_slots[s.prev].state == kDone ? g_slots[s.prev].event : nullptr;
  // Only the thread processing the head changes the anchor, so it stays valid meanwhile.
  int16_t a = g_dev_anchor[dev];
  void* anchor_event =
      a >= 0 && g_slots[a].state == kDone && g_slots[a].epoch == s.epoch && s.epoch != 0
          ? g_slots[a].event
          : nullptr;
  pthread_mutex_unlock(&g_mu);

  int status = 0;
  RtError rc = g_api.query(event, &status);
  bool done = rc == kRtSuccess && status == kEventRecorded;
  if (!done && rc == kRtSuccess && enforce) {
    __atomic_fetch_add(&td->syncing, 1, __ATOMIC_ACQ_REL);
    rc = g_api.sync(event);
    __atomic_fetch_sub(&td->syncing, 1, __ATOMIC_ACQ_REL);
    done = rc == kRtSuccess;
  }
  uint64_t observed = MonotonicNs();
  if (!done && rc == kRtSuccess) {
    pthread_mutex_lock(&g_mu);
    s.state = kOutstanding;
    pthread_mutex_unlock(&g_mu);
    return false;
  }
  // A failing query or synchronize drops the fence unmeasured rather than wedging the queue.
  uint64_t seg_ns = 0;
  bool dev_sampled = false;
  bool keep_anchor = false;
  uint64_t dev_gap_ns = 0;
  if (done) {
    seg_ns = observed > s.seg_start_ns ? observed - s.seg_start_ns : 0;
    float ms = 0;
    if (prev_event != nullptr && g_api.elapsed != nullptr &&
        g_api.elapsed(&ms, prev_event, event) == kRtSuccess && ms >= 0) {
      double ns = static_cast<double>(ms) * 1e6;
      if (ns < static_cast<double>(seg_ns)) {
        seg_ns = static_cast<uint64_t>(ns);
      }
    }
    if (anchor_event != nullptr && g_api.elapsed != nullptr &&
        g_api.elapsed(&ms, anchor_event, event) == kRtSuccess) {
      // A fence of another stream may have completed before the anchor (record order is not
      // completion order): it adds launches but no time, and the anchor stays the latest.
      dev_sampled = true;
      dev_gap_ns = ms > 0 ? static_cast<uint64_t>(static_cast<double>(ms) * 1e6) : 0;
      keep_anchor = ms < 0;
    }
  }
  pthread_mutex_lock(&g_mu);
  PopHead(dev);
  if (done) {
    __atomic_fetch_add(&td->device_ns, seg_ns, __ATOMIC_RELEASE);
    AddOverrun(s, dev, observed, seg_ns, dev_sampled, dev_gap_ns);
    if (!keep_anchor) {
      if (a >= 0 && a != i) {
        g_slots[a].dev_anchor = false;
        MaybeFree(a);
      }
      g_dev_anchor[dev] = i;
      s.dev_anchor = true;
    }
  }
  if (s.prev >= 0) {
    g_slots[s.prev].successor = false;
    MaybeFree(s.prev);
    s.prev = -1;
  }
  s.state = kDone;
  MaybeFree(i);
  pthread_mutex_unlock(&g_mu);
  return true;
}

void Poll(uint32_t dev, Wait wait) {
  // Bounded: each round retires one fence or stops; the queue holds at most kFencePool.
  // The mask check keeps an empty queue (the common case once fences complete) lock-free.
  for (int round = 0; round < 2 * kFencePool &&
                      (g_outstanding_mask.load(std::memory_order_relaxed) & (1u << dev)) != 0 &&
                      ProcessHead(dev, wait);
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
  int32_t launches = 0;
  if ((g_outstanding_mask.load(std::memory_order_relaxed) & (1u << dev)) != 0) {
    pthread_mutex_lock(&g_mu);  // only when something is queued (the lock is the slow part)
    launches = g_queues[dev].launches;
    pthread_mutex_unlock(&g_mu);
  }
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

}  // namespace

bool FencesEnabled() {
  return g_state.load(std::memory_order_acquire) != 2 &&
         !g_no_record.load(std::memory_order_relaxed);
}

void FenceNoteLaunches(void* stream, uint32_t dev, int32_t n, uint64_t since_ns, uint64_t epoch) {
  if (n <= 0 || dev >= VNPU_MAX_DEVICES || !FencesEnabled()) {
    return;
  }
  pthread_mutex_lock(&g_mu);
  StreamEntry* e = FindStream(stream, dev, /*create=*/true);
  if (e != nullptr) {
    if (e->pending == 0 || since_ns < e->seg_start_ns) {
      e->seg_start_ns = since_ns;
    }
    e->pending += n;
    e->epoch = epoch;
  }
  pthread_mutex_unlock(&g_mu);
}

int32_t FenceBeforeLaunch(void* stream, const FenceTarget& target, uint64_t owned_epoch,
                          uint64_t now_ns) {
  if (target.dev >= VNPU_MAX_DEVICES || !Resolve()) {
    return kLaunchCredit;
  }
  uint32_t dev = target.dev;
  bool may_record = !g_no_record.load(std::memory_order_relaxed);
  pthread_mutex_lock(&g_mu);
  StreamEntry* e = may_record ? FindStream(stream, dev, /*create=*/false) : nullptr;
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
    epoch = owned_epoch != 0 ? owned_epoch : e->epoch;
  }
  pthread_mutex_unlock(&g_mu);

  if (slot >= 0) {
    bool created = event != nullptr;
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
    RtError rc = created ? g_api.record(event, stream) : kRtInternalError;
    pthread_mutex_lock(&g_mu);
    Slot& s = g_slots[slot];
    // The entry cannot have been evicted or reused meanwhile: eviction skips recording entries.
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
      e->pending = 0;
      s.state = kOutstanding;
      Push(dev, slot);
    } else {
      s.event = created ? event : nullptr;  // a created event is kept for reuse
      s.state = kFree;
      e->pending = 0;
    }
    pthread_mutex_unlock(&g_mu);
    if (!created && !g_no_record.exchange(true, std::memory_order_relaxed)) {
      LogDisabled("rtEventCreate failed");
    }
  }
  Poll(dev, Wait::kNever);
  Poll(dev, Wait::kOverBound);
  int32_t credit = kLaunchCredit;
  if (owned_epoch != 0 && target.chip != nullptr) {
    // In-flight budget: what we queue while holding a grant should finish by the slice's end
    // (+ slack), so that little of it runs in the next tenant's grant.
    uint64_t slice_end = __atomic_load_n(&target.chip->slice_end_ns, __ATOMIC_ACQUIRE);
    // The caller's clock reading serves the first round (sub-microseconds old); later rounds
    // follow a wait and read the clock again.
    for (int round = 0;
         round < kFencePool &&
         InflightOverBudget(dev, slice_end, round == 0 ? now_ns : MonotonicNs(), &credit);
         ++round) {
      ProcessHead(dev, Wait::kAlways);
    }
  }
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
