#include "scheduling/allocation_annotations.h"

#include "hami/pod_devices.h"
#include "hami/runtime_info.h"
#include "scheduling/template_trimmer.h"

namespace npushare::scheduling {

hami::Annotations ChipAllocationAnnotations(const config::ChipConfig& chip, bool pod_hami_core,
                                            const hami::PodDevices* devices,
                                            int64_t now_unix_seconds) {
  hami::Annotations out;
  if (devices == nullptr) {
    return out;
  }
  const std::string text = hami::EncodePodDevices(*devices);
  const std::string& cw = chip.common_word;
  out[hami::DevicesToAllocateKey(cw)] = text;
  out[hami::DevicesAllocatedKey(cw)] = text;
  out[hami::kPredicateTimeAnnotation] = std::to_string(now_unix_seconds);

  std::vector<hami::RuntimeInfoEntry> info;
  for (const auto& container : *devices) {
    for (const auto& d : container) {
      hami::RuntimeInfoEntry e;
      e.uuid = d.uuid;
      if (!pod_hami_core) {
        e.temp = TrimMemory(chip, d.usedmem).template_name;
      }
      if (d.usedmem != 0) {
        e.memory = d.usedmem;
      }
      if (d.usedcores != 0) {
        e.core = d.usedcores;
      }
      info.push_back(std::move(e));
    }
  }
  out[hami::RuntimeInfoKey(cw)] = hami::EncodeRuntimeInfo(info);
  return out;
}

hami::Annotations FilterAnnotations(const config::DeviceConfig& config, bool pod_hami_core,
                                    const std::string& node, const PodAllocation& allocation,
                                    int64_t now_unix_seconds) {
  hami::Annotations out;
  out[hami::kAssignedNodeAnnotation] = node;
  out[hami::kAssignedTimeAnnotation] = std::to_string(now_unix_seconds);
  for (const auto& [cw, devices] : allocation) {
    const config::ChipConfig* chip = config.FindByCommonWord(cw);
    if (chip == nullptr) {
      continue;
    }
    hami::Annotations a =
        ChipAllocationAnnotations(*chip, pod_hami_core, &devices, now_unix_seconds);
    out.insert(a.begin(), a.end());
  }
  return out;
}

}  // namespace npushare::scheduling
