// File: deviceplugin/devices/discovery.h
//
// DiscoverChips: enumerates the node's NPU chips over DCMI in MindCluster's order (card list
// -> chips per card -> logic id per (card, chip)), then per chip its phys id, chip info, VDIE
// die id (the device UUID) and health (ascend-abi.md §1.4). RefreshHealth re-reads only the
// health codes, which is what the poll loop needs every few seconds.
//
// Thread safety: functions are reentrant; the Dcmi must be safe for concurrent use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "deviceplugin/devices/dcmi.h"

namespace npushare::deviceplugin::devices {

// kHealthAbsent: the health code DCMI reports for a missing device; also what we record when
// the health query itself fails (a chip we cannot query is not healthy).
inline constexpr uint32_t kHealthAbsent = 0xFFFFFFFFu;

// DiscoveredChip: one NPU chip before config and filtering.
struct DiscoveredChip {
  int32_t logic_id = -1;
  int32_t phys_id = -1;
  int32_t card_id = -1;
  int32_t device_id = -1;
  std::string uuid;       // FormatDieUuid of the VDIE
  std::string chip_type;  // "Ascend"
  std::string chip_name;  // "910B3"
  uint32_t aicore_count = 0;
  uint32_t health_code = kHealthAbsent;  // 0 = healthy

  friend bool operator==(const DiscoveredChip&, const DiscoveredChip&) = default;
};

// DiscoverChips: REQUIRES: dcmi.Init() succeeded. Returns every chip found, in card order then
// chip order. An error of the card list, chip count, logic/phys id, chip info or die id fails
// the whole discovery (a chip without a stable id cannot be registered); a failing health
// query only records kHealthAbsent. kNotFound when the node has no chip at all.
Result<std::vector<DiscoveredChip>> DiscoverChips(Dcmi& dcmi);

// RefreshHealth: re-reads health_code of every chip in place (kHealthAbsent on a query error).
// Returns true when any code changed.
bool RefreshHealth(Dcmi& dcmi, std::vector<DiscoveredChip>& chips);

}  // namespace npushare::deviceplugin::devices
