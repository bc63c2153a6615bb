#include "scheduler/http/pod_json.h"

#include <string>
#include <vector>

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;
using scheduling::ContainerSpec;
using scheduling::PodSpec;

// Limits on what one Pod may carry; the API server enforces far less, but a webhook body is
// already capped at a few MiB, so these only stop pathological shapes early.
constexpr size_t kMaxContainers = 1024;
constexpr size_t kMaxEnvPerContainer = 4096;

Result<std::string> OptionalString(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return InvalidArgumentError(where + "." + key + " must be a string");
  }
  return it->get<std::string>();
}

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
    if (!kv->is_string()) {
      return InvalidArgumentError(where + "." + key + "." + kv.key() + " must be a string");
    }
    out[kv.key()] = kv->get<std::string>();
  }
  return OkStatus();
}

Result<std::optional<scheduling::ResourceList>> ReadResources(const json& resources,
                                                              const char* key,
                                                              const std::string& where) {
  auto it = resources.find(key);
  if (it == resources.end() || it->is_null()) {
    return std::optional<scheduling::ResourceList>();
  }
  if (!it->is_object()) {
    return InvalidArgumentError(where + "." + key + " must be a map");
  }
  scheduling::ResourceList list;
  for (auto kv = it->begin(); kv != it->end(); ++kv) {
    if (kv->is_string()) {
      list[kv.key()] = kv->get<std::string>();
    } else if (kv->is_number_integer()) {
      list[kv.key()] = kv->dump();
    } else if (kv->is_number()) {
      list[kv.key()] = kv->dump();
    } else {
      return InvalidArgumentError(where + "." + key + "." + kv.key() + " must be a quantity");
    }
  }
  return std::optional<scheduling::ResourceList>(std::move(list));
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
  if (it->size() > kMaxContainers) {
    return InvalidArgumentError(where + "." + key + " has more than " +
                                std::to_string(kMaxContainers) + " entries");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& c = (*it)[i];
    const std::string at = where + "." + key + "[" + std::to_string(i) + "]";
    if (!c.is_object()) {
      return InvalidArgumentError(at + " must be a map");
    }
    ContainerSpec cs;
    NPUSHARE_ASSIGN_OR_RETURN(cs.name, OptionalString(c, "name", at));
    if (auto r = c.find("resources"); r != c.end() && !r->is_null()) {
      if (!r->is_object()) {
        return InvalidArgumentError(at + ".resources must be a map");
      }
      NPUSHARE_ASSIGN_OR_RETURN(cs.limits, ReadResources(*r, "limits", at + ".resources"));
      NPUSHARE_ASSIGN_OR_RETURN(cs.requests, ReadResources(*r, "requests", at + ".resources"));
    }
    if (auto sc = c.find("securityContext"); sc != c.end() && !sc->is_null()) {
      if (!sc->is_object()) {
        return InvalidArgumentError(at + ".securityContext must be a map");
      }
      auto p = sc->find("privileged");
      if (p != sc->end() && !p->is_null()) {
        if (!p->is_boolean()) {
          return InvalidArgumentError(at + ".securityContext.privileged must be true/false");
        }
        cs.privileged = p->get<bool>();
      }
    }
    if (auto env = c.find("env"); env != c.end() && !env->is_null()) {
      if (!env->is_array()) {
        return InvalidArgumentError(at + ".env must be a list");
      }
      if (env->size() > kMaxEnvPerContainer) {
        return InvalidArgumentError(at + ".env has more than " +
                                    std::to_string(kMaxEnvPerContainer) + " entries");
      }
      for (size_t k = 0; k < env->size(); ++k) {
        const json& e = (*env)[k];
        const std::string env_at = at + ".env[" + std::to_string(k) + "]";
        if (!e.is_object()) {
          return InvalidArgumentError(env_at + " must be a map");
        }
        scheduling::EnvVar var;
        NPUSHARE_ASSIGN_OR_RETURN(var.name, OptionalString(e, "name", env_at));
        NPUSHARE_ASSIGN_OR_RETURN(var.value, OptionalString(e, "value", env_at));
        cs.env.push_back(std::move(var));
      }
    }
    out.push_back(std::move(cs));
  }
  return out;
}

scheduling::PodPhase PhaseOf(const std::string& s) {
  if (s == "Running") {
    return scheduling::PodPhase::kRunning;
  }
  if (s == "Succeeded") {
    return scheduling::PodPhase::kSucceeded;
  }
  if (s == "Failed") {
    return scheduling::PodPhase::kFailed;
  }
  if (s == "Unknown") {
    return scheduling::PodPhase::kUnknown;
  }
  return scheduling::PodPhase::kPending;
}

// EnsureObject: obj[key] as an object, created when absent or null. nullptr when it exists
// with another type (the caller reports kInternal: the reader would have refused it).
json* EnsureObject(json& obj, const char* key) {
  if (!obj.is_object()) {
    return nullptr;
  }
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    obj[key] = json::object();
    return &obj[key];
  }
  return it->is_object() ? &*it : nullptr;
}

Status WriteResources(const std::optional<scheduling::ResourceList>& before,
                      const std::optional<scheduling::ResourceList>& after, json& container,
                      const char* key) {
  if (!after) {
    return OkStatus();
  }
  json* resources = nullptr;
  json* list = nullptr;
  for (const auto& [name, value] : *after) {
    const std::string* old = scheduling::FindResource(before, name);
    if (old != nullptr && *old == value) {
      continue;
    }
    if (list == nullptr) {
      resources = EnsureObject(container, "resources");
      list = resources == nullptr ? nullptr : EnsureObject(*resources, key);
      if (list == nullptr) {
        return InternalError(std::string("container resources.") + key + " is not a map");
      }
    }
    (*list)[name] = value;
  }
  return OkStatus();
}

