#include "scheduling/pod_spec.h"

namespace npushare::scheduling {

bool PodSpec::IsHamiCore() const {
  auto it = annotations.find(hami::kVnpuModeAnnotation);
  return it != annotations.end() && it->second == hami::kVnpuModeHamiCore;
}

const std::string* FindResource(const std::optional<ResourceList>& list, std::string_view name) {
  if (!list) {
    return nullptr;
  }
  auto it = list->find(name);
  return it == list->end() ? nullptr : &it->second;
}

}  // namespace npushare::scheduling
