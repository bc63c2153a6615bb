#include "config/node_config.h"

namespace npushare::config {

const NodeConfigEntry* NodeConfig::Find(std::string_view node_name) const {
  for (const auto& n : nodes) {
    if (n.name == node_name) {
      return &n;
    }
  }
  return nullptr;
}

}  // namespace npushare::config
