// File: config/device_config.h
//
// The chip table that the scheduler, webhook and device plugin share, in HAMi's
// `device-config.yaml` schema (hami-protocol.md §7.1):
//
//   vnpus:
//     hamiVnpuCore: false          # global soft-slicing switch
//     configs:
//     - chipName: 910B3            # DCMI chip name the device plugin matches
//       commonWord: Ascend910B3    # <cw>, spliced into annotation keys
//       resourceName: huawei.com/Ascend910B3
//       ...
//
// These are plain values; loading and validation live in config/config_loader.h.
// Thread safety: immutable after load; safe to share across threads as const.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace npushare::config {

// VnpuTemplate: one hard-slicing template (e.g. vir05_1c_16g = 16384 MB, 5 AI cores).
struct VnpuTemplate {
  std::string name;
  int64_t memory_mb = 0;
  int32_t ai_core = 0;
  int32_t ai_cpu = 0;
};

// ChipConfig: one entry of `vnpus.configs`.
struct ChipConfig {
  std::string chip_name;             // chipName
  std::string common_word;           // commonWord (<cw>)
  std::string resource_name;         // resourceName: count resource
  std::string resource_memory_name;  // resourceMemoryName: memory in MB
  std::string resource_core_name;    // resourceCoreName: percent, hami-core only; "" disables
  int64_t memory_allocatable = 0;    // memoryAllocatable (MB): registered devmem, whole-card size
  int64_t memory_capacity = 0;       // memoryCapacity (MB): upper bound for non-template requests
  int32_t memory_factor = 0;         // memoryFactor: request multiplier when > 1
  int32_t ai_core = 0;               // aiCore
  int32_t ai_cpu = 0;                // aiCPU (informational)
  std::vector<VnpuTemplate> templates;  // sorted ascending by memory_mb after load
  std::string runtime_class_name;       // runtimeClassName: set on pods lacking one
  bool overwrite_env = false;           // overwriteEnv
  bool super_pod = false;               // superPod (910C only)
};

// DeviceConfig: the whole `vnpus` block.
struct DeviceConfig {
  bool hami_vnpu_core = false;  // vnpus.hamiVnpuCore (global)
  std::vector<ChipConfig> chips;

  // FindByCommonWord: the chip whose commonWord equals `cw` exactly, or nullptr.
  // The pointer stays valid while this DeviceConfig is alive and unmodified.
  const ChipConfig* FindByCommonWord(std::string_view cw) const;
  // FindByChipName: the chip whose chipName equals `name` exactly, or nullptr.
  const ChipConfig* FindByChipName(std::string_view name) const;
  // FindByResourceName: the chip whose resourceName equals `name` exactly, or nullptr.
  const ChipConfig* FindByResourceName(std::string_view name) const;
};

// SortTemplates: sorts `chip.templates` ascending by memory (stable, so equal sizes keep
// file order). Loaders call this; code that builds a ChipConfig by hand must too.
void SortTemplates(ChipConfig& chip);

}  // namespace npushare::config
