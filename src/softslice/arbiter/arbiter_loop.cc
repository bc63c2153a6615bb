// File: softslice/arbiter/arbiter_loop.cc
#include "softslice/arbiter/arbiter_loop.h"

#include <utility>

namespace npushare::softslice {

ArbiterLoop::ArbiterLoop(Arbiter& arbiter, TickClock& clock, ArbiterLoopOptions options,
                         MetricsSink metrics_sink)
    : arbiter_(arbiter), clock_(clock), options_(options), metrics_sink_(std::move(metrics_sink)) {}

void ArbiterLoop::Start() {
  deadline_ns_ = clock_.NowNs();
  next_metrics_ns_ = deadline_ns_;
  last_tick_ns_ = deadline_ns_;
  arbiter_.Tick(last_tick_ns_);
  ++ticks_;
}

void ArbiterLoop::Step() {
  deadline_ns_ += options_.tick_ns;
  clock_.SleepUntilNs(deadline_ns_);
  uint64_t now = clock_.NowNs();
  if (now > deadline_ns_ && now - deadline_ns_ > options_.max_lag_ticks * options_.tick_ns) {
    deadline_ns_ = now;  // fell far behind (suspended): do not catch up tick by tick
  }
  // Tick requires non-decreasing times; a clock can only be trusted that far.
  last_tick_ns_ = now > last_tick_ns_ ? now : last_tick_ns_;
  arbiter_.Tick(last_tick_ns_);
  ++ticks_;
  if (metrics_sink_ && last_tick_ns_ >= next_metrics_ns_) {
    next_metrics_ns_ = last_tick_ns_ + options_.metrics_period_ns;
    metrics_sink_(arbiter_.MetricsText());
  }
}

void ArbiterLoop::RunUntil(const std::function<bool()>& stop) {
  while (!stop()) {
    Step();
  }
}

}  // namespace npushare::softslice
