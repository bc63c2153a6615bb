// File: softslice/interceptor/fence_ring.cc
//
// The process's fence ring: FenceRing (fence_ring_core.h) over the real runtime's event
// functions and CLOCK_MONOTONIC, as one constinit global; fence_ring.h's functions forward to it.
#include "softslice/interceptor/fence_ring.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>

#include "softslice/interceptor/fence_ring_core.h"
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

constexpr uint32_t kEventTimeLine = 0x8;  // RT_EVENT_TIME_LINE: the event carries a timestamp

struct Api {
  EventCreateFn create;
  EventCreateWithFlagFn create_with_flag;
  EventRecordFn record;
  EventQueryFn query;
  EventSyncFn sync;
  EventElapsedFn elapsed;  // optional: without it only the host-time bound is used
};

void LogFencesDisabled(const char* why) {
  Log("event fences disabled (%s): device time is not measured, queued work not bounded", why);
}

// RuntimeEvents: FenceRing's production environment. The event functions are the next
// definitions after libvnpu.so, resolved once; every member inlines into the ring's code.
struct RuntimeEvents {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;  // publishes `api` once
  std::atomic<int> state{0};                       // 0 unresolved, 1 resolved, 2 functions missing
  Api api = {};

  bool Resolve() {
    int s = state.load(std::memory_order_acquire);
    if (s != 0) {
      return s == 1;
    }
    Api a;
    a.create = Real<EventCreateFn>(Fn::kRtEventCreate);
    a.create_with_flag = Real<EventCreateWithFlagFn>(Fn::kRtEventCreateWithFlag);
    a.record = Real<EventRecordFn>(Fn::kRtEventRecord);
    a.query = Real<EventQueryFn>(Fn::kRtEventQueryStatus);
    a.sync = Real<EventSyncFn>(Fn::kRtEventSynchronize);
    a.elapsed = Real<EventElapsedFn>(Fn::kRtEventElapsedTime);
    if ((a.create == nullptr && a.create_with_flag == nullptr) || a.record == nullptr ||
        a.query == nullptr || a.sync == nullptr) {
      if (state.exchange(2, std::memory_order_acq_rel) != 2) {
        LogFencesDisabled("runtime lacks rtEventCreate/Record/QueryStatus/Synchronize");
      }
      return false;
    }
    pthread_mutex_lock(&mu);
    if (state.load(std::memory_order_relaxed) == 0) {
      api = a;
      state.store(1, std::memory_order_release);
    }
    pthread_mutex_unlock(&mu);
    return state.load(std::memory_order_acquire) == 1;
  }
  bool Missing() { return state.load(std::memory_order_acquire) == 2; }
  RtError CreateEvent(void** event) {
    RtError rc = api.create_with_flag != nullptr ? api.create_with_flag(event, kEventTimeLine)
                                                 : api.create(event);
    if (rc != kRtSuccess && api.create != nullptr) {
      rc = api.create(event);
    }
    return rc;
  }
  RtError Record(void* event, void* stream) { return api.record(event, stream); }
  RtError Query(void* event, int* status) { return api.query(event, status); }
  RtError Sync(void* event) { return api.sync(event); }
  RtError Elapsed(float* ms, void* from, void* to) {
    return api.elapsed != nullptr ? api.elapsed(ms, from, to) : kRtInternalError;
  }
  uint64_t Now() { return MonotonicNs(); }
  void Yield() { sched_yield(); }
  void LogDisabled(const char* why) { LogFencesDisabled(why); }
};

constinit FenceRing<RuntimeEvents> g_ring;

}  // namespace

void FenceNoteLaunches(const NotedLaunches& noted) {
  g_ring.NoteLaunches(noted);
}

int32_t FenceBeforeLaunch(const NotedLaunches* noted, void* stream, const FenceTarget& target,
                          uint64_t owned_epoch, uint64_t* now_ns) {
  return g_ring.BeforeLaunch(noted, stream, target, owned_epoch, now_ns);
}

void FencePoll(uint32_t dev) {
  g_ring.PollDevice(dev);
}

bool FencesOutstanding(uint32_t dev) {
  return g_ring.Outstanding(dev);
}

void FenceAfterForkChild() {
  g_ring.ResetAfterForkChild();
}

}  // namespace npushare::vnpu
