#include "deviceplugin/allocate/preferred_allocation.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>

namespace npushare::deviceplugin::allocate {
namespace {

// IdKey: (uuid, k, id) for "<uuid>-<k>"; an ID without a numeric suffix sorts by its text
// with k = -1.
std::tuple<std::string, int64_t, std::string> IdKey(const std::string& id) {
  const size_t dash = id.rfind('-');
  if (dash != std::string::npos) {
    int64_t k = 0;
    const char* end = id.data() + id.size();
    auto [ptr, ec] = std::from_chars(id.data() + dash + 1, end, k);
    if (ec == std::errc() && ptr == end) {
      return {id.substr(0, dash), k, id};
    }
  }
  return {id, -1, id};
}

}  // namespace

std::vector<std::string> ChoosePreferred(const std::vector<std::string>& available,
                                         const std::vector<std::string>& must_include, int32_t size,
                                         const std::vector<std::string>& wanted_uuids) {
  std::vector<std::string> out;
  if (size <= 0) {
    return out;
  }
  std::set<std::string> chosen;
  for (const std::string& id : must_include) {
    if (chosen.insert(id).second) {
      out.push_back(id);
    }
  }
  std::vector<std::tuple<std::string, int64_t, std::string>> sorted;
  for (const std::string& id : available) {
    sorted.push_back(IdKey(id));
  }
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  const auto limit = static_cast<size_t>(size);
  for (const std::string& uuid : wanted_uuids) {
    if (out.size() >= limit) {
      break;
    }
    for (const auto& [id_uuid, k, id] : sorted) {
      if (id_uuid == uuid && k >= 0 && chosen.insert(id).second) {
        out.push_back(id);
        break;
      }
    }
  }
  for (const auto& entry : sorted) {
    if (out.size() >= limit) {
      break;
    }
    const std::string& id = std::get<2>(entry);
    if (chosen.insert(id).second) {
      out.push_back(id);
    }
  }
  return out;
}

}  // namespace npushare::deviceplugin::allocate
