#include "kube/objects.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace npushare::kube {
namespace {

Status ReadString(const nlohmann::json& obj, const char* key, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return OkStatus();
  }
  if (!it->is_string()) {
    return InvalidArgumentError(std::string(key) + " is not a string");
  }
  *out = it->get<std::string>();
  return OkStatus();
}

Status ReadStringMap(const nlohmann::json& obj, const char* key,
                     std::map<std::string, std::string>* out, bool allow_numbers) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return OkStatus();
  }
  if (!it->is_object()) {
    return InvalidArgumentError(std::string(key) + " is not an object");
  }
  for (auto kv = it->begin(); kv != it->end(); ++kv) {
    if (kv.value().is_string()) {
      (*out)[kv.key()] = kv.value().get<std::string>();
    } else if (allow_numbers && kv.value().is_number()) {
      (*out)[kv.key()] = kv.value().dump();
    } else {
      return InvalidArgumentError(std::string(key) + "." + kv.key() + " is not a string");
    }
  }
  return OkStatus();
}

Result<std::vector<ContainerView>> ParseContainers(const nlohmann::json& spec, const char* key) {
  std::vector<ContainerView> out;
  auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return InvalidArgumentError(std::string(key) + " is not a list");
  }
  for (const auto& c : *it) {
    if (!c.is_object()) {
      return InvalidArgumentError("container is not an object");
    }
    ContainerView v;
    NPUSHARE_RETURN_IF_ERROR(ReadString(c, "name", &v.name));
    auto res = c.find("resources");
    if (res != c.end() && !res->is_null()) {
      if (!res->is_object()) {
        return InvalidArgumentError("resources is not an object");
      }
      NPUSHARE_RETURN_IF_ERROR(ReadStringMap(*res, "requests", &v.requests, true));
      NPUSHARE_RETURN_IF_ERROR(ReadStringMap(*res, "limits", &v.limits, true));
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

const nlohmann::json& Field(const nlohmann::json& obj, std::string_view key) {
  static const nlohmann::json* kNull = new nlohmann::json();
  if (!obj.is_object()) {
    return *kNull;
  }
  auto it = obj.find(key);
  return it == obj.end() ? *kNull : *it;
}

std::string StringField(const nlohmann::json& obj, std::string_view key,
                        std::string_view fallback) {
  const nlohmann::json& v = Field(obj, key);
  return v.is_string() ? v.get<std::string>() : std::string(fallback);
}

int64_t IntField(const nlohmann::json& obj, std::string_view key, int64_t fallback) {
  const nlohmann::json& v = Field(obj, key);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

bool BoolField(const nlohmann::json& obj, std::string_view key, bool fallback) {
  const nlohmann::json& v = Field(obj, key);
  return v.is_boolean() ? v.get<bool>() : fallback;
}

Result<ObjectMeta> ParseObjectMeta(const nlohmann::json& object) {
  if (!object.is_object()) {
    return InvalidArgumentError("object is not a JSON object");
  }
  auto it = object.find("metadata");
  if (it == object.end() || !it->is_object()) {
    return InvalidArgumentError("missing metadata");
  }
  const auto& m = *it;
  ObjectMeta meta;
  NPUSHARE_RETURN_IF_ERROR(ReadString(m, "name", &meta.name));
  NPUSHARE_RETURN_IF_ERROR(ReadString(m, "namespace", &meta.namespace_name));
  NPUSHARE_RETURN_IF_ERROR(ReadString(m, "uid", &meta.uid));
  NPUSHARE_RETURN_IF_ERROR(ReadString(m, "resourceVersion", &meta.resource_version));
  NPUSHARE_RETURN_IF_ERROR(ReadString(m, "creationTimestamp", &meta.creation_timestamp));
  auto gen = m.find("generation");
  if (gen != m.end() && !gen->is_null()) {
    if (!gen->is_number_integer()) {
      return InvalidArgumentError("generation is not an integer");
    }
    meta.generation = gen->get<int64_t>();
  }
  std::string deletion;
  NPUSHARE_RETURN_IF_ERROR(ReadString(m, "deletionTimestamp", &deletion));
  if (!deletion.empty()) {
    meta.deletion_timestamp = deletion;
  }
  NPUSHARE_RETURN_IF_ERROR(ReadStringMap(m, "labels", &meta.labels, false));
  NPUSHARE_RETURN_IF_ERROR(ReadStringMap(m, "annotations", &meta.annotations, false));
  return meta;
}

std::string ObjectKey(const nlohmann::json& object) {
  if (!object.is_object()) {
    return "";
  }
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) {
    return "";
  }
  auto n = m->find("name");
  if (n == m->end() || !n->is_string()) {
    return "";
  }
  auto ns = m->find("namespace");
  if (ns != m->end() && ns->is_string() && !ns->get_ref<const std::string&>().empty()) {
    return ns->get<std::string>() + "/" + n->get<std::string>();
  }
  return n->get<std::string>();
}

std::string ResourceVersionOf(const nlohmann::json& object) {
  return StringField(Field(object, "metadata"), "resourceVersion");
}

Result<PodView> ParsePod(const nlohmann::json& object) {
  PodView pod;
  NPUSHARE_ASSIGN_OR_RETURN(pod.meta, ParseObjectMeta(object));
  auto spec = object.find("spec");
  if (spec != object.end() && spec->is_object()) {
    NPUSHARE_RETURN_IF_ERROR(ReadString(*spec, "nodeName", &pod.node_name));
    NPUSHARE_RETURN_IF_ERROR(ReadString(*spec, "schedulerName", &pod.scheduler_name));
    NPUSHARE_ASSIGN_OR_RETURN(pod.containers, ParseContainers(*spec, "containers"));
    NPUSHARE_ASSIGN_OR_RETURN(pod.init_containers, ParseContainers(*spec, "initContainers"));
  } else if (spec != object.end() && !spec->is_null()) {
    return InvalidArgumentError("pod spec is not an object");
  }
  auto status = object.find("status");
  if (status != object.end() && status->is_object()) {
    NPUSHARE_RETURN_IF_ERROR(ReadString(*status, "phase", &pod.phase));
  }
  return pod;
}

Result<NodeView> ParseNode(const nlohmann::json& object) {
  NodeView node;
  NPUSHARE_ASSIGN_OR_RETURN(node.meta, ParseObjectMeta(object));
  auto spec = object.find("spec");
  if (spec != object.end() && spec->is_object()) {
    node.unschedulable = BoolField(*spec, "unschedulable", false);
  }
  auto status = object.find("status");
  if (status != object.end() && status->is_object()) {
    NPUSHARE_RETURN_IF_ERROR(ReadStringMap(*status, "capacity", &node.capacity, true));
    NPUSHARE_RETURN_IF_ERROR(ReadStringMap(*status, "allocatable", &node.allocatable, true));
    auto conds = status->find("conditions");
    if (conds != status->end() && conds->is_array()) {
      for (const auto& c : *conds) {
        if (StringField(c, "type") == "Ready") {
          node.ready = StringField(c, "status") == "True";
        }
      }
    }
  }
  return node;
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t, bool micros) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  if (secs > t) {
    secs -= std::chrono::seconds(1);
  }
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf);
  if (micros) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
    char frac[32];
    std::snprintf(frac, sizeof(frac), ".%06lld", static_cast<long long>(us));
    out += frac;
  }
  out += "Z";
  return out;
}

Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text) {
  std::tm tm{};
  if (text.size() < 20 || text.size() > 40) {
    return InvalidArgumentError("bad RFC 3339 time");
  }
  std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) {
    return InvalidArgumentError("bad RFC 3339 time");
  }
  int64_t micros = 0;
  if (*end == '.') {
    ++end;
    int digits = 0;
    while (*end >= '0' && *end <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (*end - '0');
      }
      ++digits;
      ++end;
    }
    if (digits == 0) {
      return InvalidArgumentError("bad RFC 3339 fraction");
    }
    for (; digits < 6; ++digits) {
      micros *= 10;
    }
  }
  if (std::string_view(end) != "Z") {
    return InvalidArgumentError("RFC 3339 time must be UTC (Z)");
  }
  std::time_t tt = timegm(&tm);
  return std::chrono::system_clock::from_time_t(tt) + std::chrono::microseconds(micros);
}

}  // namespace npushare::kube
