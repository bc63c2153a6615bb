#include "sim/kube/patch.h"

#include <string>
#include <string_view>

namespace npushare::kube_local {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 64;

const char* MergeKeyFor(std::string_view field) {
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" ||
      field == "env" || field == "volumes" || field == "imagePullSecrets") {
    return "name";
  }
  if (field == "volumeMounts" || field == "volumeDevices") {
    return "mountPath";
  }
  if (field == "ports") {
    return "containerPort";
  }
  if (field == "conditions") {
    return "type";
  }
  return nullptr;
}

Result<json> Strategic(const json& target, const json& patch, int depth);

Result<json> MergeList(const json& target, const json& patch, const char* key, int depth) {
  json out = target.is_array() ? target : json::array();
  for (const auto& elem : patch) {
    if (!elem.is_object() || !elem.contains(key)) {
      out.push_back(elem);
      continue;
    }
    const json& k = elem[key];
    bool remove = elem.contains("$patch") && elem["$patch"] == "delete";
    bool found = false;
    for (auto it = out.begin(); it != out.end(); ++it) {
      if (it->is_object() && it->contains(key) && (*it)[key] == k) {
        found = true;
        if (remove) {
          out.erase(it);
        } else {
          NPUSHARE_ASSIGN_OR_RETURN(*it, Strategic(*it, elem, depth + 1));
        }
        break;
      }
    }
    if (!found && !remove) {
      NPUSHARE_ASSIGN_OR_RETURN(json fresh, Strategic(json::object(), elem, depth + 1));
      out.push_back(std::move(fresh));
    }
  }
  return out;
}

Result<json> Strategic(const json& target, const json& patch, int depth) {
  if (depth > kMaxDepth) {
    return InvalidArgumentError("patch nested too deeply");
  }
  if (!patch.is_object()) {
    return patch;
  }
  if (patch.contains("$patch")) {
    const json& d = patch["$patch"];
    if (d == "replace") {
      json copy = patch;
      copy.erase("$patch");
      return copy;
    }
    if (d != "merge" && d != "delete") {
      return InvalidArgumentError("unknown $patch directive");
    }
  }
  json out = target.is_object() ? target : json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "$patch" || k == "$retainKeys" || k.rfind("$setElementOrder/", 0) == 0) {
      continue;
    }
    if (k.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      std::string field = k.substr(sizeof("$deleteFromPrimitiveList/") - 1);
      if (!v.is_array()) {
        return InvalidArgumentError(k + " must be a list");
      }
      if (out.contains(field) && out[field].is_array()) {
        json kept = json::array();
        for (const auto& e : out[field]) {
          bool drop = false;
          for (const auto& d : v) {
            drop = drop || d == e;
          }
          if (!drop) {
            kept.push_back(e);
          }
        }
        out[field] = std::move(kept);
      }
      continue;
    }
    if (v.is_null()) {
      out.erase(k);
    } else if (v.is_object()) {
      if (v.contains("$patch") && v["$patch"] == "delete") {
        out.erase(k);
        continue;
      }
      json base = out.contains(k) ? out[k] : json();
      NPUSHARE_ASSIGN_OR_RETURN(out[k], Strategic(base, v, depth + 1));
    } else if (v.is_array() && MergeKeyFor(k) != nullptr) {
      json base = out.contains(k) ? out[k] : json::array();
      NPUSHARE_ASSIGN_OR_RETURN(out[k], MergeList(base, v, MergeKeyFor(k), depth + 1));
    } else if (v.is_array() && k == "finalizers" && out.contains(k) && out[k].is_array()) {
      json merged = out[k];
      for (const auto& e : v) {
        bool present = false;
        for (const auto& m : merged) {
          present = present || m == e;
        }
        if (!present) {
          merged.push_back(e);
        }
      }
      out[k] = std::move(merged);
    } else {
      out[k] = v;
    }
  }
  return out;
}

}  // namespace

Result<json> ApplyMergePatch(const json& target, const json& patch) {
  if (!patch.is_object()) {
    return InvalidArgumentError("merge patch must be a JSON object");
  }
  json out = target;
  try {
    out.merge_patch(patch);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("merge patch: ") + e.what());
  }
  return out;
}

Result<json> ApplyStrategicMergePatch(const json& target, const json& patch) {
  if (!patch.is_object()) {
    return InvalidArgumentError("strategic merge patch must be an object");
  }
  try {
    return Strategic(target, patch, 0);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("strategic merge patch: ") + e.what());
  }
}

Result<json> ApplyJsonPatch(const json& target, const json& patch) {
  if (!patch.is_array()) {
    return InvalidArgumentError("JSON patch must be a list of operations");
  }
  for (const auto& op : patch) {
    if (!op.is_object() || !op.contains("op") || !op["op"].is_string() || !op.contains("path") ||
        !op["path"].is_string()) {
      return InvalidArgumentError("JSON patch operation needs string 'op' and 'path'");
    }
  }
  try {
    return target.patch(patch);
  } catch (const std::exception& e) {
    return FailedPreconditionError(std::string("JSON patch: ") + e.what());
  }
}

}  // namespace npushare::kube_local
