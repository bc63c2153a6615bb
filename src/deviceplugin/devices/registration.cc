#include "deviceplugin/devices/registration.h"

#include <algorithm>
#include <cstdint>

#include "hami/handshake.h"
#include "hami/node_register.h"

namespace npushare::deviceplugin::devices {

std::vector<hami::DeviceInfo> RegisterDeviceInfos(const NodeDevices& devices) {
  std::vector<hami::DeviceInfo> out;
  out.reserve(devices.chips.size());
  const bool network = hami::PluginHasNetworkId(devices.common_word);
  for (const Chip& chip : devices.chips) {
    hami::DeviceInfo d;
    d.id = chip.uuid;
    d.index = chip.index;
    d.count = devices.vdevice_count;
    d.devmem = static_cast<int32_t>(std::min<uint64_t>(devices.memory_mb, INT32_MAX));
    d.devcore = devices.aicore;
    d.type = devices.common_word;
    d.health = chip.healthy;
    if (network) {
      d.has_custom_info = true;
      d.network_id = hami::PluginNetworkId(chip.index, devices.common_word);
    }
    out.push_back(std::move(d));
  }
  return out;
}

nlohmann::json RegistrationPatch(const NodeDevices& devices, int64_t reported_civil_seconds) {
  nlohmann::json annotations = {
      {hami::NodeRegisterKey(devices.common_word),
       hami::EncodeNodeRegister(RegisterDeviceInfos(devices))},
      {hami::NodeHandshakeKey(devices.common_word),
       hami::FormatReportedHandshake(reported_civil_seconds)},
      {hami::kHamiVnpuCoreNodeAnnotation, devices.hami_vnpu_core ? "true" : "false"},
  };
  return {{"metadata", {{"annotations", std::move(annotations)}}}};
}

std::vector<PluginDevice> KubeletDevices(const NodeDevices& devices) {
  std::vector<PluginDevice> out;
  if (devices.vdevice_count <= 0) {
    return out;
  }
  out.reserve(devices.chips.size() * static_cast<size_t>(devices.vdevice_count));
  for (const Chip& chip : devices.chips) {
    for (int32_t k = 0; k < devices.vdevice_count; ++k) {
      out.push_back({chip.uuid + "-" + std::to_string(k), chip.healthy});
    }
  }
  return out;
}

}  // namespace npushare::deviceplugin::devices
