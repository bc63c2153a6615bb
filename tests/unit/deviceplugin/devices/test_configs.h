// Test helper: device/node config files for the devices tests, written into a temp dir.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace npushare::deviceplugin::devices::testing {

// ShippedDeviceConfig: deploy/config/device-config.yaml, with the global hamiVnpuCore switch
// set to `soft`.
inline std::string ShippedDeviceConfig(bool soft = false) {
  std::ifstream in(std::string(NPUSHARE_SOURCE_DIR) + "/deploy/config/device-config.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (soft) {
    const std::string from = "hamiVnpuCore: false";
    text.replace(text.find(from), from.size(), "hamiVnpuCore: true");
  }
  return text;
}

// NodeConfigYaml: one node entry (fields given as YAML lines, indented by the caller).
inline std::string NodeConfigYaml(const std::string& name, const std::string& body) {
  return "nodes:\n  - name: " + name + "\n" + body;
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

}  // namespace npushare::deviceplugin::devices::testing
