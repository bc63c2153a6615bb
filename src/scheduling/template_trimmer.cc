#include "scheduling/template_trimmer.h"

namespace npushare::scheduling {

TrimmedMemory TrimMemory(const config::ChipConfig& chip, int64_t memory_mb) {
  for (const auto& t : chip.templates) {
    if (memory_mb <= t.memory_mb) {
      return {t.memory_mb, t.name};
    }
  }
  if (memory_mb <= chip.memory_capacity) {
    return {chip.memory_allocatable, ""};
  }
  return {0, ""};
}

}  // namespace npushare::scheduling
