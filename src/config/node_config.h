// File: config/node_config.h
//
// Per-node overrides in HAMi's `node-config.yaml` schema (hami-protocol.md §7.2):
//
//   nodes:
//   - name: node-a
//     hami-vnpu-core: true       # overrides vnpus.hamiVnpuCore for this node (false too)
//     vDeviceCount: 8            # > 0 overrides the derived per-chip slot count
//     filterDevices:
//       uuid: [ "..." ]          # die UUIDs to hide from the scheduler
//       index: [ 3 ]             # DCMI card ids to hide
//
// Thread safety: immutable after load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace npushare::config {

struct NodeConfigEntry {
  std::string name;
  std::optional<bool> hami_vnpu_core;  // absent = use the global switch
  int32_t vdevice_count = 0;           // 0 = derive from templates
  std::vector<std::string> filter_uuids;
  std::vector<int32_t> filter_indexes;  // compared with the DCMI card id
};

struct NodeConfig {
  std::vector<NodeConfigEntry> nodes;

  // Find: the entry whose name equals `node_name`, or nullptr. Valid while *this lives.
  const NodeConfigEntry* Find(std::string_view node_name) const;
};

}  // namespace npushare::config
