#include "cli/manifest_reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <iterator>
#include <set>

#include "common/yaml_json.h"
#include "hami/node_register.h"
#include "scheduling/pod_json.h"

namespace npushare::cli {
namespace {

using nlohmann::json;
using scheduling::NodeState;
using scheduling::PodSpec;

constexpr size_t kMaxChipsPerNode = 1024;

std::string StringOr(const json& obj, const char* key, std::string fallback = "") {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return fallback;
  }
  return it->get<std::string>();
}

// Unwrap: a List/PodList/NodeList yields its items, anything else itself.
void Unwrap(const json& doc, std::vector<const json*>& out) {
  const std::string kind = StringOr(doc, "kind");
  if (kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0 && doc.contains("items") &&
      doc["items"].is_array()) {
    for (const auto& item : doc["items"]) {
      out.push_back(&item);
    }
    return;
  }
  out.push_back(&doc);
}

const config::ChipConfig* FindChip(const config::DeviceConfig& config, const std::string& name) {
  if (const auto* c = config.FindByCommonWord(name)) {
    return c;
  }
  return config.FindByChipName(name);
}

// DerivedVDeviceCount: what the device plugin registers as slots per chip (hami-protocol §5.1).
int32_t DerivedVDeviceCount(const config::ChipConfig& chip) {
  if (chip.templates.empty() || chip.templates.front().memory_mb <= 0) {
    return 1;
  }
  return static_cast<int32_t>(chip.memory_allocatable / chip.templates.front().memory_mb);
}

// The keys a compact node may have. Anything else is an error rather than a warning: a typo
// such as `vdeviceCount` would otherwise silently change the capacity being planned with, and
// `npushare schedule` is an offline tool where fixing the file is cheap.
constexpr const char* kCompactNodeKeys[] = {
    "name", "chip", "count", "hamiVnpuCore", "vDeviceCount", "unhealthy", "networkIds"};

Result<NodeState> CompactNode(const json& n, size_t i, const config::DeviceConfig& config) {
  const std::string at = "nodes[" + std::to_string(i) + "]";
  if (!n.is_object()) {
    return InvalidArgumentError(at + " must be a map");
  }
  for (auto kv = n.begin(); kv != n.end(); ++kv) {
    if (std::find(std::begin(kCompactNodeKeys), std::end(kCompactNodeKeys), kv.key()) ==
        std::end(kCompactNodeKeys)) {
      return InvalidArgumentError(at + ": unknown key '" + kv.key() +
                                  "' (known: name, chip, count, hamiVnpuCore, vDeviceCount, "
                                  "unhealthy, networkIds)");
    }
  }
  NodeState node;
  node.name = StringOr(n, "name");
  if (node.name.empty()) {
    return InvalidArgumentError(at + ".name is required");
  }
  const std::string chip_name = StringOr(n, "chip");
  const config::ChipConfig* chip = FindChip(config, chip_name);
  if (chip == nullptr) {
    return InvalidArgumentError(at + ".chip '" + chip_name +
                                "' is neither a commonWord nor a chipName of the device config");
  }
  const json count_j = n.value("count", json(1));
  if (!count_j.is_number_integer() || count_j.get<int64_t>() < 1 ||
      count_j.get<int64_t>() > static_cast<int64_t>(kMaxChipsPerNode)) {
    return InvalidArgumentError(at + ".count must be an integer between 1 and " +
                                std::to_string(kMaxChipsPerNode));
  }
  const auto count = count_j.get<uint32_t>();
  const json core_j = n.value("hamiVnpuCore", json(false));
  if (!core_j.is_boolean()) {
    return InvalidArgumentError(at + ".hamiVnpuCore must be true/false");
  }
  const bool hami_core = core_j.get<bool>();
  int32_t vcount = DerivedVDeviceCount(*chip);
  if (n.contains("vDeviceCount")) {
    const json& v = n["vDeviceCount"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 1024) {
      return InvalidArgumentError(at + ".vDeviceCount must be an integer between 1 and 1024");
    }
    vcount = v.get<int32_t>();
  }
  std::set<uint32_t> unhealthy;
  if (n.contains("unhealthy")) {
    if (!n["unhealthy"].is_array()) {
      return InvalidArgumentError(at + ".unhealthy must be a list");
    }
    for (const auto& u : n["unhealthy"]) {
      if (!u.is_number_integer() || u.get<int64_t>() < 0 || u.get<int64_t>() >= count) {
        return InvalidArgumentError(at + ".unhealthy entries must be chip indexes below count");
      }
      unhealthy.insert(u.get<uint32_t>());
    }
  }
  std::vector<int32_t> network_ids;
  if (n.contains("networkIds")) {
    const json& ids = n["networkIds"];
    if (!ids.is_array() || ids.size() != count) {
      return InvalidArgumentError(at + ".networkIds must list one integer per chip");
    }
    for (const auto& v : ids) {
      // NetworkID is an int32 on the plugin side; a larger value would wrap silently.
      if (!v.is_number_integer() ||
          (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT32_MAX}) ||
          (!v.is_number_unsigned() &&
           (v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX))) {
        return InvalidArgumentError(at + ".networkIds must be integers in int32 range");
      }
      network_ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
  }
  std::vector<hami::DeviceInfo> devices;
  for (uint32_t k = 0; k < count; ++k) {
    hami::DeviceInfo d;
    d.id = node.name + "-npu-" + std::to_string(k);
    d.index = k;
    d.count = vcount;
    d.devmem = static_cast<int32_t>(chip->memory_allocatable);
    d.devcore = hami_core ? 100 : chip->ai_core;
    d.type = chip->common_word;
    d.health = unhealthy.count(k) == 0;
    if (chip->common_word.rfind("Ascend910", 0) == 0) {
      d.has_custom_info = true;
      d.network_id =
          network_ids.empty() ? hami::PluginNetworkId(k, chip->common_word) : network_ids[k];
    }
    devices.push_back(std::move(d));
  }
  // Round-trip through the wire format so compact nodes are read exactly like real ones.
  node.annotations[hami::NodeRegisterKey(chip->common_word)] = hami::EncodeNodeRegister(devices);
  node.annotations[hami::kHamiVnpuCoreNodeAnnotation] = hami_core ? "true" : "false";
  NPUSHARE_ASSIGN_OR_RETURN(
      node.registered[chip->common_word],
      hami::DecodeNodeRegister(node.annotations[hami::NodeRegisterKey(chip->common_word)],
                               chip->common_word));
  return node;
}

Result<NodeState> NodeObject(const json& obj, const config::DeviceConfig& config) {
  const json meta = obj.value("metadata", json::object());
  const std::string name = StringOr(meta, "name");
  if (name.empty()) {
    return InvalidArgumentError("Node without metadata.name");
  }
  hami::Annotations annotations;
  NPUSHARE_RETURN_IF_ERROR(
      scheduling::ReadStringMap(meta, "annotations", annotations, "node " + name + " metadata"));
  scheduling::NodeRegistration reg =
      scheduling::NodeStateFromAnnotations(name, std::move(annotations), config);
  // Unlike the scheduler (which drops only the garbled chip type), the dry run refuses the
  // node: the first garbled chip type in config order is the error.
  for (const auto& chip : config.chips) {
    if (auto err = reg.errors.find(chip.common_word); err != reg.errors.end()) {
      // err->second reads "<annotation key>: <decode error>".
      return Status(err->second.code(), "node " + name + " annotation " + err->second.message());
    }
  }
  return std::move(reg.state);
}

}  // namespace

