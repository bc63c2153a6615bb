#include "scheduling/pod_json.h"

#include "hami/node_register.h"
#include "hami/pod_devices.h"

namespace npushare::scheduling {
namespace {

using nlohmann::json;

std::string StringOr(const json& obj, const char* key, std::string fallback = "") {
  if (!obj.is_object()) {
    return fallback;
  }
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return fallback;
  }
  return it->get<std::string>();
}

Result<std::optional<ResourceList>> ReadResources(const json& res, const char* key,
                                                  const std::string& where) {
  auto it = res.find(key);
  if (it == res.end() || it->is_null()) {
    return std::optional<ResourceList>();
  }
  if (!it->is_object()) {
    return InvalidArgumentError(where + "." + key + " must be a map");
  }
  ResourceList list;
  for (auto kv = it->begin(); kv != it->end(); ++kv) {
    if (kv->is_string()) {
      list[kv.key()] = kv->get<std::string>();
    } else if (kv->is_number_integer()) {
      list[kv.key()] = std::to_string(kv->get<int64_t>());
    } else if (kv->is_number()) {
      list[kv.key()] = kv->dump();
    } else {
      return InvalidArgumentError(where + "." + key + "." + kv.key() + " must be a quantity");
    }
  }
  return std::optional<ResourceList>(std::move(list));
}

Result<std::vector<ContainerSpec>> ReadContainers(const json& spec, const char* key,
                                                  const std::string& where) {
  std::vector<ContainerSpec> out;
  auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return InvalidArgumentError(where + "." + key + " must be a list");
  }
  if (it->size() > kMaxPodContainers) {
    return InvalidArgumentError(where + "." + key + " has " + std::to_string(it->size()) +
                                " entries; at most " + std::to_string(kMaxPodContainers) +
                                " are supported");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& c = (*it)[i];
    const std::string at = where + "." + key + "[" + std::to_string(i) + "]";
    if (!c.is_object()) {
      return InvalidArgumentError(at + " must be a map");
    }
    ContainerSpec cs;
    cs.name = StringOr(c, "name", "container-" + std::to_string(i));
    if (auto r = c.find("resources"); r != c.end() && r->is_object()) {
      NPUSHARE_ASSIGN_OR_RETURN(cs.limits, ReadResources(*r, "limits", at + ".resources"));
      NPUSHARE_ASSIGN_OR_RETURN(cs.requests, ReadResources(*r, "requests", at + ".resources"));
    }
    if (auto sc = c.find("securityContext"); sc != c.end() && sc->is_object()) {
      auto p = sc->find("privileged");
      cs.privileged = p != sc->end() && p->is_boolean() && p->get<bool>();
    }
    if (auto env = c.find("env"); env != c.end() && env->is_array()) {
      for (const auto& e : *env) {
        if (e.is_object()) {
          cs.env.push_back({StringOr(e, "name"), StringOr(e, "value")});
        }
      }
    }
    out.push_back(std::move(cs));
  }
  return out;
}

PodPhase PhaseOf(const std::string& s) {
  if (s == "Running") {
    return PodPhase::kRunning;
  }
  if (s == "Succeeded") {
    return PodPhase::kSucceeded;
  }
  if (s == "Failed") {
    return PodPhase::kFailed;
  }
  if (s == "Unknown") {
    return PodPhase::kUnknown;
  }
  return PodPhase::kPending;
}

}  // namespace

Status ReadStringMap(const json& obj, const char* key, hami::Annotations& out,
                     const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return OkStatus();
  }
  if (!it->is_object()) {
    return InvalidArgumentError(where + "." + key + " must be a map");
  }
  for (auto kv = it->begin(); kv != it->end(); ++kv) {
    if (kv->is_string()) {
      out[kv.key()] = kv->get<std::string>();
    } else if (kv->is_number() || kv->is_boolean()) {
      out[kv.key()] = kv->dump();  // an unquoted YAML scalar; Kubernetes would reject it
    } else {
      return InvalidArgumentError(where + "." + key + "." + kv.key() + " must be a string");
    }
  }
  return OkStatus();
}

