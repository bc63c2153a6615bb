#include "hami/node_register.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "hami/internal/go_json.h"

namespace npushare::hami {
namespace {

using hami_internal::AppendGoJsonKey;
using hami_internal::AppendGoJsonString;
using hami_internal::EqualFoldAscii;
using hami_internal::GoJsonIntInRange;
using hami_internal::GoJsonKind;
using Json = nlohmann::ordered_json;

// AppendGoFloat: encoding/json's float64 form: shortest round-trip digits, plain
// notation for 1e-6 <= |v| < 1e21, otherwise exponent form without a leading zero in
// the exponent ("1e-7", "1e+21").
void AppendGoFloat(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";  // Go refuses to marshal these; never produced by our callers.
    return;
  }
  char buf[64];
  const double a = std::fabs(v);
  const bool exp = a != 0 && (a < 1e-6 || a >= 1e21);
  const auto res = std::to_chars(buf, buf + sizeof(buf), v,
                                 exp ? std::chars_format::scientific : std::chars_format::fixed);
  std::string s(buf, res.ptr);
  if (exp) {
    // to_chars writes at least two exponent digits ("e-07"); Go trims to one.
    const size_t e = s.find('e');
    if (e != std::string::npos && e + 3 < s.size() && s[e + 2] == '0') {
      s.erase(e + 2, 1);
    }
  }
  out += s;
}

void AppendDevice(std::string& out, const DeviceInfo& d) {
  out += '{';
  bool first = true;
  auto key = [&](std::string_view k) { AppendGoJsonKey(out, k, &first); };
  if (!d.id.empty()) {
    key("id");
    AppendGoJsonString(out, d.id);
  }
  if (d.index != 0) {
    key("index");
    out += std::to_string(d.index);
  }
  if (d.count != 0) {
    key("count");
    out += std::to_string(d.count);
  }
  if (d.devmem != 0) {
    key("devmem");
    out += std::to_string(d.devmem);
  }
  if (d.devcore != 0) {
    key("devcore");
    out += std::to_string(d.devcore);
  }
  if (!d.type.empty()) {
    key("type");
    AppendGoJsonString(out, d.type);
  }
  if (d.numa != 0) {
    key("numa");
    out += std::to_string(d.numa);
  }
  if (!d.mode.empty()) {
    key("mode");
    AppendGoJsonString(out, d.mode);
  }
  if (d.health) {
    key("health");
    out += "true";
  }
  if (!d.device_vendor.empty()) {
    key("devicevendor");
    AppendGoJsonString(out, d.device_vendor);
  }
  if (d.has_custom_info) {
    key("custominfo");
    out += '{';
    if (d.network_id) {
      out += "\"NetworkID\":";
      AppendGoFloat(out, *d.network_id);
    }
    out += '}';
  }
  key("devicepairscore");
  out += "{}";
  out += '}';
}

std::string TypeError(const Json& v, std::string_view field, std::string_view go_type) {
  return "json: cannot unmarshal " + GoJsonKind(v) + " into Go struct field DeviceInfo." +
         std::string(field) + " of type " + std::string(go_type);
}

// DecodeInt: a JSON integer literal within [lo, hi] (GoJsonIntInRange), else Go's type error.
Status DecodeInt(const Json& v, std::string_view field, std::string_view go_type, int64_t lo,
                 int64_t hi, int64_t* out) {
  const std::optional<int64_t> x = GoJsonIntInRange(v, lo, hi);
  if (!x) {
    return InvalidArgumentError(TypeError(v, field, go_type));
  }
  *out = *x;
  return OkStatus();
}

Status DecodeString(const Json& v, std::string_view field, std::string* out) {
  if (!v.is_string()) {
    return InvalidArgumentError(TypeError(v, field, "string"));
  }
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > kMaxNodeRegisterStringBytes) {
    return InvalidArgumentError("device field " + std::string(field) + " is longer than " +
                                std::to_string(kMaxNodeRegisterStringBytes) + " bytes");
  }
  *out = s;
  return OkStatus();
}

Status DecodeCustomInfo(const Json& v, DeviceInfo* d) {
  if (!v.is_object()) {
    return InvalidArgumentError(TypeError(v, "custominfo", "map[string]interface {}"));
  }
  d->has_custom_info = true;
  d->network_id.reset();
  // A Go map: keys are exact, the last duplicate wins (nlohmann keeps the last too).
  const auto it = v.find("NetworkID");
  if (it != v.end() && it->is_number()) {
    d->network_id = it->get<double>();
  }
  return OkStatus();
}

