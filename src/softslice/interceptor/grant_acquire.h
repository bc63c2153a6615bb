// File: softslice/interceptor/grant_acquire.h
//
// The gated slow path's last step (launch_gate.cc): wait until the tenant owns the chip's grant,
// then publish the grant word that passed the owner check into the thread's gate state, which
// the fast path (GateFastOn, launch_gate.h) compares whole with the live word.
//
// Seam: AcquireGrant is a template over an environment `Env` that supplies everything read from
// outside (grant and seq words of the shared grant page, the clock, the checks made while
// waiting, the futex wait). launch_gate.cc instantiates it once with its production
// environment, whose members are inline atomic loads and calls: after inlining the code is the
// same as before the seam (no indirect call, no extra branch). The unit tests
// (tests/unit/softslice/gate_interleave_test.cc) instantiate it with a scripted environment
// that changes the words between any two reads, so interleavings such as "the owner changes
// between the check and the publish" (the race fixed in 3d4f571) are replayed step by step.
//
// Env must provide (all called on the launching thread):
//   uint64_t GrantWord();              // acquire load of the chip's grant word
//   const uint64_t* GrantWordAddress() const;  // where the fast path will load it from
//   uint32_t Seq();                    // acquire load of the chip's seq word (futex)
//   uint64_t Now();                    // monotonic clock, ns
//   GrantWaitVerdict Check(uint64_t now);  // while waiting: dropped/broken page, stale arbiter
//   void AddWaiter(int32_t delta);     // the tenant device's waiter count
//   void ShowDemand(uint64_t now);     // the tenant device's last_demand_ns
//   void Block(uint32_t seq);          // observe fences, then wait for `seq` to change
//
// Thread safety: acts on the calling thread's GateThread; Env does the shared-memory access.
#pragma once

#include <stdint.h>

#include "softslice/interceptor/launch_gate.h"

namespace npushare::vnpu {

// What Env::Check decided while waiting for the grant.
enum class GrantWaitVerdict : uint8_t {
  kKeepWaiting,
  kThrottle,  // our page dropped/garbage or the grant page lost: this launch only
  kStale,     // arbiter heartbeat stale: ungated from now on
};

enum class GrantAcquired : uint8_t { kGranted, kThrottle, kStale };

// AcquireGrant: waits (through env) until the owner field of the grant word is `token`, then
// publishes that word to `t` for the fast path: `credit` launches (this one included) on
// `stream` of device `dev`. `now`: the clock reading of the caller's fence, the batch start
// when no wait was needed. Returns kGranted after publishing; otherwise `t` is untouched and
// the caller opens the gate (kStale) or throttles (kThrottle).
template <typename Env>
GrantAcquired AcquireGrant(Env& env, GateThread& t, uint64_t token, int32_t credit, void* stream,
                           int32_t dev, uint64_t now) {
  // `held`: the grant word that showed us as the owner. The fast path compares the whole word
  // with it, so it must be the word that passed the check, not a later read (which could
  // already be another tenant's grant): the 3d4f571 fix.
  uint64_t held = env.GrantWord();
  bool waited = false;
  if ((held & kOwnerMask) != token) {
    env.AddWaiter(1);
    waited = true;
    while (true) {
      uint32_t seq = env.Seq();
      held = env.GrantWord();
      if ((held & kOwnerMask) == token) {
        break;
      }
      now = env.Now();
      GrantWaitVerdict v = env.Check(now);
      if (v != GrantWaitVerdict::kKeepWaiting) {
        env.AddWaiter(-1);
        return v == GrantWaitVerdict::kStale ? GrantAcquired::kStale : GrantAcquired::kThrottle;
      }
      env.ShowDemand(now);
      env.Block(seq);
    }
    env.AddWaiter(-1);
  }
  t.open = false;
  t.word = env.GrantWordAddress();
  t.expect = held;  // if the word changed since, the next launch's fast path fails: safe
  t.epoch = held >> 16;
  t.credit = credit - 1;  // this launch uses one
  t.batch = credit;
  t.stream = stream;
  t.stream_dev = dev;
  t.batch_start_ns = waited ? env.Now() : now;
  return GrantAcquired::kGranted;
}

}  // namespace npushare::vnpu
