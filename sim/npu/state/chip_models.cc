// Chip facts from ascend-abi.md §5. Media figures for 910B come from the real template-info and
// info-vnpu captures quoted there; the 310P and 910B4 media figures are not in the note and are
// plausible placeholders (docs/npu-sim.md lists them as unverified).
#include "state/chip_models.h"

#include <array>

namespace npushare::sim {
namespace {

// name, aicore, show MB, create MB, aicpu, vpc, venc, vdec, jpegd, jpege, pngd
constexpr std::array<VnpuTemplate, 2> kBin0 = {{
    {"vir12_3c_32g", 12, 32768, 30720, 3, 4, 0, 1, 12, 2, 0},
    {"vir06_1c_16g", 6, 16384, 15360, 1, 2, 0, 0, 6, 1, 0},
}};
constexpr std::array<VnpuTemplate, 2> kBin1 = {{
    {"vir10_3c_32g", 10, 32768, 30720, 3, 4, 0, 1, 12, 2, 0},
    {"vir05_1c_16g", 5, 16384, 15360, 1, 2, 0, 0, 6, 1, 0},
}};
constexpr std::array<VnpuTemplate, 4> kBin2 = {{
    {"vir10_3c_16g", 10, 16384, 14336, 3, 4, 0, 1, 12, 2, 0},
    {"vir10_4c_16g_m", 10, 16384, 14336, 4, 9, 0, 2, 24, 4, 0},
    {"vir10_3c_16g_nm", 10, 16384, 14336, 3, 0, 0, 0, 0, 0, 0},
    {"vir05_1c_8g", 5, 8192, 7168, 1, 2, 0, 0, 6, 1, 0},
}};
constexpr std::array<VnpuTemplate, 7> k310P = {{
    {"vir01", 1, 3072, 3072, 1, 1, 0, 1, 4, 1, 0},
    {"vir02", 2, 6144, 6144, 2, 2, 1, 2, 8, 2, 0},
    {"vir02_1c", 2, 6144, 6144, 1, 2, 1, 2, 8, 2, 0},
    {"vir04", 4, 12288, 12288, 4, 4, 2, 4, 16, 4, 0},
    {"vir04_3c", 4, 12288, 12288, 3, 4, 2, 4, 16, 4, 0},
    {"vir04_3c_ndvpp", 4, 12288, 12288, 3, 0, 0, 0, 0, 0, 0},
    {"vir04_4c_dvpp", 4, 12288, 12288, 4, 8, 3, 8, 32, 8, 0},
}};

constexpr std::array<ChipModel, 6> kModels = {{
    {"910B1",         "Ascend",           "910B1", "", "V1", 24, 6, 65536, 4096, 1, 0xD802, 0x65,
     "IT21HMDB02-B2", SmiLayout::kHbm910, kBin0,   4,  9,    0,  2, 24,    4},
    {"910B2",         "Ascend",           "910B2", "", "V1", 24, 6, 65536, 4096, 1, 0xD802, 0x65,
     "IT21HMDB02-B2", SmiLayout::kHbm910, kBin0,   4,  9,    0,  2, 24,    4},
    {"910B3",         "Ascend",           "910B3", "", "V1", 20, 7, 65536, 4096, 1, 0xD802, 0x65,
     "IT21HMDB02-B2", SmiLayout::kHbm910, kBin1,   4,  9,    0,  2, 24,    4},
    {"910B4",         "Ascend",           "910B4", "", "V1", 20, 7, 32768, 3072, 1, 0xD802, 0x65,
     "IT21HMDB02-B2", SmiLayout::kHbm910, kBin2,   4,  9,    0,  2, 24,    4},
    {"910C", "Ascend",     "Ascend910",         "9392", "V1", 20, 7, 65536, 4096, 2, 0xD803,
     0xB0,   "IT22HMDB05", SmiLayout::kHbm910C, {},     0,    9,  0, 2,     24,   4},
    {"310P3",
     "Ascend",
     "310P3",
     "",
     "V1",
     8,
     7,
     21527,
     1851,
     1,
     0xD500,
     0x3A,
     "Atlas 300I Pro",
     SmiLayout::kDdr310P,
     k310P,
     7,
     12,
     3,
     12,
     48,
     12},
}};

}  // namespace

std::span<const ChipModel> AllChipModels() {
  return kModels;
}

int FindChipModel(std::string_view name) {
  for (size_t i = 0; i < kModels.size(); ++i) {
    if (kModels[i].name == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

int FindTemplate(const ChipModel& model, std::string_view name) {
  for (size_t i = 0; i < model.templates.size(); ++i) {
    if (model.templates[i].name == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace npushare::sim
