// File: softslice/arbiter/arbiter_loop.h
//
// ArbiterLoop: npushare-arbiter's scheduling loop. It ticks the Arbiter on a fixed grid of
// deadlines (start, start + tick, start + 2 tick, ...), each tick at the time the clock reads
// after the sleep, and hands the metrics text to a sink once per metrics period. Every tick is
// where grants rotate, slices end, idle owners lose their chips, tenants are (re-)adopted at
// each rescan and the grant page's heartbeat moves (Arbiter::Tick), so driving this loop on a
// fake TickClock (tick_clock.h) tests all of that tick by tick.
//
// Lateness: a tick that starts late keeps the grid (the following deadlines are already due,
// so the missed ticks run back to back, each at the clock's current time); a loop more than
// max_lag_ticks behind (the machine was suspended) restarts the grid at the current time
// instead of running hundreds of catch-up ticks.
//
// Usage (main.cc):
//   MonotonicTickClock clock;
//   ArbiterLoop loop(*arbiter, clock, {.tick_ns = tick_us * 1000}, publish_metrics);
//   loop.Start();                       // first tick; then print READY
//   loop.RunUntil([] { return g_stop.load() != 0; });
//
// Thread safety: not thread-safe; one thread runs the loop. The sink is called on that thread.
#pragma once

#include <stdint.h>

#include <functional>
#include <string>

#include "softslice/arbiter/arbiter.h"
#include "softslice/arbiter/tick_clock.h"

namespace npushare::softslice {

struct ArbiterLoopOptions {
  // Scheduling period. Shorter: grants follow demand sooner, at one Tick's CPU cost per
  // period (default 1 ms, --tick-us).
  uint64_t tick_ns = 1'000'000;
  // How often the sink gets the metrics text (default 1 s).
  uint64_t metrics_period_ns = 1'000'000'000;
  // A loop that wakes more than this many ticks after its deadline restarts the grid at the
  // current time rather than catching up tick by tick (default 100).
  uint64_t max_lag_ticks = 100;
};

class ArbiterLoop {
 public:
  // MetricsSink: receives Arbiter::MetricsText() once per metrics period (empty: no metrics).
  using MetricsSink = std::function<void(std::string)>;

  // ArbiterLoop: `arbiter` and `clock` must outlive the loop. REQUIRES: options.tick_ns > 0.
  ArbiterLoop(Arbiter& arbiter, TickClock& clock, ArbiterLoopOptions options,
              MetricsSink metrics_sink = nullptr);
  ArbiterLoop(const ArbiterLoop&) = delete;
  ArbiterLoop& operator=(const ArbiterLoop&) = delete;

  // Start: the first tick, at the clock's current time, which becomes the grid's origin.
  // REQUIRES: called once, before Step.
  void Start();

  // Step: sleeps until the next deadline, ticks at the clock's time after the sleep, and
  // publishes the metrics when their period has passed (the first Step publishes).
  void Step();

  // RunUntil: Step while `stop()` is false (checked before every step).
  void RunUntil(const std::function<bool()>& stop);

  // ticks: Arbiter::Tick calls so far (Start included).
  uint64_t ticks() const { return ticks_; }
  // next_deadline_ns: the deadline the next Step sleeps until.
  uint64_t next_deadline_ns() const { return deadline_ns_ + options_.tick_ns; }
  // last_tick_ns: the time passed to the latest Arbiter::Tick.
  uint64_t last_tick_ns() const { return last_tick_ns_; }

 private:
  Arbiter& arbiter_;
  TickClock& clock_;
  ArbiterLoopOptions options_;
  MetricsSink metrics_sink_;
  uint64_t deadline_ns_ = 0;      // the current tick's deadline on the grid
  uint64_t next_metrics_ns_ = 0;  // publish at the first tick at or after this
  uint64_t last_tick_ns_ = 0;
  uint64_t ticks_ = 0;
};

}  // namespace npushare::softslice