Result<std::vector<PodSpec>> ReadPods(std::string_view yaml_text) {
  NPUSHARE_ASSIGN_OR_RETURN(auto docs, ParseYamlDocuments(yaml_text));
  std::vector<const json*> objs;
  for (const auto& d : docs) {
    Unwrap(d, objs);
  }
  std::vector<PodSpec> pods;
  for (size_t i = 0; i < objs.size(); ++i) {
    const std::string kind = StringOr(*objs[i], "kind", "Pod");
    if (kind != "Pod") {
      return InvalidArgumentError("object " + std::to_string(i + 1) + " is a " + kind +
                                  ", expected Pod");
    }
    auto pod = scheduling::PodSpecFromJson(*objs[i]);
    if (!pod.ok()) {
      return pod.status().WithContext("object " + std::to_string(i + 1));
    }
    pods.push_back(std::move(*pod));
  }
  return pods;
}

// CheckCompactDuplicateKeys: the JSON conversion keeps only one value per key, so duplicate
// keys of the compact form are looked for in the YAML itself (as the config loader does):
// a repeated key in a `nodes:` document or in one of its node maps is an error.
Status CheckCompactDuplicateKeys(std::string_view yaml_text) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(e.what());  // ParseYamlDocuments reported it already
  }
  auto check_map = [](const YAML::Node& map, const std::string& at) -> Status {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        continue;
      }
      const std::string key = it->first.Scalar();
      if (!seen.insert(key).second) {
        return InvalidArgumentError(at + ": duplicate key '" + key + "' (line " +
                                    std::to_string(it->first.Mark().line + 1) + ")");
      }
    }
    return OkStatus();
  };
  for (const auto& doc : docs) {
    if (!doc.IsMap() || !doc["nodes"] || doc["kind"]) {
      continue;
    }
    NPUSHARE_RETURN_IF_ERROR(check_map(doc, "nodes document"));
    const YAML::Node list = doc["nodes"];
    if (!list.IsSequence()) {
      continue;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].IsMap()) {
        NPUSHARE_RETURN_IF_ERROR(check_map(list[i], "nodes[" + std::to_string(i) + "]"));
      }
    }
  }
  return OkStatus();
}

