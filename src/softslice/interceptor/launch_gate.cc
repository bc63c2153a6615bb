// File: softslice/interceptor/launch_gate.cc
#include "softslice/interceptor/launch_gate.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "softslice/interceptor/compute_pages.h"
#include "softslice/interceptor/fence_ring.h"
#include "softslice/interceptor/grant_acquire.h"
#include "softslice/interceptor/ledger.h"
#include "softslice/interceptor/log.h"
#include "softslice/interceptor/process_state.h"

namespace npushare::vnpu {

constinit thread_local GateThread tl_gate
    __attribute__((tls_model("initial-exec"))) = {nullptr, 0, nullptr, 0, false, 0, -1, 0, -1, 0};

namespace {

constinit std::atomic<int32_t> g_last_device{-1};
constinit pthread_mutex_t g_gate_mutex = PTHREAD_MUTEX_INITIALIZER;
constinit std::atomic<int> g_tenant_state{0};  // 0 not tried, 1 mapped, 2 failed
constinit VnpuTenantPage* g_tenant = nullptr;
constinit std::atomic<const VnpuGrantPage*> g_grants{nullptr};
constinit std::atomic<uint64_t> g_next_grant_probe_ns{0};
constinit std::atomic<uint64_t> g_index_generation{~uint64_t{0}};
constinit std::atomic<int32_t> g_tenant_index{-1};
constinit std::atomic<uint64_t> g_index_tenant_id{0};
constinit std::atomic<uint64_t> g_next_reprobe_ns{0};
constinit std::atomic<bool> g_logged_lost{false};
constinit std::atomic<bool> g_logged_open{false};
constinit std::atomic<bool> g_logged_unadopted{false};

template <typename T>
T Load(const T& v) {
  return __atomic_load_n(&v, __ATOMIC_ACQUIRE);
}

void OpenFor(GateThread& t, int32_t credit, const char* why) {
  t.open = true;
  t.word = nullptr;
  t.credit = credit;
  if (why != nullptr && !g_logged_open.exchange(true)) {
    Log("launch gate open: %s", why);
  }
}

// A grant word that is always "ours" (expected value 0): an ungated thread of a tenant whose page
// exists launches through the same fast path as a gated one (stream compare included), so its
// launches are still noted per stream, fenced and bounded, without a fast-path branch of its own.
constinit const uint64_t g_open_word = 0;

// OpenAfterFence: OpenFenced's thread state, for a caller that has just fenced (`now`: the
// clock reading FenceBeforeLaunch returned).
void OpenAfterFence(GateThread& t, void* stream, int32_t dev, uint64_t now, const char* why) {
  if (why != nullptr && !g_logged_open.exchange(true)) {
    Log("launch gate open: %s", why);
  }
  t.open = false;
  t.word = &g_open_word;
  t.expect = 0;
  t.epoch = 0;  // no grant: nothing is overrun
  t.credit = kOpenCredit - 1;
  t.batch = kOpenCredit;
  t.stream = stream;
  t.stream_dev = dev;
  t.batch_start_ns = now;
}

// OpenFenced: ungated but fenced (no grant page, stale arbiter, not adopted yet, no chip): the
// process never waits for a grant, but its queued work stays bounded (a tenant must not queue
// seconds of work while the arbiter is away and then run it during others' grants).
void OpenFenced(GateThread& t, const NotedLaunches* noted, void* stream, VnpuTenantDevice& td,
                int32_t dev, const char* why) {
  FenceTarget target = {&td, nullptr, 0, static_cast<uint32_t>(dev)};
  uint64_t now = 0;
  FenceBeforeLaunch(noted, stream, target, 0, &now);
  __atomic_store_n(&td.last_demand_ns, now, __ATOMIC_RELEASE);
  OpenAfterFence(t, stream, dev, now, why);
}

VnpuTenantPage* Tenant(const Config& cfg) {
  int state = g_tenant_state.load(std::memory_order_acquire);
  if (state == 0) {
    pthread_mutex_lock(&g_gate_mutex);
    if (g_tenant_state.load(std::memory_order_relaxed) == 0) {
      PageError e = OpenTenantPage(cfg.state_dir, cfg, &g_tenant);
      if (e != PageError::kOk) {
        Log("cannot use tenant page in %s (error %d): launches run ungated", cfg.state_dir,
            static_cast<int>(e));
      }
      g_tenant_state.store(e == PageError::kOk ? 1 : 2, std::memory_order_release);
    }
    pthread_mutex_unlock(&g_gate_mutex);
    state = g_tenant_state.load(std::memory_order_acquire);
  }
  return state == 1 ? g_tenant : nullptr;
}

// Grants: the mapped grant page, or nullptr (re-probed at most every 100 ms).
const VnpuGrantPage* Grants(const Config& cfg) {
  const VnpuGrantPage* g = g_grants.load(std::memory_order_acquire);
  if (g != nullptr) {
    return g;
  }
  uint64_t now = MonotonicNs();
  if (now < g_next_grant_probe_ns.load(std::memory_order_relaxed)) {
    return nullptr;
  }
  pthread_mutex_lock(&g_gate_mutex);
  g = g_grants.load(std::memory_order_relaxed);
  if (g == nullptr) {
    g_next_grant_probe_ns.store(now + 100'000'000, std::memory_order_relaxed);
    if (OpenGrantPage(cfg.arbiter_dir, &g) == PageError::kOk) {
      g_grants.store(g, std::memory_order_release);
    } else {
      g = nullptr;
    }
  }
  pthread_mutex_unlock(&g_gate_mutex);
  return g;
}

// TenantIndex: our index in the grant page's tenant table, or -1 when not adopted. Id 0 (a
// zeroed or truncated tenant page) is never adopted: 0 marks an unused index.
int32_t TenantIndex(const VnpuGrantPage* g, uint64_t tenant_id) {
  if (tenant_id == 0) {
    return -1;
  }
  uint64_t gen = Load(g->generation);
  if (gen == g_index_generation.load(std::memory_order_acquire) &&
      tenant_id == g_index_tenant_id.load(std::memory_order_relaxed)) {
    return g_tenant_index.load(std::memory_order_relaxed);
  }
  int32_t index = -1;
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    if (Load(g->tenants[i].tenant_id) == tenant_id) {
      index = static_cast<int32_t>(i);
      break;
    }
  }
  g_tenant_index.store(index, std::memory_order_relaxed);
  g_index_tenant_id.store(tenant_id, std::memory_order_relaxed);
  g_index_generation.store(gen, std::memory_order_release);
  return index;
}

// Stale: no heartbeat for kStaleArbiterNs. A heartbeat slightly ahead of our clock reading is
// fresh (the arbiter wrote it after we read the clock); one far ahead is garbage (a page
// overwritten in place), which must not read as a live arbiter forever.
bool Stale(const VnpuGrantPage* g, uint64_t now) {
  uint64_t hb = Load(g->heartbeat_ns);
  return hb > now ? hb - now > kStaleArbiterNs : now - hb > kStaleArbiterNs;
}

// GrantBroken: called when the page looks stale. Re-probes the grant file (at most every
// kReprobeNs): a page rebuilt by the arbiter as a new file, or restored after a truncation,
// is mapped at the same address (ReopenGrantPage). True when the page we map is still lost
// (truncated under us: the SIGBUS guard left zeros) or garbage: the tenant is then throttled,
// not ungated, until a valid page is back (issue 15). A page that is valid but stale is a dead
// arbiter: false (open, as documented).
constexpr uint64_t kReprobeNs = 10'000'000;
bool GrantBroken(const Config& cfg, const VnpuGrantPage* g) {
  uint64_t now = MonotonicNs();
  if (now >= g_next_reprobe_ns.load(std::memory_order_relaxed)) {
    pthread_mutex_lock(&g_gate_mutex);
    if (now >= g_next_reprobe_ns.load(std::memory_order_relaxed)) {
      g_next_reprobe_ns.store(now + kReprobeNs, std::memory_order_relaxed);
      ReopenGrantPage(cfg.arbiter_dir, g);
    }
    pthread_mutex_unlock(&g_gate_mutex);
  }
  bool lost = GrantPageLost(g);
  if (lost && !g_logged_lost.exchange(true)) {
    Log("grant page %s/%s truncated or corrupt: launches throttled until it is rebuilt",
        cfg.arbiter_dir, VNPU_GRANT_FILE_NAME);
  } else if (!lost && g_logged_lost.load(std::memory_order_relaxed)) {
    g_logged_lost.store(false);
    Log("grant page %s/%s valid again", cfg.arbiter_dir, VNPU_GRANT_FILE_NAME);
  }
  return lost;
}

// ThrottleWait: the grant page is broken. Waits up to kAdoptionWaitNs for a valid page,
// observing fences; the caller then lets one launch through (never hung, never free).
void ThrottleWait(const Config& cfg, const VnpuGrantPage* g, int32_t dev) {
  uint64_t deadline = MonotonicNs() + kAdoptionWaitNs;
  while (MonotonicNs() < deadline && GrantBroken(cfg, g)) {
    if (dev >= 0) {
      FencePoll(static_cast<uint32_t>(dev));
    }
    struct timespec ts = {0, 1'000'000};
    nanosleep(&ts, nullptr);
  }
}

// While fences are outstanding a waiting thread wakes this often to observe them, so that their
// completion time (device time, overrun) is known to within this bound.
constexpr long kFencePollWaitNs = 300'000;
constexpr long kGrantWaitNs = 2'000'000;

void FutexWait(const uint32_t* word, uint32_t expected, long timeout_ns) {
  struct timespec ts = {0, timeout_ns};
  // Shared (non-private) futex: the arbiter wakes it through its own mapping of the file.
  syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, nullptr, 0);
}

