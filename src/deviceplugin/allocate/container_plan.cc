#include "deviceplugin/allocate/container_plan.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "hami/pod_devices.h"
#include "hami/runtime_info.h"

namespace npushare::deviceplugin::allocate {
namespace {

const std::string* Annotation(const kube::PodView& pod, const std::string& key) {
  auto it = pod.meta.annotations.find(key);
  return it == pod.meta.annotations.end() ? nullptr : &it->second;
}

// PositionalRuntimeInfo: the popped container's RuntimeInfo elements by position, or nullopt
// when the annotations do not line up (see the header).
std::optional<std::vector<hami::RuntimeInfoEntry>> PositionalRuntimeInfo(
    const kube::PodView& pod, const std::string& cw,
    const std::vector<hami::RuntimeInfoEntry>& list, const hami::PoppedContainer& popped) {
  const std::string* allocated = Annotation(pod, hami::DevicesAllocatedKey(cw));
  if (allocated == nullptr) {
    return std::nullopt;
  }
  Result<hami::PodDevices> decoded = hami::DecodePodDevices(*allocated);
  if (!decoded.ok() || popped.container_index >= decoded->size() ||
      (*decoded)[popped.container_index] != popped.devices) {
    return std::nullopt;
  }
  size_t position = 0;
  size_t offset = 0;
  for (size_t c = 0; c < decoded->size(); ++c) {
    if (c == popped.container_index) {
      offset = position;
    }
    for (const hami::ContainerDevice& d : (*decoded)[c]) {
      if (position >= list.size() || list[position].uuid != d.uuid) {
        return std::nullopt;
      }
      ++position;
    }
  }
  if (position != list.size()) {
    return std::nullopt;
  }
  return std::vector<hami::RuntimeInfoEntry>(list.begin() + static_cast<ptrdiff_t>(offset),
                                             list.begin() + static_cast<ptrdiff_t>(offset) +
                                                 static_cast<ptrdiff_t>(popped.devices.size()));
}

}  // namespace

Result<std::vector<std::string>> ResolveKubeletIds(const NodeDevices& devices,
                                                   const std::vector<std::string>& ids) {
  std::vector<std::string> uuids;
  for (const std::string& id : ids) {
    const size_t dash = id.rfind('-');
    bool ok = dash != std::string::npos && dash > 0 && dash + 1 < id.size();
    int64_t k = -1;
    if (ok) {
      const char* end = id.data() + id.size();
      auto [ptr, ec] = std::from_chars(id.data() + dash + 1, end, k);
      ok = ec == std::errc() && ptr == end && k >= 0 && k < std::max(devices.vdevice_count, 1);
    }
    const std::string uuid = ok ? id.substr(0, dash) : std::string();
    ok = ok && std::any_of(devices.chips.begin(), devices.chips.end(),
                           [&](const Chip& c) { return c.uuid == uuid; });
    if (!ok) {
      return InvalidArgumentError("kubelet asked for device \"" + id.substr(0, 128) +
                                  "\", which this plugin does not advertise for " +
                                  devices.resource_name);
    }
    uuids.push_back(uuid);
  }
  return uuids;
}

Result<ContainerPlan> PlanContainer(const kube::PodView& pod, const NodeDevices& devices,
                                    const std::vector<std::string>& kubelet_ids) {
  const std::string& cw = devices.common_word;

  const std::string* runtime_text = Annotation(pod, hami::RuntimeInfoKey(cw));
  if (runtime_text == nullptr) {
    return InvalidArgumentError("build runtimeInfo lookup: annotation " + hami::RuntimeInfoKey(cw) +
                                " not set");
  }
  NPUSHARE_ASSIGN_OR_RETURN(std::vector<hami::RuntimeInfoEntry> runtime_list,
                            hami::DecodeRuntimeInfoList(*runtime_text, cw));

  const std::string* to_allocate = Annotation(pod, hami::DevicesToAllocateKey(cw));
  if (to_allocate == nullptr) {
    return InvalidArgumentError("device " + cw + " not found in pod annotations");
  }
  NPUSHARE_ASSIGN_OR_RETURN(hami::PodDevices pending, hami::DecodePodDevices(*to_allocate));
  NPUSHARE_ASSIGN_OR_RETURN(hami::PoppedContainer popped, hami::PopFirstNonEmptyContainer(pending));

  ContainerPlan plan;
  plan.container_index = popped.container_index;
  const size_t inits = pod.init_containers.size();
  if (popped.container_index < inits) {
    plan.container_name = pod.init_containers[popped.container_index].name;
    plan.init_container = true;
  } else if (popped.container_index - inits < pod.containers.size()) {
    plan.container_name = pod.containers[popped.container_index - inits].name;
  } else {
    return InvalidArgumentError("annotation " + hami::DevicesToAllocateKey(cw) +
                                " has devices for container entry " +
                                std::to_string(popped.container_index) + " but the pod has only " +
                                std::to_string(inits + pod.containers.size()) + " containers");
  }
  if (popped.devices.size() != kubelet_ids.size()) {
    return InvalidArgumentError("device number not matched: annotation has " +
                                std::to_string(popped.devices.size()) + ", request has " +
                                std::to_string(kubelet_ids.size()));
  }

  std::optional<std::vector<hami::RuntimeInfoEntry>> positional =
      PositionalRuntimeInfo(pod, cw, runtime_list, popped);
  plan.per_container_runtime_info = positional.has_value();
  std::map<std::string, hami::RuntimeInfoEntry> by_uuid;
  if (!positional) {
    for (const hami::RuntimeInfoEntry& e : runtime_list) {
      if (!e.uuid.empty()) {
        by_uuid[e.uuid] = e;  // last wins, as upstream
      }
    }
  }
  std::multiset<std::string> annotated;
  for (size_t i = 0; i < popped.devices.size(); ++i) {
    const hami::ContainerDevice& d = popped.devices[i];
    auto chip = std::find_if(devices.chips.begin(), devices.chips.end(),
                             [&](const Chip& c) { return c.uuid == d.uuid; });
    if (chip == devices.chips.end()) {
      return InvalidArgumentError("build container allocate response: unknown uuid: " +
                                  d.uuid.substr(0, 128));
    }
    PlannedDevice planned;
    planned.device = d;
    planned.phys_id = chip->phys_id;
    if (positional) {
      planned.runtime = (*positional)[i];
    } else if (auto it = by_uuid.find(d.uuid); it != by_uuid.end()) {
      planned.runtime = it->second;
    }
    plan.devices.push_back(std::move(planned));
    annotated.insert(d.uuid);
  }
  NPUSHARE_ASSIGN_OR_RETURN(std::vector<std::string> kubelet_uuids,
                            ResolveKubeletIds(devices, kubelet_ids));
  plan.kubelet_chips_differ =
      annotated != std::multiset<std::string>(kubelet_uuids.begin(), kubelet_uuids.end());
  plan.remaining_text = hami::EncodePodDevices(pending);
  plan.last = std::all_of(pending.begin(), pending.end(),
                          [](const hami::ContainerDevices& c) { return c.empty(); });
  return plan;
}

}  // namespace npushare::deviceplugin::allocate