Result<std::vector<NodeState>> ReadNodes(std::string_view yaml_text,
                                         const config::DeviceConfig& config) {
  NPUSHARE_ASSIGN_OR_RETURN(auto docs, ParseYamlDocuments(yaml_text));
  if (std::any_of(docs.begin(), docs.end(), [](const json& d) {
        return d.is_object() && d.contains("nodes") && !d.contains("kind");
      })) {
    NPUSHARE_RETURN_IF_ERROR(CheckCompactDuplicateKeys(yaml_text));
  }
  std::vector<NodeState> nodes;
  std::set<std::string> names;
  auto add = [&](NodeState n) -> Status {
    if (!names.insert(n.name).second) {
      return InvalidArgumentError("duplicate node " + n.name);
    }
    nodes.push_back(std::move(n));
    return OkStatus();
  };
  for (const auto& doc : docs) {
    if (doc.is_object() && doc.contains("nodes") && !doc.contains("kind")) {
      if (!doc["nodes"].is_array()) {
        return InvalidArgumentError("nodes must be a list");
      }
      for (size_t i = 0; i < doc["nodes"].size(); ++i) {
        NPUSHARE_ASSIGN_OR_RETURN(NodeState n, CompactNode(doc["nodes"][i], i, config));
        NPUSHARE_RETURN_IF_ERROR(add(std::move(n)));
      }
      continue;
    }
    std::vector<const json*> objs;
    Unwrap(doc, objs);
    for (const json* o : objs) {
      const std::string kind = StringOr(*o, "kind");
      if (kind != "Node") {
        return InvalidArgumentError("expected a Node or a compact `nodes:` list, got " +
                                    (kind.empty() ? std::string("an object without kind") : kind));
      }
      NPUSHARE_ASSIGN_OR_RETURN(NodeState n, NodeObject(*o, config));
      NPUSHARE_RETURN_IF_ERROR(add(std::move(n)));
    }
  }
  return nodes;
}

Result<std::optional<scheduling::PlacedPod>> PlacedPodFromSpec(const PodSpec& pod,
                                                               const config::DeviceConfig& config) {
  return scheduling::PlacedPodOf(pod, config);
}

}  // namespace npushare::cli
