#include "deviceplugin/allocate/pod_locator.h"

#include <algorithm>
#include <charconv>
#include <tuple>

#include "hami/pod_devices.h"
#include "hami/types.h"
#include "kube/api_error.h"
#include "kube/resource.h"

namespace npushare::deviceplugin::allocate {
namespace {

const std::string* Annotation(const kube::PodView& pod, const char* key) {
  auto it = pod.meta.annotations.find(key);
  return it == pod.meta.annotations.end() ? nullptr : &it->second;
}

// BindTimeKey: (0, seconds, "") for a decimal unix time, (1, 0, text) otherwise, so numeric
// times sort first and in time order.
std::tuple<int, int64_t, std::string> BindTimeKey(const std::string& text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec == std::errc() && ptr == end && !text.empty()) {
    return {0, v, ""};
  }
  return {1, 0, text};
}

bool IsCandidate(const kube::PodView& pod, std::string_view node, const std::string& cw) {
  if (pod.meta.deletion_timestamp || pod.phase != "Pending") {
    return false;
  }
  const std::string* phase = Annotation(pod, hami::kBindPhaseAnnotation);
  const std::string* assigned = Annotation(pod, hami::kAssignedNodeAnnotation);
  return Annotation(pod, hami::kBindTimeAnnotation) != nullptr && phase != nullptr &&
         *phase == "allocating" && assigned != nullptr && *assigned == node &&
         HasPendingEntry(pod.meta.annotations, cw);
}

Result<LocatedPod> FromObject(nlohmann::json object, bool via_lock) {
  LocatedPod located;
  NPUSHARE_ASSIGN_OR_RETURN(located.view, kube::ParsePod(object));
  located.ref = {located.view.meta.namespace_name, located.view.meta.name};
  located.object = std::move(object);
  located.via_lock = via_lock;
  return located;
}

}  // namespace

bool HasPendingEntry(const std::map<std::string, std::string>& annotations, const std::string& cw) {
  auto it = annotations.find(hami::DevicesToAllocateKey(cw));
  if (it == annotations.end()) {
    return false;
  }
  Result<hami::PodDevices> decoded = hami::DecodePodDevices(it->second);
  if (!decoded.ok()) {
    return true;
  }
  return std::any_of(decoded->begin(), decoded->end(),
                     [](const hami::ContainerDevices& c) { return !c.empty(); });
}

std::optional<size_t> SelectPendingPod(const std::vector<kube::PodView>& pods,
                                       std::string_view node, const std::string& cw) {
  std::optional<size_t> best;
  auto key = [&](size_t i) {
    const std::string* t = Annotation(pods[i], hami::kBindTimeAnnotation);
    return std::tuple_cat(BindTimeKey(t != nullptr ? *t : std::string()),
                          std::tie(pods[i].meta.namespace_name, pods[i].meta.name));
  };
  for (size_t i = 0; i < pods.size(); ++i) {
    if (IsCandidate(pods[i], node, cw) && (!best || key(i) < key(*best))) {
      best = i;
    }
  }
  return best;
}

PodLocator::PodLocator(kube::KubeClient& client, std::string node, std::string common_word)
    : client_(client), node_(std::move(node)), cw_(std::move(common_word)) {}

Result<LocatedPod> PodLocator::Locate() const {
  NPUSHARE_ASSIGN_OR_RETURN(nlohmann::json node_obj, client_.Get(kube::kNodes, "", node_));
  NPUSHARE_ASSIGN_OR_RETURN(kube::ObjectMeta node_meta, kube::ParseObjectMeta(node_obj));
  // last_resort: a lock holder waiting for allocation whose annotations name nothing pending
  // here; used only when the list has no better pod, so that its Allocate fails with the
  // annotation error (and releases the lock) instead of "no pod".
  std::optional<LocatedPod> last_resort;
  auto lock_it = node_meta.annotations.find(hami::kNodeLockAnnotation);
  if (lock_it != node_meta.annotations.end()) {
    NPUSHARE_ASSIGN_OR_RETURN(hami::NodeLock lock, hami::ParseNodeLock(lock_it->second));
    if (!lock.ns.empty() && !lock.name.empty()) {
      Result<nlohmann::json> holder = client_.Get(kube::kPods, lock.ns, lock.name);
      if (holder.ok()) {
        NPUSHARE_ASSIGN_OR_RETURN(LocatedPod located, FromObject(std::move(*holder), true));
        if (!located.view.meta.deletion_timestamp) {
          if (HasPendingEntry(located.view.meta.annotations, cw_)) {
            return located;
          }
          auto phase = located.view.meta.annotations.find(hami::kBindPhaseAnnotation);
          if (phase != located.view.meta.annotations.end() && phase->second == "allocating") {
            last_resort = std::move(located);
          }
        }
      } else if (!kube::IsNotFound(holder.status())) {
        return holder.status().WithContext("reading node lock holder " + lock.ns + "/" + lock.name);
      }
    }
  }
  kube::ListOptions options;
  options.field_selector = "spec.nodeName=" + node_;
  NPUSHARE_ASSIGN_OR_RETURN(nlohmann::json list, client_.ListAll(kube::kPods, "", options));
  const nlohmann::json& items = kube::Field(list, "items");
  std::vector<kube::PodView> views;
  std::vector<const nlohmann::json*> objects;
  if (items.is_array()) {
    for (const nlohmann::json& item : items) {
      Result<kube::PodView> view = kube::ParsePod(item);
      if (view.ok()) {  // an unreadable pod cannot be ours to allocate
        views.push_back(std::move(*view));
        objects.push_back(&item);
      }
    }
  }
  std::optional<size_t> chosen = SelectPendingPod(views, node_, cw_);
  if (chosen) {
    return FromObject(*objects[*chosen], false);
  }
  if (last_resort) {
    return std::move(*last_resort);
  }
  return NotFoundError("no binding pod found on node " + node_);
}

}  // namespace npushare::deviceplugin::allocate
