// Chip configurations shared by the scheduling tests (values from the upstream table).
#pragma once

#include "config/device_config.h"

namespace npushare::scheduling::testing {

inline config::ChipConfig Chip910B3() {
  config::ChipConfig c;
  c.chip_name = "910B3";
  c.common_word = "Ascend910B3";
  c.resource_name = "huawei.com/Ascend910B3";
  c.resource_memory_name = "huawei.com/Ascend910B3-memory";
  c.resource_core_name = "huawei.com/Ascend910B3-core";
  c.memory_allocatable = 65536;
  c.memory_capacity = 65536;
  c.ai_core = 20;
  c.ai_cpu = 7;
  c.templates = {{"vir10_3c_32g", 32768, 10, 3}, {"vir05_1c_16g", 16384, 5, 1}};
  config::SortTemplates(c);
  return c;
}

inline config::ChipConfig Chip310P() {
  config::ChipConfig c;
  c.chip_name = "310P3";
  c.common_word = "Ascend310P";
  c.resource_name = "huawei.com/Ascend310P";
  c.resource_memory_name = "huawei.com/Ascend310P-memory";
  c.memory_allocatable = 21527;
  c.memory_capacity = 24576;
  c.ai_core = 8;
  c.templates = {{"vir01", 3072, 1, 1}, {"vir02", 6144, 2, 2}, {"vir04", 12288, 4, 4}};
  return c;
}

inline config::ChipConfig ChipNamed(const std::string& cw, int64_t mem) {
  config::ChipConfig c;
  c.chip_name = cw.substr(6);
  c.common_word = cw;
  c.resource_name = "huawei.com/" + cw;
  c.resource_memory_name = "huawei.com/" + cw + "-memory";
  c.memory_allocatable = mem;
  c.memory_capacity = mem;
  c.ai_core = 20;
  c.templates = {{"vir05_1c_8g", mem / 4, 5, 1}, {"vir10_3c_16g", mem / 2, 10, 3}};
  return c;
}

}  // namespace npushare::scheduling::testing
