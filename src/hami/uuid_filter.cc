#include "hami/uuid_filter.h"

#include "hami/go_text.h"

namespace npushare::hami {
namespace {

bool ListContains(std::string_view list, std::string_view id) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) {
      end = list.size();
    }
    if (TrimGoSpace(list.substr(start, end - start)) == id) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace

bool CheckUuid(const Annotations& pod_annotations, const std::string& cw,
               std::string_view device_id) {
  const auto use = pod_annotations.find(UseUuidKey(cw));
  if (use != pod_annotations.end() && !TrimGoSpace(use->second).empty() &&
      !ListContains(use->second, device_id)) {
    return false;
  }
  const auto no_use = pod_annotations.find(NoUseUuidKey(cw));
  if (no_use != pod_annotations.end() && !TrimGoSpace(no_use->second).empty() &&
      ListContains(no_use->second, device_id)) {
    return false;
  }
  return true;
}

}  // namespace npushare::hami
