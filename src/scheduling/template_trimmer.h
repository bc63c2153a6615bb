// File: scheduling/template_trimmer.h
//
// TrimMemory: rounds a hard-slicing memory request (MB) up to the smallest vNPU
// template that holds it (hami-protocol.md §4.1 trimMemory):
//   first template with m <= template.memory      -> {template.memory, name}
//   else m <= memoryCapacity                      -> {memoryAllocatable, ""}  (whole card)
//   else                                          -> {0, ""}                  (invalid)
// m <= 0 maps to the smallest template, as upstream does; admission rejects
// such values before calling this (see docs/compat.md).
//
// REQUIRES: chip.templates sorted ascending by memory (config loaders do this).
#pragma once

#include <cstdint>
#include <string>

#include "config/device_config.h"

namespace npushare::scheduling {

struct TrimmedMemory {
  int64_t memory_mb = 0;      // 0 = no template and above capacity: invalid request
  std::string template_name;  // "" = whole card (or invalid)
};

TrimmedMemory TrimMemory(const config::ChipConfig& chip, int64_t memory_mb);

}  // namespace npushare::scheduling