// AwaitAdoption: the arbiter is alive but has not adopted this tenant (yet). A valid page is
// adopted within one rescan (20 ms), so wait up to kAdoptionWaitNs for that, polling fences.
// A tenant that stays unadopted (garbage over its own page, a state directory outside the
// arbiter's --tenants-dir, or VNPU_MAX_TENANTS tenants already) must not run ungated: that
// would let a container escape its share by corrupting its own state. Unadopted, it may launch
// freely only while its chip has no owner; otherwise it gets one launch per wait (*throttled
// is set), so it crawls (and a log line says why) but never hangs.
// Returns the index, or -1 (chip unowned, heartbeat stale, or throttled).
int32_t AwaitAdoption(const VnpuGrantPage* g, uint64_t tenant_id, int32_t chip, int32_t dev,
                      bool* throttled) {
  *throttled = false;
  uint64_t deadline = MonotonicNs() + kAdoptionWaitNs;
  while (true) {
    int32_t index = tenant_id != 0 ? TenantIndex(g, tenant_id) : -1;
    uint64_t now = MonotonicNs();
    if (index >= 0 || Stale(g, now)) {
      return index;
    }
    if (chip >= 0 && chip < static_cast<int32_t>(VNPU_MAX_CHIPS) &&
        (Load(g->chips[chip].grant_word) & kOwnerMask) == 0) {
      return -1;  // nobody is granted this chip: an unadopted launch takes no one's time
    }
    if (now >= deadline) {
      if (!g_logged_unadopted.exchange(true)) {
        Log("tenant not adopted by npushare-arbiter within %llu ms (unusable tenant page, state "
            "directory outside the arbiter's --tenants-dir, or %u tenants already): one launch "
            "per %llu ms while another tenant holds the chip",
            static_cast<unsigned long long>(kAdoptionWaitNs / 1'000'000), VNPU_MAX_TENANTS,
            static_cast<unsigned long long>(kAdoptionWaitNs / 1'000'000));
      }
      *throttled = true;
      return -1;
    }
    if (dev >= 0) {
      FencePoll(static_cast<uint32_t>(dev));
    }
    struct timespec ts = {0, 1'000'000};  // the arbiter publishes adoptions without a wake-up
    nanosleep(&ts, nullptr);
  }
}

