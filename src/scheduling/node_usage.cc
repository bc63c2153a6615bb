#include "scheduling/node_usage.h"

#include <algorithm>
#include <optional>

#include "scheduling/fit.h"

namespace npushare::scheduling {
namespace {

struct Use {
  int32_t slots = 0;
  int64_t mem = 0;
  int32_t cores = 0;
  vnpu::ChipSlices slices;
};

void AddUsage(NodeDevices& devices, const PlacedPod& pod, const config::DeviceConfig* config);

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
      // When the registered type is the map key (the usual case), view the key: every
      // device of the node then shares one string, which Filter compares by address.
      d.type =
          info.type.empty() || info.type == cw ? std::string_view(cw) : std::string_view(info.type);
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
  AddUsage(devices, pod, nullptr);
}

void AddPodUsage(NodeDevices& devices, const PlacedPod& pod, const config::DeviceConfig& config) {
  AddUsage(devices, pod, &config);
}

namespace {

void AddUsage(NodeDevices& devices, const PlacedPod& pod, const config::DeviceConfig* config) {
  for (const auto& [cw, containers] : pod.allocation) {
    auto it = devices.find(cw);
    if (it == devices.end()) {
      continue;
    }
    const config::ChipConfig* chip = config == nullptr ? nullptr : config->FindByCommonWord(cw);
    // What one grant occupies on the chip (see the header).
    auto occupancy = [&](const hami::ContainerDevice& dev) {
      vnpu::ChipSlices one;
      std::optional<vnpu::SliceShape> slice;
      if (!pod.hami_core) {
        slice = SliceFor(*chip, dev.usedmem);
      }
      if (slice) {
        one.Add(*slice);
      } else {
        one.AddPhysical();
      }
      return one;
    };
    std::map<std::string, Use, std::less<>> init_max, app_sum;
    for (size_t i = 0; i < containers.size(); ++i) {
      const bool init = i < pod.init_containers;
      for (const auto& dev : containers[i]) {
        if (init) {
          Use& u = init_max[dev.uuid];
          u.slots = 1;
          u.mem = std::max<int64_t>(u.mem, dev.usedmem);
          u.cores = std::max(u.cores, dev.usedcores);
          if (chip != nullptr) {
            u.slices.Merge(occupancy(dev));  // vNPUs outlive the init container (header)
          }
        } else {
          Use& u = app_sum[dev.uuid];
          u.slots += 1;
          u.mem += dev.usedmem;
          u.cores += dev.usedcores;
          if (chip != nullptr) {
            u.slices.Merge(occupancy(dev));
          }
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
      // An init container's whole-chip use ends when it exits; its vNPUs do not. So the
      // init side adds its slices, and its whole-chip use only where no app container put a
      // vNPU on the chip (as memory, the init peak stands for the pod otherwise).
      const int32_t init_whole = b.slices.vnpus > 0 ? 0 : a.slices.physical_users;
      a.slices.physical_users = 0;
      b.slices.physical_users = std::max(b.slices.physical_users, init_whole);
      d.slices.Merge(a.slices);
      d.slices.Merge(b.slices);
    }
  }
}

}  // namespace

}  // namespace npushare::scheduling
