// File: kube/leader_elector.h
//
// LeaderElector: lease-based leader election on coordination.k8s.io/v1 Leases, following
// client-go's tryAcquireOrRenew (k8s-apis.md §4.10):
//   GET the lease; on 404 create it holding it; if another holder's lease was renewed less than
//   lease_duration ago (measured on OUR clock from when we last saw the record change) back
//   off; otherwise PUT it (with its resourceVersion) naming us; a 409 means we lost the race.
// The leader renews every retry_period and steps down when it could not renew for
// renew_deadline. Defaults 15 s / 10 s / 2 s.
//
// Usage:
//   LeaderElectionOptions opts;
//   opts.lease_name = "npushare-scheduler";
//   opts.identity = pod_name;
//   LeaderCallbacks callbacks;
//   callbacks.on_started_leading = [] { ... };
//   LeaderElector elector(client, opts, callbacks);
//   std::thread t([&] { elector.Run(); });  ...  elector.Stop(); t.join();
//
// Thread safety: safe for concurrent use; Run() runs on one thread at a time; callbacks run on
// the Run() thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "common/thread_annotations.h"
#include "kube/clock.h"
#include "kube/kube_client.h"

namespace npushare::kube {

struct LeaderElectionOptions {
  std::string namespace_name = "kube-system";
  std::string lease_name;
  std::string identity;  // unique per candidate, e.g. "<pod>_<uuid>"
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  // release_on_stop: on Stop(), a leader clears holderIdentity so a successor need not wait
  // out the lease. Default true.
  bool release_on_stop = true;
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
};

class LeaderElector {
 public:
  // LeaderElector: REQUIRES: client and clock outlive this; lease_name and identity non-empty;
  // renew_deadline < lease_duration.
  LeaderElector(KubeClient& client, LeaderElectionOptions options, LeaderCallbacks callbacks,
                Clock& clock = RealClock());

  // TryAcquireOrRenew: one attempt; true when we hold the lease afterwards. API errors count
  // as failure (false); they never throw or abort.
  bool TryAcquireOrRenew();

  // Run: acquire (retrying every retry_period), call on_started_leading, renew until a renewal
  // deadline is missed or Stop(), then call on_stopped_leading (only if it led). Returns after
  // Stop() or after losing leadership.
  void Run();
  // Stop: makes Run() return within about one retry_period.
  void Stop() { stop_.store(true); }

  bool IsLeader() const { return leader_.load(); }
  // ObservedHolder: the holderIdentity last read from the lease.
  std::string ObservedHolder() const NPUSHARE_EXCLUDES(mu_);

 private:
  void Release();

  KubeClient& client_;
  const LeaderElectionOptions options_;
  const LeaderCallbacks callbacks_;
  Clock& clock_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> leader_{false};
  mutable Mutex mu_;
  std::string observed_record_ NPUSHARE_GUARDED_BY(mu_);
  std::string observed_holder_ NPUSHARE_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point observed_time_ NPUSHARE_GUARDED_BY(mu_){};
};

}  // namespace npushare::kube