Status WriteContainers(const std::vector<ContainerSpec>& before,
                       const std::vector<ContainerSpec>& after, json& spec, const char* key) {
  if (before.size() != after.size()) {
    return InternalError(std::string("admission changed the number of ") + key);
  }
  if (after.empty()) {
    return OkStatus();
  }
  auto it = spec.find(key);
  if (it == spec.end() || !it->is_array() || it->size() != after.size()) {
    return InternalError(std::string("spec.") + key + " does not match the pod read");
  }
  for (size_t i = 0; i < after.size(); ++i) {
    json& c = (*it)[i];
    if (!c.is_object()) {
      return InternalError(std::string("spec.") + key + " entry is not a map");
    }
    NPUSHARE_RETURN_IF_ERROR(WriteResources(before[i].limits, after[i].limits, c, "limits"));
    NPUSHARE_RETURN_IF_ERROR(WriteResources(before[i].requests, after[i].requests, c, "requests"));
    if (after[i].env.size() < before[i].env.size()) {
      return InternalError("admission removed env entries");
    }
    if (after[i].env.size() > before[i].env.size()) {
      auto env = c.find("env");
      if (env == c.end() || env->is_null()) {
        c["env"] = json::array();
        env = c.find("env");
      }
      if (!env->is_array()) {
        return InternalError("container env is not a list");
      }
      for (size_t k = before[i].env.size(); k < after[i].env.size(); ++k) {
        env->push_back({{"name", after[i].env[k].name}, {"value", after[i].env[k].value}});
      }
    }
  }
  return OkStatus();
}

}  // namespace

Result<PodSpec> PodSpecFromPodJson(const json& object, std::string_view request_namespace) {
  if (!object.is_object()) {
    return InvalidArgumentError("object must be a Pod (a map)");
  }
  PodSpec pod;
  const std::string kind_where = "object";
  NPUSHARE_ASSIGN_OR_RETURN(std::string kind, OptionalString(object, "kind", kind_where));
  if (!kind.empty() && kind != "Pod") {
    return InvalidArgumentError("object is a " + kind + ", expected Pod");
  }
  json meta = json::object();
  if (auto m = object.find("metadata"); m != object.end() && !m->is_null()) {
    if (!m->is_object()) {
      return InvalidArgumentError("metadata must be a map");
    }
    meta = *m;
  }
  NPUSHARE_ASSIGN_OR_RETURN(pod.name, OptionalString(meta, "name", "metadata"));
  if (pod.name.empty()) {
    NPUSHARE_ASSIGN_OR_RETURN(pod.name, OptionalString(meta, "generateName", "metadata"));
  }
  NPUSHARE_ASSIGN_OR_RETURN(pod.ns, OptionalString(meta, "namespace", "metadata"));
  if (pod.ns.empty()) {
    pod.ns = request_namespace.empty() ? "default" : std::string(request_namespace);
  }
  NPUSHARE_ASSIGN_OR_RETURN(pod.uid, OptionalString(meta, "uid", "metadata"));
  NPUSHARE_RETURN_IF_ERROR(ReadStringMap(meta, "annotations", pod.annotations, "metadata"));
  NPUSHARE_RETURN_IF_ERROR(ReadStringMap(meta, "labels", pod.labels, "metadata"));

  json spec = json::object();
  if (auto s = object.find("spec"); s != object.end() && !s->is_null()) {
    if (!s->is_object()) {
      return InvalidArgumentError("spec must be a map");
    }
    spec = *s;
  }
  NPUSHARE_ASSIGN_OR_RETURN(pod.init_containers, ReadContainers(spec, "initContainers", "spec"));
  NPUSHARE_ASSIGN_OR_RETURN(pod.containers, ReadContainers(spec, "containers", "spec"));
  NPUSHARE_ASSIGN_OR_RETURN(std::string runtime_class,
                            OptionalString(spec, "runtimeClassName", "spec"));
  if (!runtime_class.empty()) {
    pod.runtime_class_name = runtime_class;
  }
  NPUSHARE_ASSIGN_OR_RETURN(pod.scheduler_name, OptionalString(spec, "schedulerName", "spec"));
  NPUSHARE_ASSIGN_OR_RETURN(pod.node_name, OptionalString(spec, "nodeName", "spec"));
  if (auto st = object.find("status"); st != object.end() && st->is_object()) {
    NPUSHARE_ASSIGN_OR_RETURN(std::string phase, OptionalString(*st, "phase", "status"));
    pod.phase = PhaseOf(phase);
  }
  return pod;
}

Status WritePodSpecInto(const PodSpec& before, const PodSpec& after, json& object) {
  if (!object.is_object()) {
    return InternalError("pod object is not a map");
  }
  const bool scheduler_changed = after.scheduler_name != before.scheduler_name;
  const bool runtime_changed =
      after.runtime_class_name && after.runtime_class_name != before.runtime_class_name;
  json* spec = EnsureObject(object, "spec");
  if (spec == nullptr) {
    return InternalError("pod spec is not a map");
  }
  if (scheduler_changed) {
    (*spec)["schedulerName"] = after.scheduler_name;
  }
  if (runtime_changed) {
    (*spec)["runtimeClassName"] = *after.runtime_class_name;
  }
  NPUSHARE_RETURN_IF_ERROR(
      WriteContainers(before.init_containers, after.init_containers, *spec, "initContainers"));
  NPUSHARE_RETURN_IF_ERROR(
      WriteContainers(before.containers, after.containers, *spec, "containers"));
  return OkStatus();
}

}  // namespace npushare::scheduler::http
