#include "deviceplugin/kubelet/advertised_devices.h"

#include <algorithm>

namespace npushare::deviceplugin {

std::vector<PluginDevice> AdvertisedDevices(const NodeDevices& devices) {
  const int32_t per_chip = std::max(devices.vdevice_count, 1);
  std::vector<PluginDevice> out;
  out.reserve(devices.chips.size() * static_cast<size_t>(per_chip));
  for (const Chip& chip : devices.chips) {
    for (int32_t k = 0; k < per_chip; ++k) {
      out.push_back(PluginDevice{chip.uuid + "-" + std::to_string(k), chip.healthy});
    }
  }
  return out;
}

PluginResource PluginResourceFor(const NodeDevices& devices) {
  return PluginResource{devices.resource_name, devices.common_word + ".sock"};
}

}  // namespace npushare::deviceplugin