Status DecodeField(std::string_view key, const Json& v, DeviceInfo* d) {
  // JSON null leaves a Go field untouched, whatever its type.
  if (v.is_null()) {
    if (EqualFoldAscii(key, "custominfo")) {
      d->has_custom_info = false;  // a nil map
      d->network_id.reset();
    }
    return OkStatus();
  }
  int64_t n = 0;
  if (EqualFoldAscii(key, "id")) {
    return DecodeString(v, "id", &d->id);
  }
  if (EqualFoldAscii(key, "index")) {
    // Go's uint is 64-bit; we keep uint32 (no node has 2^32 devices).
    NPUSHARE_RETURN_IF_ERROR(
        DecodeInt(v, "index", "uint", 0, std::numeric_limits<uint32_t>::max(), &n));
    d->index = static_cast<uint32_t>(n);
    return OkStatus();
  }
  struct IntField {
    const char* name;
    int32_t DeviceInfo::*member;
    const char* go_type;
  };
  static constexpr IntField kInts[] = {{"count", &DeviceInfo::count, "int32"},
                                       {"devmem", &DeviceInfo::devmem, "int32"},
                                       {"devcore", &DeviceInfo::devcore, "int32"},
                                       {"numa", &DeviceInfo::numa, "int"}};
  for (const IntField& f : kInts) {
    if (EqualFoldAscii(key, f.name)) {
      NPUSHARE_RETURN_IF_ERROR(DecodeInt(v, f.name, f.go_type, std::numeric_limits<int32_t>::min(),
                                         std::numeric_limits<int32_t>::max(), &n));
      d->*f.member = static_cast<int32_t>(n);
      return OkStatus();
    }
  }
  if (EqualFoldAscii(key, "type")) {
    return DecodeString(v, "type", &d->type);
  }
  if (EqualFoldAscii(key, "mode")) {
    return DecodeString(v, "mode", &d->mode);
  }
  if (EqualFoldAscii(key, "devicevendor")) {
    return DecodeString(v, "devicevendor", &d->device_vendor);
  }
  if (EqualFoldAscii(key, "health")) {
    if (!v.is_boolean()) {
      return InvalidArgumentError(TypeError(v, "health", "bool"));
    }
    d->health = v.get<bool>();
    return OkStatus();
  }
  if (EqualFoldAscii(key, "custominfo")) {
    return DecodeCustomInfo(v, d);
  }
  if (EqualFoldAscii(key, "migtemplate")) {
    // Unused for Ascend; only its shape is checked (contents are not interpreted).
    if (!v.is_array()) {
      return InvalidArgumentError(TypeError(v, "migtemplate", "[]device.Geometry"));
    }
    return OkStatus();
  }
  return OkStatus();  // unknown keys (incl. devicepairscore, tagged "-" at HEAD)
}

}  // namespace

std::string EncodeNodeRegister(const std::vector<DeviceInfo>& devices) {
  if (devices.empty()) {
    return "[]";
  }
  std::string out = "[";
  for (size_t i = 0; i < devices.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    AppendDevice(out, devices[i]);
  }
  out += ']';
  return out;
}

bool PluginHasNetworkId(std::string_view type) {
  return type.starts_with("Ascend910");
}

int32_t PluginNetworkId(uint32_t index, std::string_view type) {
  if (type == "Ascend910C") {
    return 0;  // all dies of a 910C super node share one HCCS network
  }
  return index > 3 ? 1 : 0;
}

Result<std::vector<DeviceInfo>> DecodeNodeRegister(std::string_view json,
                                                   const std::string& common_word) {
  NPUSHARE_ASSIGN_OR_RETURN(
      Json doc, hami_internal::ParseGoJson(json, kMaxNodeRegisterBytes, kMaxNodeRegisterDepth));
  if (doc.is_null()) {
    return InvalidArgumentError("no device found on node");
  }
  if (!doc.is_array()) {
    return InvalidArgumentError("json: cannot unmarshal " + GoJsonKind(doc) +
                                " into Go value of type []*device.DeviceInfo");
  }
  if (doc.empty()) {
    return InvalidArgumentError("no device found on node");
  }
  if (doc.size() > kMaxNodeRegisterDevices) {
    return InvalidArgumentError("node register annotation lists " + std::to_string(doc.size()) +
                                " devices, more than the limit of " +
                                std::to_string(kMaxNodeRegisterDevices));
  }
  std::vector<DeviceInfo> out;
  out.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    const Json& el = doc[i];
    if (el.is_null()) {
      return InvalidArgumentError("device entry " + std::to_string(i) + " is null");
    }
    if (!el.is_object()) {
      return InvalidArgumentError("json: cannot unmarshal " + GoJsonKind(el) +
                                  " into Go value of type device.DeviceInfo");
    }
    DeviceInfo d;
    for (const auto& [key, value] : el.items()) {
      NPUSHARE_RETURN_IF_ERROR(DecodeField(key, value, &d));
    }
    d.device_vendor = common_word;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace npushare::hami