// GateEnv: AcquireGrant's production environment (grant_acquire.h): the shared pages, the
// clock and the futex. Every member inlines into GateSlow's single instantiation.
struct GateEnv {
  const Config& cfg;
  const VnpuGrantPage* g;
  const VnpuGrantChip& c;
  VnpuTenantDevice& td;
  VnpuTenantPage* tenant;
  int32_t index;
  int32_t dev;

  uint64_t GrantWord() { return Load(c.grant_word); }
  const uint64_t* GrantWordAddress() const { return &c.grant_word; }
  uint32_t Seq() { return Load(c.seq); }
  uint64_t Now() { return MonotonicNs(); }
  // Our page lost, scribbled over or dropped by the arbiter: no grant will ever come for this
  // index, so stop waiting (throttled: this launch only) instead of hanging.
  GrantWaitVerdict Check(uint64_t now) {
    bool dropped = !ValidTenantHeader(tenant) || TenantIndex(g, Load(tenant->tenant_id)) != index;
    bool stale = Stale(g, now);
    bool broken = stale && GrantBroken(cfg, g);
    stale = stale && !broken && Stale(g, MonotonicNs());  // not if a live page was re-mapped
    if (dropped || broken) {
      if (broken) {
        ThrottleWait(cfg, g, dev);
      }
      return GrantWaitVerdict::kThrottle;
    }
    return stale ? GrantWaitVerdict::kStale : GrantWaitVerdict::kKeepWaiting;
  }
  void AddWaiter(int32_t delta) {
    if (delta > 0) {
      __atomic_fetch_add(&td.waiters, 1, __ATOMIC_ACQ_REL);
    } else {
      __atomic_fetch_sub(&td.waiters, 1, __ATOMIC_ACQ_REL);
    }
  }
  void ShowDemand(uint64_t now) { __atomic_store_n(&td.last_demand_ns, now, __ATOMIC_RELEASE); }
  void Block(uint32_t seq) {
    FencePoll(static_cast<uint32_t>(dev));
    FutexWait(&c.seq, seq,
              FencesOutstanding(static_cast<uint32_t>(dev)) ? kFencePollWaitNs : kGrantWaitNs);
  }
};

}  // namespace

