// File: sim/npu/state/chip_models.h
//
// The built-in table of Ascend chip models npu-sim can simulate (ascend-abi.md §5): names as
// DCMI reports them, resources, npu-smi layout and the vNPU template tables with their slicing
// rules. Pure data; no I/O.
//
// Thread safety: everything here is immutable after static initialisation of constant arrays.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace npushare::sim {

// VnpuTemplate: one hard-slicing template (ascend-abi.md §5.2). Media columns are what
// `npu-smi info -t template-info` prints.
struct VnpuTemplate {
  std::string_view name;
  uint32_t aicore;
  uint32_t memory_show_mb;    // printed by template-info
  uint32_t memory_create_mb;  // what a created vNPU really gets
  uint32_t aicpu;
  uint32_t vpc, venc, vdec, jpegd, jpege, pngd;
};

// SmiLayout: which `npu-smi info` table layout the chip uses.
enum class SmiLayout : uint8_t { kHbm910, kHbm910C, kDdr310P };

// ChipModel: static facts of one model. `name` is the key used in node YAML.
struct ChipModel {
  std::string_view name;       // YAML key, e.g. "910B3", "910C", "310P3"
  std::string_view chip_type;  // dcmi chip_type ("Ascend")
  std::string_view chip_name;  // dcmi chip_name ("910B3", "Ascend910")
  std::string_view npu_name;   // dcmi v2 npu_name ("" unless 910C)
  std::string_view chip_ver;
  uint32_t aicore;
  uint32_t aicpu;
  uint32_t memory_mb;
  uint32_t reserved_mb;  // device-OS memory in use when idle
  uint32_t chips_per_card;
  uint32_t pci_device_id;
  uint32_t board_id;
  std::string_view product_name;
  SmiLayout layout;
  // Slicing rules. `templates` empty = vNPU unsupported (-8255).
  std::span<const VnpuTemplate> templates;
  uint32_t max_vnpus;  // per chip
  // Which templates may share a chip is not a per-model flag: the shared rule
  // (scheduling/vnpu_placement.h, vnpu::OneTemplatePerChip) decides it from `name`.
  // Chip-level media totals printed by info-vnpu (free/total).
  uint32_t vpc, venc, vdec, jpegd, jpege;
};

// AllChipModels: the table, in a fixed order (state files store the index).
std::span<const ChipModel> AllChipModels();

// FindChipModel: index of the model named `name` (case-sensitive), or -1.
int FindChipModel(std::string_view name);

// FindTemplate: index of `name` in model.templates, or -1.
int FindTemplate(const ChipModel& model, std::string_view name);

}  // namespace npushare::sim
