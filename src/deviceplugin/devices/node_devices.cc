#include "deviceplugin/devices/node_devices.h"

#include <algorithm>

namespace npushare::deviceplugin::devices {
namespace {

constexpr char kAscendChipType[] = "Ascend";
constexpr int32_t kSoftSlicingCore = 100;  // core shares are percent of a chip

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

bool IsHamiVnpuCore(const config::DeviceConfig& device_config,
                    const config::NodeConfigEntry* node_entry) {
  if (node_entry != nullptr && node_entry->hami_vnpu_core.has_value()) {
    return *node_entry->hami_vnpu_core;
  }
  return device_config.hami_vnpu_core;
}

int32_t VDeviceCount(const config::ChipConfig& chip, const config::NodeConfigEntry* node_entry,
                     bool hami_vnpu_core) {
  if (node_entry != nullptr && node_entry->vdevice_count > 0) {
    return node_entry->vdevice_count;
  }
  if (hami_vnpu_core) {
    return kSoftSlicingVDeviceCount;
  }
  if (chip.templates.empty()) {
    return 1;
  }
  // Templates are sorted by memory on load, but a hand-built config may not be: take the min.
  int64_t smallest = chip.templates.front().memory_mb;
  for (const auto& t : chip.templates) {
    smallest = std::min(smallest, t.memory_mb);
  }
  if (smallest <= 0) {
    return 1;
  }
  const int64_t n = chip.memory_allocatable / smallest;
  return static_cast<int32_t>(std::clamp<int64_t>(n, 1, INT32_MAX));
}

Result<NodeDevices> BuildNodeDevices(const std::vector<DiscoveredChip>& chips,
                                     const config::DeviceConfig& device_config,
                                     const config::NodeConfig* node_config,
                                     const std::string& node_name) {
  const DiscoveredChip* model = nullptr;
  for (const DiscoveredChip& c : chips) {
    if (c.chip_type == kAscendChipType) {
      model = &c;
      break;
    }
  }
  if (model == nullptr) {
    return FailedPreconditionError("no chip of type \"Ascend\" among the " +
                                   std::to_string(chips.size()) + " chips DCMI reports");
  }
  const config::ChipConfig* chip_config = device_config.FindByChipName(model->chip_name);
  if (chip_config == nullptr) {
    return FailedPreconditionError("device config has no entry with chipName \"" +
                                   model->chip_name + "\" (the chip DCMI reports)");
  }
  const config::NodeConfigEntry* entry =
      node_config != nullptr ? node_config->Find(node_name) : nullptr;

  NodeDevices nd;
  nd.common_word = chip_config->common_word;
  nd.resource_name = chip_config->resource_name;
  nd.memory_mb = chip_config->memory_allocatable > 0
                     ? static_cast<uint64_t>(chip_config->memory_allocatable)
                     : 0;
  nd.hami_vnpu_core = IsHamiVnpuCore(device_config, entry);
  nd.aicore = nd.hami_vnpu_core ? kSoftSlicingCore : chip_config->ai_core;
  nd.vdevice_count = VDeviceCount(*chip_config, entry, nd.hami_vnpu_core);
  uint32_t index = 0;
  for (const DiscoveredChip& c : chips) {
    if (c.chip_type != kAscendChipType || c.chip_name != model->chip_name) {
      continue;
    }
    if (entry != nullptr && (Contains(entry->filter_uuids, c.uuid) ||
                             std::find(entry->filter_indexes.begin(), entry->filter_indexes.end(),
                                       c.card_id) != entry->filter_indexes.end())) {
      continue;
    }
    Chip chip;
    chip.index = index++;
    chip.logic_id = c.logic_id;
    chip.phys_id = c.phys_id;
    chip.card_id = c.card_id;
    chip.device_id = c.device_id;
    chip.uuid = c.uuid;
    chip.chip_name = c.chip_name;
    chip.healthy = c.health_code == 0;
    nd.chips.push_back(std::move(chip));
  }
  return nd;
}

}  // namespace npushare::deviceplugin::devices
