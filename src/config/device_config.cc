#include "config/device_config.h"

#include <algorithm>

namespace npushare::config {

const ChipConfig* DeviceConfig::FindByCommonWord(std::string_view cw) const {
  for (const auto& c : chips) {
    if (c.common_word == cw) {
      return &c;
    }
  }
  return nullptr;
}

const ChipConfig* DeviceConfig::FindByChipName(std::string_view name) const {
  for (const auto& c : chips) {
    if (c.chip_name == name) {
      return &c;
    }
  }
  return nullptr;
}

const ChipConfig* DeviceConfig::FindByResourceName(std::string_view name) const {
  for (const auto& c : chips) {
    if (c.resource_name == name) {
      return &c;
    }
  }
  return nullptr;
}

void SortTemplates(ChipConfig& chip) {
  std::stable_sort(
      chip.templates.begin(), chip.templates.end(),
      [](const VnpuTemplate& a, const VnpuTemplate& b) { return a.memory_mb < b.memory_mb; });
}

}  // namespace npushare::config
