#include "scheduling/node_usage.h"

#include <algorithm>

namespace npushare::scheduling {
namespace {

struct Use {
  int32_t slots = 0;
  int64_t mem = 0;
  int32_t cores = 0;
};

}  // namespace

NodeDevices CapacityOf(const NodeState& node) {
  NodeDevices out;
  for (const auto& [cw, infos] : node.registered) {
    DeviceUsageList& list = out[cw];
    list.reserve(infos.size());
    for (const auto& info : infos) {
      DeviceUsage d;
      d.id = info.id;
      d.index = info.index;
      d.type = info.type.empty() ? cw : info.type;
      d.numa = info.numa;
      d.health = info.health;
      d.count = info.count;
      d.totalmem = info.devmem;
      d.totalcore = info.devcore;
      d.has_custom_info = info.has_custom_info;
      d.network_id = info.network_id;
      list.push_back(std::move(d));
    }
  }
  return out;
}

void AddPodUsage(NodeDevices& devices, const PlacedPod& pod) {
  for (const auto& [cw, containers] : pod.allocation) {
    auto it = devices.find(cw);
    if (it == devices.end()) {
      continue;
    }
    std::map<std::string, Use, std::less<>> init_max, app_sum;
    for (size_t i = 0; i < containers.size(); ++i) {
      const bool init = i < pod.init_containers;
      for (const auto& dev : containers[i]) {
        if (init) {
          Use& u = init_max[dev.uuid];
          u.slots = 1;
          u.mem = std::max<int64_t>(u.mem, dev.usedmem);
          u.cores = std::max(u.cores, dev.usedcores);
        } else {
          Use& u = app_sum[dev.uuid];
          u.slots += 1;
          u.mem += dev.usedmem;
          u.cores += dev.usedcores;
        }
      }
    }
    for (auto& d : it->second) {
      Use a, b;
      if (auto f = init_max.find(d.id); f != init_max.end()) {
        a = f->second;
      }
      if (auto f = app_sum.find(d.id); f != app_sum.end()) {
        b = f->second;
      }
      d.used += std::max(a.slots, b.slots);
      d.usedmem += std::max(a.mem, b.mem);
      d.usedcores += std::max(a.cores, b.cores);
    }
  }
}

}  // namespace npushare::scheduling
