#include "hami/runtime_info.h"

#include <limits>

#include "hami/internal/go_json.h"

namespace npushare::hami {
namespace {

using hami_internal::EqualFoldAscii;
using hami_internal::GoJsonIntInRange;
using hami_internal::GoJsonKind;
using Json = nlohmann::ordered_json;

std::string TypeError(const Json& v, std::string_view field, std::string_view go_type) {
  return "json: cannot unmarshal " + GoJsonKind(v) + " into Go struct field RuntimeInfo." +
         std::string(field) + " of type " + std::string(go_type);
}

// DecodeEntry: one array element into `e` (Go semantics: case-insensitive keys, null
// leaves the field alone, wrong types are errors).
Status DecodeEntry(const Json& el, RuntimeInfoEntry* e) {
  if (el.is_null()) {
    return OkStatus();
  }
  if (!el.is_object()) {
    return InvalidArgumentError("json: cannot unmarshal " + GoJsonKind(el) +
                                " into Go value of type server.RuntimeInfo");
  }
  for (const auto& [key, v] : el.items()) {
    if (v.is_null()) {
      continue;
    }
    if (EqualFoldAscii(key, "UUID") || EqualFoldAscii(key, "temp")) {
      if (!v.is_string()) {
        return InvalidArgumentError(
            TypeError(v, EqualFoldAscii(key, "UUID") ? "UUID" : "temp", "string"));
      }
      (EqualFoldAscii(key, "UUID") ? e->uuid : e->temp) = v.get<std::string>();
    } else if (EqualFoldAscii(key, "memory")) {
      const auto x = GoJsonIntInRange(v, std::numeric_limits<int64_t>::min(),
                                      std::numeric_limits<int64_t>::max());
      if (!x) {
        return InvalidArgumentError(TypeError(v, "memory", "int64"));
      }
      e->memory = *x;
    } else if (EqualFoldAscii(key, "core")) {
      const auto x = GoJsonIntInRange(v, std::numeric_limits<int32_t>::min(),
                                      std::numeric_limits<int32_t>::max());
      if (!x) {
        return InvalidArgumentError(TypeError(v, "core", "int32"));
      }
      e->core = static_cast<int32_t>(*x);
    }
  }
  return OkStatus();
}

}  // namespace

std::string EncodeRuntimeInfo(const std::vector<RuntimeInfoEntry>& entries) {
  std::string out = "[";
  for (size_t i = 0; i < entries.size(); ++i) {
    const RuntimeInfoEntry& e = entries[i];
    if (i > 0) {
      out += ',';
    }
    out += '{';
    bool first = true;
    auto key = [&](std::string_view k) { hami_internal::AppendGoJsonKey(out, k, &first); };
    if (!e.uuid.empty()) {
      key("UUID");
      hami_internal::AppendGoJsonString(out, e.uuid);
    }
    if (!e.temp.empty()) {
      key("temp");
      hami_internal::AppendGoJsonString(out, e.temp);
    }
    if (e.memory && *e.memory != 0) {
      key("memory");
      out += std::to_string(*e.memory);
    }
    if (e.core && *e.core != 0) {
      key("core");
      out += std::to_string(*e.core);
    }
    out += '}';
  }
  out += ']';
  return out;
}

Result<std::vector<RuntimeInfoEntry>> DecodeRuntimeInfoList(std::string_view json,
                                                            const std::string& cw) {
  constexpr size_t kEchoLimit = 256;
  const std::string echoed = json.size() > kEchoLimit
                                 ? std::string(json.substr(0, kEchoLimit)) + "..."
                                 : std::string(json);
  auto fail = [&](const Status& cause) {
    return InvalidArgumentError("annotation " + RuntimeInfoKey(cw) + " value " + echoed +
                                " invalid: " + cause.message());
  };
  Result<Json> doc = hami_internal::ParseGoJson(json, kMaxRuntimeInfoBytes, kMaxRuntimeInfoDepth);
  if (!doc.ok()) {
    return fail(doc.status());
  }
  std::vector<RuntimeInfoEntry> list;
  if (doc->is_null()) {
    return list;
  }
  if (!doc->is_array()) {
    return fail(InvalidArgumentError("json: cannot unmarshal " + GoJsonKind(*doc) +
                                     " into Go value of type []server.RuntimeInfo"));
  }
  if (doc->size() > kMaxRuntimeInfoEntries) {
    return fail(
        InvalidArgumentError("more than " + std::to_string(kMaxRuntimeInfoEntries) + " entries"));
  }
  list.reserve(doc->size());
  for (const Json& el : *doc) {
    RuntimeInfoEntry e;
    const Status s = DecodeEntry(el, &e);
    if (!s.ok()) {
      return fail(s);
    }
    list.push_back(std::move(e));
  }
  return list;
}

Result<std::map<std::string, RuntimeInfoEntry>> DecodeRuntimeInfoLookup(std::string_view json,
                                                                        const std::string& cw) {
  NPUSHARE_ASSIGN_OR_RETURN(std::vector<RuntimeInfoEntry> list, DecodeRuntimeInfoList(json, cw));
  std::map<std::string, RuntimeInfoEntry> lookup;
  for (RuntimeInfoEntry& e : list) {
    if (!e.uuid.empty()) {
      lookup[e.uuid] = std::move(e);
    }
  }
  return lookup;
}

}  // namespace npushare::hami
