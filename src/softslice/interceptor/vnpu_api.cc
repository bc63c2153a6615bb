// File: softslice/interceptor/vnpu_api.cc
// The vnpu_ introspection API (hooks.h), for tests, benchmarks and diagnostics tools that run
// inside a soft-sliced container.
#include "softslice/interceptor/hooks.h"
#include "softslice/interceptor/launch_gate.h"
#include "softslice/interceptor/process_state.h"

extern "C" int vnpu_is_limited(void) {
  return npushare::vnpu::EnsureSetup().limited ? 1 : 0;
}

extern "C" int vnpu_memory_status(uint32_t dev, uint64_t* quota_bytes, uint64_t* container_used,
                                  uint64_t* process_used) {
  bool deny = false;
  npushare::vnpu::Ledger* ledger = npushare::vnpu::AttachedLedger(&deny);
  if (ledger == nullptr || dev >= VNPU_MAX_DEVICES) {
    return -1;
  }
  if (quota_bytes != nullptr) {
    *quota_bytes = ledger->Quota(dev);
  }
  if (container_used != nullptr) {
    *container_used = ledger->Used(dev);
  }
  if (process_used != nullptr) {
    const VnpuLedger* raw = ledger->raw();
    *process_used =
        __atomic_load_n(&raw->procs[ledger->slot()].charged_bytes[dev], __ATOMIC_ACQUIRE);
  }
  return 0;
}

extern "C" int vnpu_reclaim_dead(void) {
  bool deny = false;
  npushare::vnpu::Ledger* ledger = npushare::vnpu::AttachedLedger(&deny);
  return ledger == nullptr ? -1 : ledger->Sweep(0);
}

extern "C" int vnpu_gate_status(void) {
  return npushare::vnpu::GateStatus();
}
