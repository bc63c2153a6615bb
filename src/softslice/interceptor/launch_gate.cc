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
#include "softslice/interceptor/ledger.h"
#include "softslice/interceptor/log.h"
#include "softslice/interceptor/process_state.h"

namespace npushare::vnpu {

constinit thread_local GateThread tl_gate
    __attribute__((tls_model("initial-exec"))) = {nullptr, 0, 0, false, 0, -1};

namespace {

constinit std::atomic<int32_t> g_last_device{-1};
constinit pthread_mutex_t g_gate_mutex = PTHREAD_MUTEX_INITIALIZER;
constinit std::atomic<int> g_tenant_state{0};  // 0 not tried, 1 mapped, 2 failed
constinit VnpuTenantPage* g_tenant = nullptr;
constinit std::atomic<const VnpuGrantPage*> g_grants{nullptr};
constinit std::atomic<uint64_t> g_next_grant_probe_ns{0};
constinit std::atomic<uint64_t> g_index_generation{~uint64_t{0}};
constinit std::atomic<int32_t> g_tenant_index{-1};
constinit std::atomic<bool> g_logged_open{false};

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

const VnpuGrantPage* Grants(const Config& cfg, uint64_t now) {
  const VnpuGrantPage* g = g_grants.load(std::memory_order_acquire);
  if (g != nullptr || now < g_next_grant_probe_ns.load(std::memory_order_relaxed)) {
    return g;
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

// TenantIndex: our index in the grant page's tenant table, or -1 when not adopted.
int32_t TenantIndex(const VnpuGrantPage* g, uint64_t tenant_id) {
  uint64_t gen = Load(g->generation);
  if (gen == g_index_generation.load(std::memory_order_acquire)) {
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
  g_index_generation.store(gen, std::memory_order_release);
  return index;
}

bool Stale(const VnpuGrantPage* g, uint64_t now) {
  uint64_t hb = Load(g->heartbeat_ns);
  return hb > now ? false : now - hb > kStaleArbiterNs;
}

void FutexWait(const uint32_t* word, uint32_t expected, long timeout_ns) {
  struct timespec ts = {0, timeout_ns};
  // Shared (non-private) futex: the arbiter wakes it through its own mapping of the file.
  syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, nullptr, 0);
}

}  // namespace

void SetThreadDevice(int32_t device) {
  tl_gate.device = device;
  tl_gate.credit = 0;  // re-resolve the chip on the next launch
  tl_gate.word = nullptr;
  g_last_device.store(device, std::memory_order_relaxed);
}

void GateSlow() {
  GateThread& t = tl_gate;
  const Config& cfg = EnsureSetup();
  if (!cfg.compute_limited) {
    OpenFor(t, INT_MAX, nullptr);
    return;
  }
  int32_t dev = t.device >= 0 ? t.device : g_last_device.load(std::memory_order_relaxed);
  VnpuTenantPage* tenant = Tenant(cfg);
  if (tenant == nullptr || dev < 0 || dev >= static_cast<int32_t>(VNPU_MAX_DEVICES)) {
    OpenFor(t, kOpenCredit, nullptr);
    return;
  }
  VnpuTenantDevice& td = tenant->devices[dev];
  uint64_t now = MonotonicNs();
  __atomic_store_n(&td.last_demand_ns, now, __ATOMIC_RELEASE);
  __atomic_fetch_add(&td.launches, 1, __ATOMIC_RELAXED);
  int32_t chip = cfg.chip_of_device[dev];
  if (__atomic_load_n(&td.chip, __ATOMIC_RELAXED) != chip) {
    __atomic_store_n(&td.chip, chip, __ATOMIC_RELEASE);  // first use of this device
  }
  const VnpuGrantPage* g = Grants(cfg, now);
  if (g == nullptr) {
    OpenFor(t, kOpenCredit, "no grant page (arbiter not running)");
    return;
  }
  int32_t index = TenantIndex(g, tenant->tenant_id);
  if (chip < 0 || chip >= static_cast<int32_t>(VNPU_MAX_CHIPS) || index < 0) {
    OpenFor(t, kOpenCredit, nullptr);
    return;
  }
  if (Stale(g, now)) {
    OpenFor(t, kOpenCredit, "arbiter heartbeat stale");
    return;
  }
  const VnpuGrantChip& c = g->chips[chip];
  uint64_t token = static_cast<uint64_t>(index) + 1;
  if ((Load(c.grant_word) & kOwnerMask) != token) {
    __atomic_fetch_add(&td.waiters, 1, __ATOMIC_ACQ_REL);
    while (true) {
      uint32_t seq = Load(c.seq);
      if ((Load(c.grant_word) & kOwnerMask) == token) {
        break;
      }
      now = MonotonicNs();
      if (Stale(g, now)) {
        __atomic_fetch_sub(&td.waiters, 1, __ATOMIC_ACQ_REL);
        OpenFor(t, kOpenCredit, "arbiter heartbeat stale");
        return;
      }
      __atomic_store_n(&td.last_demand_ns, now, __ATOMIC_RELEASE);
      FutexWait(&c.seq, seq, 2'000'000);
    }
    __atomic_fetch_sub(&td.waiters, 1, __ATOMIC_ACQ_REL);
  }
  t.open = false;
  t.word = &c.grant_word;
  t.token = token;
  t.epoch = Load(c.grant_word) >> 16;
  t.credit = kLaunchCredit - 1;  // this launch uses one
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
  s.word = t.word;
  s.token = t.token;
  s.dev = static_cast<uint32_t>(dev);
  s.launch_epoch = t.epoch;
  __atomic_fetch_add(&s.device->syncing, 1, __ATOMIC_ACQ_REL);
  return s;
}

void SyncEnd(const SyncScope& s) {
  if (s.device == nullptr) {
    return;
  }
  __atomic_fetch_sub(&s.device->syncing, 1, __ATOMIC_ACQ_REL);
  uint64_t w = Load(*s.word);
  uint64_t current = w >> 16;
  if (current == s.launch_epoch || current - s.launch_epoch >= 4) {
    return;  // still our grant, or too many grants ago to know when ours ended
  }
  // grant_word is the first field of VnpuGrantChip.
  const auto* chip = reinterpret_cast<const VnpuGrantChip*>(s.word);
  uint64_t ours_ended = Load(chip->epoch_start_ns[(s.launch_epoch + 1) % 4]);
  uint64_t stop = MonotonicNs();
  if ((w & kOwnerMask) == s.token) {
    uint64_t regained = Load(chip->granted_at_ns);  // from then on it is held time again
    stop = regained < stop ? regained : stop;
  }
  if (stop <= ours_ended) {
    return;
  }
  uint64_t overrun = stop - ours_ended < kMaxOverrunNs ? stop - ours_ended : kMaxOverrunNs;
  uint64_t epoch = s.launch_epoch;
  static constinit uint64_t epochs[VNPU_MAX_DEVICES] = {};
  static constinit uint64_t reported[VNPU_MAX_DEVICES] = {};
  pthread_mutex_lock(&g_gate_mutex);
  if (epochs[s.dev] != epoch) {
    epochs[s.dev] = epoch;
    reported[s.dev] = 0;
  }
  if (overrun > reported[s.dev]) {
    __atomic_fetch_add(&s.device->overrun_ns, overrun - reported[s.dev], __ATOMIC_RELEASE);
    reported[s.dev] = overrun;
  }
  pthread_mutex_unlock(&g_gate_mutex);
}

void GateAfterForkChild() {
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&g_gate_mutex, &fresh, sizeof(fresh));
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
