#include "sim/kubelet/container_spec_builder.h"

#include <charconv>
#include <cstdio>
#include <set>

#include "kube/objects.h"

namespace npushare::kubelet_sim {

using kube::Field;
using kube::StringField;
using nlohmann::json;

namespace {

constexpr int64_t kMaxDevicesPerContainer = 1 << 20;
constexpr size_t kMaxArgs = 4096;
constexpr size_t kMaxEnv = 4096;

// ParseCount: an extended-resource quantity as an integer (string "2" or number 2).
Result<int64_t> ParseCount(const json& q, const std::string& resource) {
  int64_t v = -1;
  if (q.is_number_integer()) {
    v = q.get<int64_t>();
  } else if (q.is_string()) {
    const std::string& s = q.get_ref<const std::string&>();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
      v = -1;
    }
  }
  if (v < 0 || v >= kMaxDevicesPerContainer) {
    return InvalidArgumentError("resource " + resource + ": quantity " + q.dump() +
                                " is not a device count");
  }
  return v;
}

const json& ArrayField(const json& obj, std::string_view key) {
  static const json kEmpty = json::array();
  const json& f = Field(obj, key);
  return f.is_array() ? f : kEmpty;
}

// FieldRefValue: kubelet's downward API for env (the paths it supports), "" when unknown.
std::string FieldRefValue(const json& pod, const std::string& path, const std::string& pod_ip,
                          bool* known) {
  const json& meta = Field(pod, "metadata");
  *known = true;
  if (path == "metadata.name") {
    return StringField(meta, "name");
  }
  if (path == "metadata.namespace") {
    return StringField(meta, "namespace");
  }
  if (path == "metadata.uid") {
    return StringField(meta, "uid");
  }
  if (path == "spec.nodeName") {
    return StringField(Field(pod, "spec"), "nodeName");
  }
  if (path == "spec.serviceAccountName") {
    return StringField(Field(pod, "spec"), "serviceAccountName");
  }
  if (path == "status.podIP" || path == "status.hostIP") {
    return pod_ip;
  }
  for (const char* map : {"labels", "annotations"}) {
    const std::string prefix = std::string("metadata.") + map + "['";
    if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size() + 2 &&
        path.compare(path.size() - 2, 2, "']") == 0) {
      std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
      return StringField(Field(meta, map), key);
    }
  }
  *known = false;
  return {};
}