void SetThreadDevice(int32_t device) {
  GateThread& t = tl_gate;
  if (!t.open && t.credit > 0) {
    t.batch -= t.credit;  // keeps batch − credit = launches made, for the next slow path
  }
  t.credit = 0;  // re-resolve the chip on the next launch
  t.word = nullptr;
  t.device = device;
  g_last_device.store(device, std::memory_order_relaxed);
}

void GateSlow(void* stream) {
  GateThread& t = tl_gate;
  const Config& cfg = EnsureSetup();
  if (!cfg.compute_limited) {
    OpenFor(t, INT_MAX, nullptr);
    return;
  }
  // The launches since the last gated slow path went to t.stream: they are noted with the next
  // fence (bookkeeping only; that stream may have been destroyed since, so it is never passed
  // to the runtime).
  NotedLaunches noted_batch = {};
  const NotedLaunches* noted = nullptr;
  if (!t.open && t.batch > 0 && t.stream_dev >= 0) {
    noted_batch = {t.stream, static_cast<uint32_t>(t.stream_dev),
                   t.batch - (t.credit > 0 ? t.credit : 0), t.batch_start_ns, t.epoch};
    noted = &noted_batch;
  }
  t.batch = 0;
  int32_t dev = t.device >= 0 ? t.device : g_last_device.load(std::memory_order_relaxed);
  VnpuTenantPage* tenant = Tenant(cfg);
  if (tenant == nullptr || dev < 0 || dev >= static_cast<int32_t>(VNPU_MAX_DEVICES)) {
    const VnpuGrantPage* live = tenant == nullptr ? Grants(cfg) : nullptr;
    bool throttled = false;
    if (live != nullptr && !Stale(live, MonotonicNs())) {
      // No usable page: never adopted.
      int32_t chip =
          dev >= 0 && dev < static_cast<int32_t>(VNPU_MAX_DEVICES) ? cfg.chip_of_device[dev] : -1;
      AwaitAdoption(live, 0, chip, -1, &throttled);
    } else if (live != nullptr && GrantBroken(cfg, live)) {
      ThrottleWait(cfg, live, -1);
      throttled = true;
    }
    if (noted != nullptr) {
      FenceNoteLaunches(*noted);
    }
    OpenFor(t, throttled ? 0 : kOpenCredit, nullptr);  // throttled: this launch only
    return;
  }
  VnpuTenantDevice& td = tenant->devices[dev];
  // The usual path reads the clock once, inside FenceBeforeLaunch (after it checked the oldest
  // fence); only the rare paths before it (adoption) read it themselves.
  const VnpuGrantPage* g = Grants(cfg);
  int32_t index = g != nullptr ? TenantIndex(g, tenant->tenant_id) : -1;
  bool throttled = false;
  if (g != nullptr && index < 0) {
    uint64_t now = MonotonicNs();
    __atomic_store_n(&td.last_demand_ns, now, __ATOMIC_RELEASE);
    bool stale = Stale(g, now);
    if (stale && GrantBroken(cfg, g)) {
      ThrottleWait(cfg, g, dev);  // a truncated grant page is no way out of the gate
      throttled = true;
    } else {
      // GrantBroken may just have mapped a rebuilt, live page.
      if (!stale || !Stale(g, MonotonicNs())) {
        index = AwaitAdoption(g, tenant->tenant_id, cfg.chip_of_device[dev], dev, &throttled);
      }
      if (index < 0 && !throttled && Stale(g, MonotonicNs()) && GrantBroken(cfg, g)) {
        ThrottleWait(cfg, g, dev);  // lost while we waited for adoption
        throttled = true;
      }
    }
  }
  int32_t chip = cfg.chip_of_device[dev];
  if (index >= 0) {
    // A node-pinned chip overrides the container's own mapping: the container cannot choose
    // which chip's grant word it launches against.
    uint8_t pin = __atomic_load_n(&g->tenants[index].pinned_chip_plus1[dev], __ATOMIC_ACQUIRE);
    if (pin != 0 && pin <= VNPU_MAX_CHIPS) {
      chip = static_cast<int32_t>(pin) - 1;
    }
  }
  if (__atomic_load_n(&td.chip, __ATOMIC_RELAXED) != chip) {
    __atomic_store_n(&td.chip, chip, __ATOMIC_RELEASE);  // first use of this device, or pinned
  }
  if (g == nullptr) {
    OpenFenced(t, noted, stream, td, dev, "no grant page (arbiter not running)");
    return;
  }
  if (chip < 0 || chip >= static_cast<int32_t>(VNPU_MAX_CHIPS) || index < 0) {
    OpenFenced(t, noted, stream, td, dev, nullptr);
    if (throttled) {
      t.credit = 0;  // this launch only: the next one waits for adoption again
      t.batch = 1;
    }
    return;
  }
  const VnpuGrantChip& c = g->chips[chip];
  uint64_t token = static_cast<uint64_t>(index) + 1;
  uint64_t w = Load(c.grant_word);
  // Fence before waiting: the fence covers launches queued under the grant we may just have
  // lost, and its completion is what tells how far they ran past that grant.
  FenceTarget target = {&td, &c, token, static_cast<uint32_t>(dev)};
  uint64_t now = 0;
  int32_t credit =
      FenceBeforeLaunch(noted, stream, target, (w & kOwnerMask) == token ? w >> 16 : 0, &now);
  __atomic_store_n(&td.last_demand_ns, now, __ATOMIC_RELEASE);
  // The fence above bounds what we queued. A stale page: from now on ungated, unless the page
  // itself was lost (then throttled: this launch only) or a re-probe just mapped a live one.
  if (bool broken = false;
      Stale(g, now) && ((broken = GrantBroken(cfg, g)) || Stale(g, MonotonicNs()))) {
    if (broken) {
      ThrottleWait(cfg, g, dev);
    }
    OpenAfterFence(t, stream, dev, now, broken ? nullptr : "arbiter heartbeat stale");
    if (broken) {
      t.credit = 0;
      t.batch = 1;
    }
    return;
  }
  GateEnv env{cfg, g, c, td, tenant, index, dev};
  switch (AcquireGrant(env, t, token, credit, stream, dev, now)) {
    case GrantAcquired::kGranted:
      return;
    case GrantAcquired::kThrottle:
      OpenFenced(t, nullptr, stream, td, dev, nullptr);
      t.credit = 0;
      t.batch = 1;
      return;
    case GrantAcquired::kStale:
      OpenFenced(t, nullptr, stream, td, dev, "arbiter heartbeat stale");
      return;
  }
}

