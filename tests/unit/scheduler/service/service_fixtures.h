// Test fixtures for the scheduler service: the shipped device config, Node objects carrying
// exactly the annotations our device plugin writes, and Pod objects asking for NPUs. Shared by
// the unit tests, the integration tests against kube-local and bench/scheduler.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "config/device_config.h"
#include "hami/node_register.h"
#include "hami/types.h"

// Tests describe nodes and pods with designated initializers naming only what matters
// (`{.name = "n1", .chips = 2}`); the other fields keep their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace npushare::scheduler::testing {

using nlohmann::json;

inline std::string DeployDeviceConfigPath() {
  return std::string(NPUSHARE_SOURCE_DIR) + "/deploy/config/device-config.yaml";
}

// DeployConfig: deploy/config/device-config.yaml (throws if it stops loading: a test bug).
inline std::shared_ptr<const config::DeviceConfig> DeployConfig() {
  auto c = config::LoadDeviceConfigFile(DeployDeviceConfigPath(), nullptr);
  if (!c.ok()) {
    throw std::runtime_error(c.status().ToString());
  }
  return std::make_shared<config::DeviceConfig>(std::move(*c));
}

struct NodeSpec {
  std::string name;
  std::string cw = "Ascend910B3";
  int chips = 8;
  bool hami_core = false;
  // Handshake annotation value; nullopt = absent.
  std::optional<std::string> handshake = std::string("Reported_2024.05.01 10:00:00");
  std::vector<int> unhealthy;
  std::optional<std::string> allocatable;  // status.allocatable[resourceName]
};

// NodeJson: a Node with hami.io/node-register-<cw> as our plugin registers it (slots per chip:
// memoryAllocatable / smallest template, like the plugin's VDeviceCount).
inline json NodeJson(const config::DeviceConfig& config, const NodeSpec& spec) {
  const config::ChipConfig* chip = config.FindByCommonWord(spec.cw);
  if (chip == nullptr) {
    throw std::runtime_error("unknown chip " + spec.cw);
  }
  int32_t vcount = 1;
  if (!chip->templates.empty() && chip->templates.front().memory_mb > 0) {
    vcount = static_cast<int32_t>(chip->memory_allocatable / chip->templates.front().memory_mb);
  }
  std::vector<hami::DeviceInfo> devices;
  for (int k = 0; k < spec.chips; ++k) {
    hami::DeviceInfo d;
    d.id = spec.name + "-npu-" + std::to_string(k);
    d.index = static_cast<uint32_t>(k);
    d.count = vcount;
    d.devmem = static_cast<int32_t>(chip->memory_allocatable);
    d.devcore = spec.hami_core ? 100 : chip->ai_core;
    d.type = chip->common_word;
    d.health = true;
    for (int u : spec.unhealthy) {
      d.health = d.health && u != k;
    }
    if (hami::PluginHasNetworkId(chip->common_word)) {
      d.has_custom_info = true;
      d.network_id = hami::PluginNetworkId(d.index, chip->common_word);
    }
    devices.push_back(std::move(d));
  }
  json ann = {{hami::NodeRegisterKey(chip->common_word), hami::EncodeNodeRegister(devices)},
              {hami::kHamiVnpuCoreNodeAnnotation, spec.hami_core ? "true" : "false"}};
  if (spec.handshake) {
    ann[hami::NodeHandshakeKey(chip->common_word)] = *spec.handshake;
  }
  json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", spec.name}, {"annotations", ann}}},
               {"status", json::object()}};
  if (spec.allocatable) {
    node["status"]["allocatable"] = {{chip->resource_name, *spec.allocatable}};
  }
  return node;
}

struct PodRequest {
  std::string cw = "Ascend910B3";
  int count = 1;
  std::optional<int64_t> memory_mb;  // <resourceMemoryName>
  std::optional<int> cores;          // <resourceCoreName> (hami-core)
  bool hami_core = false;
  bool init_container = false;  // the request sits on an init container instead
};

inline json PodJson(const config::DeviceConfig& config, const std::string& name,
                    const PodRequest& req, const std::string& ns = "default") {
  const config::ChipConfig* chip = config.FindByCommonWord(req.cw);
  if (chip == nullptr) {
    throw std::runtime_error("unknown chip " + req.cw);
  }
  json limits = {{chip->resource_name, std::to_string(req.count)}};
  if (req.memory_mb) {
    limits[chip->resource_memory_name] = std::to_string(*req.memory_mb);
  }
  if (req.cores) {
    limits[chip->resource_core_name] = std::to_string(*req.cores);
  }
  json npu = {{"name", "npu"}, {"image", "ascend"}, {"resources", {{"limits", limits}}}};
  json plain = {{"name", "main"}, {"image", "busybox"}};
  json spec = {{"schedulerName", "hami-scheduler"}};
  if (req.init_container) {
    spec["initContainers"] = json::array({npu});
    spec["containers"] = json::array({plain});
  } else {
    spec["containers"] = json::array({npu});
  }
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", spec}};
  if (req.hami_core) {
    pod["metadata"]["annotations"] = {{hami::kVnpuModeAnnotation, hami::kVnpuModeHamiCore}};
  }
  return pod;
}

// PlainPodJson: a pod asking for no NPU.
inline json PlainPodJson(const std::string& name, const std::string& ns = "default") {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}};
}

// WithAnnotations: `pod` plus annotations (as Filter would have written them).
inline json WithAnnotations(json pod, const hami::Annotations& ann) {
  for (const auto& [k, v] : ann) {
    pod["metadata"]["annotations"][k] = v;
  }
  return pod;
}

}  // namespace npushare::scheduler::testing