std::optional<uint32_t> IdField(const json& ctx, std::string_view key) {
  const json& f = Field(ctx, key);
  if (f.is_number_integer() && f.get<int64_t>() >= 0 && f.get<int64_t>() <= 0xffffffffLL) {
    return static_cast<uint32_t>(f.get<int64_t>());
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<ExtendedRequest>> ExtendedRequests(
    const json& container, const std::function<bool(const std::string&)>& is_plugin_resource) {
  const json& resources = Field(container, "resources");
  const json& limits = Field(resources, "limits");
  const json& requests = Field(resources, "requests");
  std::map<std::string, int64_t> counts;
  for (const json* source : {&requests, &limits}) {  // limits win: read last
    if (!source->is_object()) {
      continue;
    }
    for (const auto& [name, q] : source->items()) {
      if (!is_plugin_resource(name)) {
        continue;
      }
      NPUSHARE_ASSIGN_OR_RETURN(int64_t n, ParseCount(q, name));
      counts[name] = n;
    }
  }
  std::vector<ExtendedRequest> out;
  for (const auto& [name, n] : counts) {
    if (n > 0) {
      out.push_back({name, static_cast<int32_t>(n)});
    }
  }
  return out;
}

std::string ExpandVars(std::string_view in, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out.push_back(in[i]);
      continue;
    }
    if (in[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (in[i + 1] == '(') {
      size_t close = in.find(')', i + 2);
      if (close != std::string_view::npos) {
        std::string name(in.substr(i + 2, close - i - 2));
        auto it = vars.find(name);
        if (it != vars.end()) {
          out += it->second;
          i = close;
          continue;
        }
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

std::string ContainerRuntimeId(std::string_view pod_uid, std::string_view container, int attempt) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix(pod_uid);
  mix("/");
  mix(container);
  std::string prefix;
  for (char c : container) {
    if (prefix.size() >= 32) {
      break;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    prefix.push_back(ok ? c : '-');
  }
  if (prefix.empty() || prefix[0] == '-' || prefix[0] == '.') {
    prefix.insert(prefix.begin(), 'c');
  }
  char hash[17];
  std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(h));
  return prefix + "-" + hash + "-" + std::to_string(attempt < 0 ? 0 : attempt);
}

Result<BuiltContainerSpec> BuildContainerSpec(const ContainerSpecInputs& in) {
  const json& pod = *in.pod;
  const json& c = *in.container;
  const json& spec = Field(pod, "spec");
  BuiltContainerSpec out;
  container_sim::ContainerSpec& cs = out.spec;
  cs.id = in.runtime_id;
  cs.log_path = in.log_path;
  const std::string name = StringField(c, "name");

  // env: the pod's, in order, each expanded against the ones before it (kubelet's rule).
  std::map<std::string, std::string> vars;
  std::vector<std::string> order;
  const json& env = ArrayField(c, "env");
  if (env.size() > kMaxEnv) {
    return InvalidArgumentError("container " + name + " has too many env entries");
  }
  for (const json& e : env) {
    std::string key = StringField(e, "name");
    if (key.empty()) {
      continue;
    }
    std::string value;
    if (Field(e, "value").is_string()) {
      value = ExpandVars(StringField(e, "value"), vars);
    } else if (Field(e, "valueFrom").is_object()) {
      const json& from = Field(e, "valueFrom");
      bool known = false;
      if (Field(from, "fieldRef").is_object()) {
        value = FieldRefValue(pod, StringField(Field(from, "fieldRef"), "fieldPath"), in.pod_ip,
                              &known);
      }
      if (!known) {
        out.warnings.push_back("env " + key + ": valueFrom source not supported, set empty");
      }
    }
    if (vars.count(key) == 0) {
      order.push_back(key);
    }
    vars[key] = value;
  }
  // Allocate envs last: the device plugin's answer is authoritative (one entry per name).
  for (const auto& a : in.allocations) {
    for (const auto& [k, v] : a.envs) {
      if (vars.count(k) == 0) {
        order.push_back(k);
      }
      vars[k] = v;
    }
  }
  for (const auto& k : order) {
    cs.env.push_back(k + "=" + vars[k]);
  }

  // args = command + args, expanded. No image entrypoint exists: without a command, args alone
  // are the argv.
  for (const char* field : {"command", "args"}) {
    for (const json& a : ArrayField(c, field)) {
      if (!a.is_string()) {
        return InvalidArgumentError("container " + name + ": " + field + " must hold strings");
      }
      cs.args.push_back(ExpandVars(a.get<std::string>(), vars));
    }
  }
  if (cs.args.empty() || cs.args.size() > kMaxArgs) {
    return InvalidArgumentError("container " + name +
                                " has no command: images are not run here, so the pod must "
                                "give the command to execute");
  }
  if (!StringField(c, "workingDir").empty()) {
    cs.working_dir = StringField(c, "workingDir");
  }

  // mounts: Allocate's, then the pod's emptyDir / hostPath volumes.
  std::set<std::string> destinations;
  for (const auto& a : in.allocations) {
    for (const auto& m : a.mounts) {
      if (destinations.insert(m.container_path).second) {
        cs.mounts.push_back({m.host_path, m.container_path, m.read_only});
      }
    }
    for (const auto& d : a.devices) {
      cs.devices.push_back(
          {d.host_path, d.container_path, d.permissions.empty() ? "rw" : d.permissions});
    }
  }
  std::map<std::string, const json*> volumes;
  for (const json& v : ArrayField(spec, "volumes")) {
    volumes[StringField(v, "name")] = &v;
  }
  for (const json& vm : ArrayField(c, "volumeMounts")) {
    const std::string vname = StringField(vm, "name");
    const std::string path = StringField(vm, "mountPath");
    const bool ro = kube::BoolField(vm, "readOnly", false);
    auto it = volumes.find(vname);
    if (path.empty() || it == volumes.end()) {
      out.warnings.push_back("volumeMount " + vname + ": no such volume, skipped");
      continue;
    }
    if (!StringField(vm, "subPath").empty()) {
      out.warnings.push_back("volumeMount " + vname + ": subPath is not supported, skipped");
      continue;
    }
    std::string source;
    if (Field(*it->second, "emptyDir").is_object()) {
      source = in.volumes_dir + "/" + vname;
      out.empty_dirs.push_back(source);
    } else if (Field(*it->second, "hostPath").is_object()) {
      source = StringField(Field(*it->second, "hostPath"), "path");
    }
    if (source.empty()) {
      out.warnings.push_back("volume " + vname + ": only emptyDir and hostPath are supported");
      continue;
    }
    if (destinations.insert(path).second) {
      cs.mounts.push_back({source, path, ro});
    }
  }

  // uid/gid: the container's securityContext overrides the pod's.
  const json& pod_ctx = Field(spec, "securityContext");
  const json& ctx = Field(c, "securityContext");
  cs.uid = IdField(ctx, "runAsUser");
  if (!cs.uid.has_value()) {
    cs.uid = IdField(pod_ctx, "runAsUser");
  }
  cs.gid = IdField(ctx, "runAsGroup");
  if (!cs.gid.has_value()) {
    cs.gid = IdField(pod_ctx, "runAsGroup");
  }
  cs.ascend_runtime = StringField(spec, "runtimeClassName") == "ascend";
  return out;
}

}  // namespace npushare::kubelet_sim
