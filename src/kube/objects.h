// File: kube/objects.h
//
// Objects are nlohmann::json values so that fields we do not know survive a read-modify-write.
// This file adds small typed views over the few fields npushare reads: object metadata, pod
// containers and their resources, node status. The views copy what they read; they never hold
// references into the JSON.
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(PodView pod, ParsePod(obj));
//   for (const auto& c : pod.containers) use(c.limits["huawei.com/Ascend910"]);
//
// Thread safety: pure functions over values.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace npushare::kube {

// Safe accessors for untrusted JSON: never throw, never insert. (nlohmann's value() throws on
// a type mismatch and const operator[] on a missing key is undefined behaviour.)
// Field: obj[key] when obj is an object that has key, else a null value.
const nlohmann::json& Field(const nlohmann::json& obj, std::string_view key);
// StringField / IntField / BoolField: the field when it has that JSON type, else `fallback`.
std::string StringField(const nlohmann::json& obj, std::string_view key,
                        std::string_view fallback = {});
int64_t IntField(const nlohmann::json& obj, std::string_view key, int64_t fallback);
bool BoolField(const nlohmann::json& obj, std::string_view key, bool fallback);

// ObjectMeta: the metadata fields npushare uses.
struct ObjectMeta {
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::string creation_timestamp;
  std::optional<std::string> deletion_timestamp;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

// ParseObjectMeta: kInvalidArgument when `object` is not an object, has no metadata object, or a
// metadata field has the wrong JSON type. Non-string label/annotation values are rejected.
Result<ObjectMeta> ParseObjectMeta(const nlohmann::json& object);

// ObjectKey: "<namespace>/<name>" for namespaced objects, "<name>" otherwise; "" when the
// object has no metadata.name. Used as the cache key by informers.
std::string ObjectKey(const nlohmann::json& object);

// ResourceVersionOf: metadata.resourceVersion or "" when absent.
std::string ResourceVersionOf(const nlohmann::json& object);

// ContainerView: one container's name and resource requests/limits (quantities as strings).
struct ContainerView {
  std::string name;
  std::map<std::string, std::string> requests;
  std::map<std::string, std::string> limits;
};

// PodView: the pod fields the scheduler and device plugin read.
struct PodView {
  ObjectMeta meta;
  std::string node_name;
  std::string phase;
  std::string scheduler_name;
  std::vector<ContainerView> containers;
  std::vector<ContainerView> init_containers;
};

// ParsePod: kInvalidArgument on a type mismatch in any field read. Quantities given as JSON
// numbers are rendered in decimal.
Result<PodView> ParsePod(const nlohmann::json& object);

// NodeView: node status fields used for placement.
struct NodeView {
  ObjectMeta meta;
  std::map<std::string, std::string> capacity;
  std::map<std::string, std::string> allocatable;
  bool ready = false;  // condition Ready == "True"
  bool unschedulable = false;
};

Result<NodeView> ParseNode(const nlohmann::json& object);

// FormatRfc3339: "2024-05-01T10:00:00Z" (seconds) or, with micros, "...:00.000000Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point t, bool micros);
// ParseRfc3339: accepts both forms above (and fractions of any length); kInvalidArgument else.
Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

}  // namespace npushare::kube