SyncScope SyncBegin() {
  GateThread& t = tl_gate;
  SyncScope s;
  if (t.open || t.word == nullptr || g_tenant_state.load(std::memory_order_acquire) != 1) {
    return s;
  }
  int32_t dev = t.device >= 0 ? t.device : g_last_device.load(std::memory_order_relaxed);
  if (dev < 0 || dev >= static_cast<int32_t>(VNPU_MAX_DEVICES)) {
    return s;
  }
  s.device = &g_tenant->devices[dev];
  s.dev = static_cast<uint32_t>(dev);
  __atomic_fetch_add(&s.device->syncing, 1, __ATOMIC_ACQ_REL);
  return s;
}

void SyncEnd(const SyncScope& s) {
  if (s.device == nullptr) {
    return;
  }
  __atomic_fetch_sub(&s.device->syncing, 1, __ATOMIC_ACQ_REL);
  // The synchronised work has completed: observe its fences now, while the completion time is
  // still close (their device time and any overrun past an ended grant).
  FencePoll(s.dev);
}

void GateAfterForkChild() {
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&g_gate_mutex, &fresh, sizeof(fresh));
  FenceAfterForkChild();
  tl_gate.batch = 0;  // the forking thread's launches belong to the parent
  tl_gate.credit = 0;
}

int GateStatus() {
  const Config& cfg = EnsureSetup();
  if (!cfg.compute_limited) {
    return -1;
  }
  const VnpuGrantPage* g = g_grants.load(std::memory_order_acquire);
  VnpuTenantPage* tenant = g_tenant_state.load() == 1 ? g_tenant : nullptr;
  if (g == nullptr || tenant == nullptr || Stale(g, MonotonicNs()) ||
      TenantIndex(g, tenant->tenant_id) < 0) {
    return 0;
  }
  return 1;
}

}  // namespace npushare::vnpu
