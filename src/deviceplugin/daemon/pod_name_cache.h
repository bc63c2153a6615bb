// File: deviceplugin/daemon/pod_name_cache.h
//
// PodNameCache: pod UID -> {namespace, name} for this node's pods, so /metrics can give the
// per-container soft-slice series (named by pod UID in the arbiter's file) HAMi's namespace and
// pod labels. It lists the node's pods (fieldSelector spec.nodeName=<node>) only when asked for
// a UID it does not know and the last listing is at least `min_refresh` old: a scrape never
// causes more than one LIST per min_refresh, and none while every UID is known. A failed
// listing keeps the names already known (logged at debug level). Names of pods no longer
// listed are dropped at the next listing.
//
// Usage:
//   PodNameCache names(client, node_name);
//   snapshot.pod_names = names.Names({"0f3c...", ...});
//
// Thread safety: safe for concurrent use (one mutex; a listing runs under it, so concurrent
// scrapes wait for one listing instead of issuing several).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"
#include "kube/clock.h"
#include "kube/kube_client.h"

namespace npushare::deviceplugin::daemon {

class PodNameCache {
 public:
  using NameMap = std::map<std::string, std::pair<std::string, std::string>>;

  // PodNameCache: REQUIRES: client and clock outlive this.
  PodNameCache(kube::KubeClient& client, std::string node,
               std::chrono::seconds min_refresh = std::chrono::seconds(5),
               kube::Clock& clock = kube::RealClock());

  // Names: the known names of `uids` (UIDs without a known pod are left out).
  NameMap Names(const std::vector<std::string>& uids) NPUSHARE_EXCLUDES(mu_);

  // listings: LIST calls made so far (for tests and logs).
  uint64_t listings() const NPUSHARE_EXCLUDES(mu_);

 private:
  void Refresh() NPUSHARE_REQUIRES(mu_);

  kube::KubeClient& client_;
  const std::string node_;
  const std::chrono::seconds min_refresh_;
  kube::Clock& clock_;
  mutable Mutex mu_;
  NameMap names_ NPUSHARE_GUARDED_BY(mu_);
  std::optional<std::chrono::steady_clock::time_point> listed_ NPUSHARE_GUARDED_BY(mu_);
  uint64_t listings_ NPUSHARE_GUARDED_BY(mu_) = 0;
};

}  // namespace npushare::deviceplugin::daemon
