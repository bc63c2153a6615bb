#include "config/source_map.h"

namespace npushare::config {

SourcePos SourceMap::Find(std::string_view path) const {
  while (!path.empty()) {
    auto it = positions_.find(path);
    if (it != positions_.end()) {
      return it->second;
    }
    const size_t cut = path.find_last_of(".[");
    if (cut == std::string_view::npos) {
      break;
    }
    path = path.substr(0, cut);
  }
  return {};
}

}  // namespace npushare::config