Result<PodSpec> PodSpecFromJson(const json& obj) {
  if (!obj.is_object()) {
    return InvalidArgumentError("pod manifest must be a map");
  }
  PodSpec pod;
  static const json kEmpty = json::object();
  auto meta_it = obj.find("metadata");
  const json& meta = meta_it == obj.end() ? kEmpty : *meta_it;
  if (!meta.is_object()) {
    return InvalidArgumentError("metadata must be a map");
  }
  pod.name = StringOr(meta, "name");
  if (pod.name.empty()) {
    return InvalidArgumentError("pod without metadata.name");
  }
  pod.ns = StringOr(meta, "namespace", "default");
  pod.uid = StringOr(meta, "uid");
  const std::string where = "pod " + pod.Key() + " metadata";
  NPUSHARE_RETURN_IF_ERROR(ReadStringMap(meta, "annotations", pod.annotations, where));
  NPUSHARE_RETURN_IF_ERROR(ReadStringMap(meta, "labels", pod.labels, where));
  auto spec_it = obj.find("spec");
  const json& spec = spec_it == obj.end() ? kEmpty : *spec_it;
  if (!spec.is_object()) {
    return InvalidArgumentError("pod " + pod.Key() + " spec must be a map");
  }
  const std::string at = "pod " + pod.Key() + " spec";
  NPUSHARE_ASSIGN_OR_RETURN(pod.init_containers, ReadContainers(spec, "initContainers", at));
  NPUSHARE_ASSIGN_OR_RETURN(pod.containers, ReadContainers(spec, "containers", at));
  if (pod.init_containers.size() + pod.containers.size() > kMaxPodContainers) {
    return InvalidArgumentError(
        at + " has " + std::to_string(pod.init_containers.size() + pod.containers.size()) +
        " containers; at most " + std::to_string(kMaxPodContainers) + " are supported");
  }
  if (auto rc = spec.find("runtimeClassName"); rc != spec.end() && rc->is_string()) {
    pod.runtime_class_name = rc->get<std::string>();
  }
  pod.scheduler_name = StringOr(spec, "schedulerName");
  pod.node_name = StringOr(spec, "nodeName");
  auto status_it = obj.find("status");
  pod.phase = PhaseOf(StringOr(status_it == obj.end() ? kEmpty : *status_it, "phase"));
  return pod;
}

Result<std::optional<PlacedPod>> PlacedPodOf(const PodSpec& pod,
                                             const config::DeviceConfig& config) {
  auto node = pod.annotations.find(hami::kAssignedNodeAnnotation);
  if (node == pod.annotations.end()) {
    return std::optional<PlacedPod>();
  }
  if (pod.phase == PodPhase::kSucceeded || pod.phase == PodPhase::kFailed) {
    return std::optional<PlacedPod>();
  }
  PlacedPod placed;
  placed.key = pod.Key();
  placed.node = node->second;
  placed.init_containers = pod.init_containers.size();
  placed.hami_core = pod.IsHamiCore();
  for (const auto& chip : config.chips) {
    auto it = pod.annotations.find(hami::DevicesAllocatedKey(chip.common_word));
    if (it == pod.annotations.end()) {
      continue;
    }
    auto devices = hami::DecodePodDevices(it->second);
    if (!devices.ok()) {
      return devices.status().WithContext("pod " + pod.Key() + " " + it->first);
    }
    placed.allocation[chip.common_word] = std::move(*devices);
  }
  if (placed.allocation.empty()) {
    return std::optional<PlacedPod>();
  }
  return std::optional<PlacedPod>(std::move(placed));
}

NodeRegistration NodeStateFromAnnotations(std::string name, hami::Annotations annotations,
                                          const config::DeviceConfig& config) {
  NodeRegistration out;
  out.state.name = std::move(name);
  out.state.annotations = std::move(annotations);
  for (const auto& chip : config.chips) {
    auto it = out.state.annotations.find(hami::NodeRegisterKey(chip.common_word));
    if (it == out.state.annotations.end()) {
      continue;
    }
    auto devices = hami::DecodeNodeRegister(it->second, chip.common_word);
    if (!devices.ok()) {
      out.errors[chip.common_word] = devices.status().WithContext(it->first);
      continue;
    }
    out.state.registered[chip.common_word] = std::move(*devices);
  }
  return out;
}

}  // namespace npushare::scheduling
