// File: scheduler/service/lease_follower.h
//
// LeaseFollower: npushare-scheduler's "follow kube-scheduler" leader mode. The scheduler pod runs
// two containers (kube-scheduler with npushare as its extender on 127.0.0.1, and
// npushare-scheduler). kube-scheduler calls /bind on the npushare-scheduler of ITS OWN pod, so
// with two replicas the npushare replica that binds must be the one beside the active
// kube-scheduler. Two independent elections (kube-scheduler's Lease and an npushare Lease) can
// pick different pods, and then no pod is ever bound. Instead of campaigning, a LeaseFollower
// reads the Lease kube-scheduler holds and leads exactly while that Lease names this pod.
//
// Relation of the types:
//   FollowedLease       which Lease to follow (from a flag or kube-scheduler's own config file)
//   JudgeLease()        pure: does this Lease object name this host as a live holder?
//   LeaseFollower       polls the Lease through KubeClient and reports leadership changes
//
// The identity rule. kube-scheduler's holder identity is "<hostname>_<uuid>": its options
// (kubernetes/kubernetes cmd/kube-scheduler/app/options/options.go, makeLeaderElectionConfig)
// do `hostname, err := os.Hostname()` then `id := hostname + "_" + string(uuid.NewUUID())`
// ("add a uniquifier so that two processes on the same host don't accidentally both become
// active"). Both containers of a pod share its UTS namespace, so kube-scheduler's
// os.Hostname() is our gethostname() (the pod name, truncated by kubelet to 63 characters).
// A holder names us when it is exactly "<our hostname>_" followed by a non-empty suffix;
// hostnames contain no '_', so "pod-1" is never mistaken for "pod-10_<uuid>".
//
// Expiry. A Lease whose renewTime + leaseDurationSeconds is not after Clock::WallNow() has no
// live holder: kube-scheduler stopped renewing and has itself stopped scheduling (its renew
// deadline is shorter than the lease). Comparing the holder's timestamp with our wall clock is
// skew-free here because the only holder we ever accept is the kube-scheduler in our own pod,
// on the same node's clock.
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(FollowedLease lease,
//                             LoadFollowedLeaseFromKubeSchedulerConfig("/config/config.yaml"));
//   LeaseFollowerOptions o;
//   o.namespace_name = lease.namespace_name;
//   o.lease_name = lease.lease_name;
//   o.hostname = LocalHostname();
//   LeaseFollower follower(client, o, [&](bool leader) { svc->SetLeader(leader); }, clock);
//   std::thread t([&] { follower.Run(); });  ...  follower.Stop(); t.join();
//
// Thread safety: LeaseFollower is safe for concurrent use; checks are serialised; the
// on_change callback runs on the thread that called CheckOnce()/Run(). The free functions are
// pure (LoadFollowedLeaseFromKubeSchedulerConfig reads one file).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "kube/clock.h"
#include "kube/kube_client.h"

namespace npushare::scheduler {

// FollowedLease: the Lease kube-scheduler elects on. Defaults are kube-scheduler's
// (leaderElection.resourceNamespace / resourceName of KubeSchedulerConfiguration).
struct FollowedLease {
  // leader_elect: false when kube-scheduler's config turns its election off; then every
  // kube-scheduler schedules and each binds through its own pod's npushare, so every
  // npushare replica must lead (there is no Lease to follow).
  bool leader_elect = true;
  std::string namespace_name = "kube-system";
  std::string lease_name = "kube-scheduler";
};

// ParseFollowedLeaseFlag: "[NAMESPACE/]NAME" (e.g. "kube-system/kube-scheduler"; a bare NAME
// is in kube-system). kInvalidArgument when a part is empty, there is more than one '/', or a
// part is not a DNS-1123 subdomain of at most 253 characters.
Result<FollowedLease> ParseFollowedLeaseFlag(std::string_view text);

// FollowedLeaseFromKubeSchedulerConfig: the leaderElection stanza of a KubeSchedulerConfiguration
// (YAML text, kubescheduler.config.k8s.io/v1 or v1beta*), with kube-scheduler's defaults for
// absent fields (leaderElect true, kube-system/kube-scheduler). kInvalidArgument when the text
// is not one such document, a field has the wrong type, a name is not a DNS-1123 subdomain, or
// resourceLock names anything but "leases" (the only lock kube-scheduler still supports).
Result<FollowedLease> FollowedLeaseFromKubeSchedulerConfig(std::string_view yaml_text);

// LoadFollowedLeaseFromKubeSchedulerConfig: the same for a file (at most 1 MiB); the
// ReadFileLimited code (kNotFound, kPermissionDenied, kOutOfRange, ...) when it cannot be read.
// The file is read once: kube-scheduler itself reads its config only at start-up.
Result<FollowedLease> LoadFollowedLeaseFromKubeSchedulerConfig(const std::string& path);

// LocalHostname: gethostname(), else $HOSTNAME; "" when neither is available.
std::string LocalHostname();

// HolderNamesHost: true when `holder` is "<hostname>_<non-empty suffix>". False for an empty
// hostname.
bool HolderNamesHost(std::string_view holder, std::string_view hostname);

// LeaseVerdict: what one look at the Lease concluded. Only kLeader means "lead".
enum class LeaseVerdict {
  kLeader,       // held by "<our hostname>_..." and not expired
  kOtherHolder,  // held by someone else (not expired)
  kNoHolder,     // holderIdentity empty or absent (kube-scheduler released it)
  kExpired,      // renewTime + leaseDurationSeconds is past
  kNotFound,     // no such Lease (kube-scheduler has not started electing yet)
  kMalformed,    // not a Lease we can judge: missing/ill-typed spec, renewTime or duration
  kUnreadable,   // the API call failed and no earlier Lease is known
};

// LeaseVerdictName: "leader", "other_holder", "no_holder", "expired", "not_found",
// "malformed", "unreadable".
const char* LeaseVerdictName(LeaseVerdict v);

// JudgeLease: the verdict for a coordination.k8s.io/v1 Lease object `lease` as seen by a pod
// whose hostname is `hostname` at wall time `now`. Never kNotFound/kUnreadable. A holder that is
// neither us nor expired is kOtherHolder; malformed fields are judged only when needed (a Lease
// held by another pod is kOtherHolder even with a bad renewTime). leaseDurationSeconds must be
// an integer in [1, 86400].
LeaseVerdict JudgeLease(const nlohmann::json& lease, std::string_view hostname,
                        std::chrono::system_clock::time_point now);

struct LeaseFollowerOptions {
  // --- correctness ---
  // namespace_name / lease_name: the Lease kube-scheduler holds (FollowedLease).
  std::string namespace_name = "kube-system";
  std::string lease_name = "kube-scheduler";
  // hostname: this pod's hostname (LocalHostname()). REQUIRES: non-empty.
  std::string hostname;
  // log: one line per call, no trailing newline; called on leadership changes and when the
  // reason for not leading changes (not on every poll). Default (empty): stderr.
  std::function<void(const std::string&)> log;

  // --- parameters that affect performance ---
  // poll_period: time between two GETs of the Lease in Run(). A new active kube-scheduler
  // finds this replica leading at most about one period after it took the Lease (its binds
  // before that fail and are retried). Cost: one GET per period per replica. Default 1 s
  // (kube-scheduler's own retry period is 2 s).
  std::chrono::milliseconds poll_period{1000};
};

class LeaseFollower {
 public:
  // LeaseFollower: REQUIRES: client and clock outlive this; options.hostname non-empty.
  // `on_change(leader)` is called whenever IsLeader() flips (it starts false), on the thread
  // that ran the check; it may be empty.
  LeaseFollower(kube::KubeClient& client, LeaseFollowerOptions options,
                std::function<void(bool leader)> on_change, kube::Clock& clock = kube::RealClock());
  LeaseFollower(const LeaseFollower&) = delete;
  LeaseFollower& operator=(const LeaseFollower&) = delete;

  // CheckOnce: one GET of the Lease and a verdict; updates IsLeader() and calls on_change on a
  // flip. A 404 is kNotFound. Any other API error re-judges the last Lease read (so a leader
  // keeps leading through a short API outage only until that Lease would expire); without one
  // it is kUnreadable. Never throws.
  LeaseVerdict CheckOnce();

  // Run: CheckOnce() every poll_period until Stop(); then, if leading, steps down (on_change
  // (false)) before returning.
  void Run();
  // Stop: makes Run() return within about one poll_period.
  void Stop() { stop_.store(true); }

  bool IsLeader() const { return leader_.load(); }
  // ObservedHolder: holderIdentity of the last Lease read ("" when none).
  std::string ObservedHolder() const NPUSHARE_EXCLUDES(holder_mu_);

 private:
  void Log(const std::string& line) const;
  void SetLeader(bool leader);

  kube::KubeClient& client_;
  const LeaseFollowerOptions options_;
  const std::function<void(bool)> on_change_;
  kube::Clock& clock_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> leader_{false};
  Mutex check_mu_;  // serialises CheckOnce()
  // last_lease_ / last_verdict_: guarded by check_mu_.
  std::optional<nlohmann::json> last_lease_ NPUSHARE_GUARDED_BY(check_mu_);
  std::optional<LeaseVerdict> last_verdict_ NPUSHARE_GUARDED_BY(check_mu_);
  mutable Mutex holder_mu_;
  std::string observed_holder_ NPUSHARE_GUARDED_BY(holder_mu_);
};

}  // namespace npushare::scheduler
