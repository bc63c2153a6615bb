#include "deviceplugin/daemon/pod_name_cache.h"

#include <spdlog/spdlog.h>

#include "kube/resource.h"

namespace npushare::deviceplugin::daemon {

PodNameCache::PodNameCache(kube::KubeClient& client, std::string node,
                           std::chrono::seconds min_refresh, kube::Clock& clock)
    : client_(client), node_(std::move(node)), min_refresh_(min_refresh), clock_(clock) {}

PodNameCache::NameMap PodNameCache::Names(const std::vector<std::string>& uids) {
  MutexLock lock(&mu_);
  bool unknown = false;
  for (const std::string& uid : uids) {
    unknown = unknown || (!uid.empty() && names_.count(uid) == 0);
  }
  if (unknown && (!listed_.has_value() || clock_.Now() - *listed_ >= min_refresh_)) {
    Refresh();
  }
  NameMap out;
  for (const std::string& uid : uids) {
    auto it = names_.find(uid);
    if (it != names_.end()) {
      out.insert(*it);
    }
  }
  return out;
}

uint64_t PodNameCache::listings() const {
  MutexLock lock(&mu_);
  return listings_;
}

void PodNameCache::Refresh() {
  listed_ = clock_.Now();
  ++listings_;
  kube::ListOptions lo;
  lo.field_selector = "spec.nodeName=" + node_;
  Result<nlohmann::json> list = client_.ListAll(kube::kPods, "", lo);
  if (!list.ok()) {
    spdlog::debug("pod names for /metrics: listing the node's pods failed: {}",
                  list.status().ToString());
    return;
  }
  NameMap fresh;
  const nlohmann::json& items = list->contains("items") ? (*list)["items"] : nlohmann::json();
  if (items.is_array()) {
    for (const nlohmann::json& pod : items) {
      const nlohmann::json meta = pod.value("metadata", nlohmann::json::object());
      if (!meta.is_object()) {
        continue;
      }
      const nlohmann::json uid = meta.value("uid", nlohmann::json());
      const nlohmann::json ns = meta.value("namespace", nlohmann::json());
      const nlohmann::json name = meta.value("name", nlohmann::json());
      if (uid.is_string() && ns.is_string() && name.is_string()) {
        fresh[uid.get<std::string>()] = {ns.get<std::string>(), name.get<std::string>()};
      }
    }
  }
  names_ = std::move(fresh);
}

}  // namespace npushare::deviceplugin::daemon
