// File: scheduling/pod_spec.h
//
// The parts of a Kubernetes Pod that scheduling reads and admission rewrites,
// as plain values. Conversions from/to the API's JSON live with the I/O code
// (CLI, webhook); the scheduling core never sees JSON.
//
// Resource values are kept as the quantity strings the user wrote, because
// admission must reason about the exact text ("16Gi" vs "16384").
//
// Thread safety: plain values; no internal synchronisation.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hami/types.h"

namespace npushare::scheduling {

// ResourceList: resource name -> quantity string, e.g. {"huawei.com/Ascend910B3": "1"}.
using ResourceList = std::map<std::string, std::string, std::less<>>;

struct EnvVar {
  std::string name;
  std::string value;
  friend bool operator==(const EnvVar&, const EnvVar&) = default;
};

struct ContainerSpec {
  std::string name;
  // nullopt = the block is absent from the manifest (matters for admission, which creates it).
  std::optional<ResourceList> limits;
  std::optional<ResourceList> requests;
  bool privileged = false;
  std::vector<EnvVar> env;
};

enum class PodPhase { kPending, kRunning, kSucceeded, kFailed, kUnknown };

struct PodSpec {
  std::string ns = "default";
  std::string name;
  std::string uid;
  hami::Annotations annotations;
  hami::Annotations labels;
  std::vector<ContainerSpec> init_containers;
  std::vector<ContainerSpec> containers;
  std::optional<std::string> runtime_class_name;
  std::string scheduler_name;
  std::string node_name;
  PodPhase phase = PodPhase::kPending;

  // IsHamiCore: annotation huawei.com/vnpu-mode is exactly "hami-core".
  bool IsHamiCore() const;
  // Key: "namespace/name".
  std::string Key() const { return ns + "/" + name; }
};

// FindResource: the quantity text of `name` in `list`, or nullptr when absent (or list absent).
const std::string* FindResource(const std::optional<ResourceList>& list, std::string_view name);

}  // namespace npushare::scheduling
