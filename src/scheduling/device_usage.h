// File: scheduling/device_usage.h
//
// DeviceUsage: the scheduler's view of one registered device on one node: its
// capacity (from hami.io/node-register-<cw>) plus what pods already placed there
// use. Fit and scoring read and update it.
//
// Lifetime: `id` and `type` view strings owned by the node's registration
// (NodeState::registered), so the struct is trivially copyable: Filter copies
// device lists for every candidate node, and owning strings made that the
// dominant cost. A DeviceUsage must not outlive the NodeState it was built from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scheduling/vnpu_placement.h"

namespace npushare::scheduling {

struct DeviceUsage {
  std::string_view id;  // device UUID
  uint32_t index = 0;
  std::string_view type;  // registered type (<cw>)
  int32_t numa = 0;
  bool health = false;
  int32_t count = 0;      // slots
  int32_t used = 0;       // slots used
  int64_t totalmem = 0;   // MB
  int64_t usedmem = 0;    // MB
  int32_t totalcore = 0;  // devcore
  int32_t usedcores = 0;
  bool has_custom_info = false;
  std::optional<double> network_id;
  // Hard slices (vNPUs) and whole-chip users on the device, for the placement rule
  // (vnpu_placement.h). Filled by AddPodUsage with a DeviceConfig and by Filter.
  vnpu::ChipSlices slices;
  // Score of this device for the container being placed (scoring.h); scratch space.
  float score = 0.0f;
};

using DeviceUsageList = std::vector<DeviceUsage>;

}  // namespace npushare::scheduling
