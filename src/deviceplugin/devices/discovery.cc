#include "deviceplugin/devices/discovery.h"

namespace npushare::deviceplugin::devices {
namespace {

constexpr int32_t kMaxChipsPerCard = 4;  // MindCluster's HiAIMaxDeviceNum

uint32_t HealthOf(Dcmi& dcmi, const DiscoveredChip& chip) {
  Result<uint32_t> h = dcmi.Health(chip.card_id, chip.device_id);
  return h.ok() ? *h : kHealthAbsent;
}

}  // namespace

Result<std::vector<DiscoveredChip>> DiscoverChips(Dcmi& dcmi) {
  NPUSHARE_ASSIGN_OR_RETURN(std::vector<int32_t> cards, dcmi.CardList());
  std::vector<DiscoveredChip> chips;
  for (int32_t card : cards) {
    NPUSHARE_ASSIGN_OR_RETURN(int32_t count, dcmi.DeviceCountInCard(card));
    if (count < 0 || count > kMaxChipsPerCard) {
      return UnavailableError("card " + std::to_string(card) + " reports " + std::to_string(count) +
                              " chips (expected 0.." + std::to_string(kMaxChipsPerCard) + ")");
    }
    for (int32_t dev = 0; dev < count; ++dev) {
      DiscoveredChip c;
      c.card_id = card;
      c.device_id = dev;
      NPUSHARE_ASSIGN_OR_RETURN(c.logic_id, dcmi.LogicId(card, dev));
      NPUSHARE_ASSIGN_OR_RETURN(c.phys_id, dcmi.PhysIdFromLogicId(c.logic_id));
      NPUSHARE_ASSIGN_OR_RETURN(DcmiChipInfo info, dcmi.ChipInfo(card, dev));
      c.chip_type = info.chip_type;
      c.chip_name = info.chip_name;
      c.aicore_count = info.aicore_count;
      NPUSHARE_ASSIGN_OR_RETURN(DcmiDieId die, dcmi.DieId(card, dev));
      c.uuid = FormatDieUuid(die);
      c.health_code = HealthOf(dcmi, c);
      chips.push_back(std::move(c));
    }
  }
  if (chips.empty()) {
    return NotFoundError("DCMI reports no NPU chip on this node");
  }
  return chips;
}

bool RefreshHealth(Dcmi& dcmi, std::vector<DiscoveredChip>& chips) {
  bool changed = false;
  for (DiscoveredChip& c : chips) {
    const uint32_t h = HealthOf(dcmi, c);
    changed = changed || h != c.health_code;
    c.health_code = h;
  }
  return changed;
}

}  // namespace npushare::deviceplugin::devices
