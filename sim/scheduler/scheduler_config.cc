#include "sim/scheduler/scheduler_config.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file_reader.h"
#include "common/go_duration.h"
#include "common/yaml_json.h"
#include "kube/rest_config.h"

namespace npushare::kube_scheduler_sim {
namespace {

using nlohmann::json;

constexpr size_t kMaxConfigBytes = size_t{1} << 20;
constexpr size_t kMaxPemBytes = size_t{1} << 20;
constexpr std::chrono::milliseconds kDefaultExtenderTimeout{5000};

Result<std::string> GetString(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return InvalidArgumentError(where + "." + key + " must be a string");
  }
  return it->get<std::string>();
}

Result<bool> GetBool(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return false;
  }
  if (!it->is_boolean()) {
    return InvalidArgumentError(where + "." + key + " must be a boolean");
  }
  return it->get<bool>();
}

Result<int64_t> GetInt(const json& obj, const char* key, int64_t fallback,
                       const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return fallback;
  }
  if (!it->is_number_integer()) {
    return InvalidArgumentError(where + "." + key + " must be an integer");
  }
  return it->get<int64_t>();
}

Status CheckKeys(const json& obj, const std::set<std::string>& known, const std::string& where) {
  for (const auto& [k, v] : obj.items()) {
    if (known.count(k) == 0) {
      return InvalidArgumentError(where + ": unknown field \"" + k + "\"");
    }
  }
  return OkStatus();
}

// PemFromFileOrData: a `<x>Data` field (base64 PEM) wins over `<x>File`.
Result<std::string> PemFromFileOrData(const json& tls, const char* file_key, const char* data_key,
                                      const std::string& base_dir, const std::string& where) {
  NPUSHARE_ASSIGN_OR_RETURN(std::string data, GetString(tls, data_key, where));
  if (!data.empty()) {
    auto decoded = kube::Base64Decode(data);
    if (!decoded.ok()) {
      return InvalidArgumentError(where + "." + data_key + " is not valid base64");
    }
    return *decoded;
  }
  NPUSHARE_ASSIGN_OR_RETURN(std::string file, GetString(tls, file_key, where));
  if (file.empty()) {
    return std::string();
  }
  std::filesystem::path p(file);
  if (p.is_relative() && !base_dir.empty()) {
    p = std::filesystem::path(base_dir) / p;
  }
  auto text = ReadFileLimited(p.string(), kMaxPemBytes);
  if (!text.ok()) {
    return FailedPreconditionError(where + "." + file_key + ": cannot read " + p.string() + ": " +
                                   text.status().message());
  }
  return *text;
}

Result<ExtenderConfig> ParseExtender(const json& e, const std::string& where,
                                     const std::string& base_dir) {
  if (!e.is_object()) {
    return InvalidArgumentError(where + " must be an object");
  }
  NPUSHARE_RETURN_IF_ERROR(
      CheckKeys(e,
                {"urlPrefix", "filterVerb", "preemptVerb", "prioritizeVerb", "weight", "bindVerb",
                 "enableHTTPS", "tlsConfig", "httpTimeout", "nodeCacheCapable", "managedResources",
                 "ignorable"},
                where));
  ExtenderConfig x;
  NPUSHARE_ASSIGN_OR_RETURN(x.url_prefix, GetString(e, "urlPrefix", where));
  if (x.url_prefix.rfind("http://", 0) != 0 && x.url_prefix.rfind("https://", 0) != 0) {
    return InvalidArgumentError(where + ".urlPrefix must be an http:// or https:// URL");
  }
  NPUSHARE_ASSIGN_OR_RETURN(x.filter_verb, GetString(e, "filterVerb", where));
  NPUSHARE_ASSIGN_OR_RETURN(x.preempt_verb, GetString(e, "preemptVerb", where));
  NPUSHARE_ASSIGN_OR_RETURN(x.prioritize_verb, GetString(e, "prioritizeVerb", where));
  NPUSHARE_ASSIGN_OR_RETURN(x.bind_verb, GetString(e, "bindVerb", where));
  NPUSHARE_ASSIGN_OR_RETURN(x.weight, GetInt(e, "weight", 0, where));
  if (!x.prioritize_verb.empty() && x.weight <= 0) {
    return InvalidArgumentError(where + ".weight: must have a positive weight applied to it");
  }
  NPUSHARE_ASSIGN_OR_RETURN(x.enable_https, GetBool(e, "enableHTTPS", where));
  NPUSHARE_ASSIGN_OR_RETURN(x.node_cache_capable, GetBool(e, "nodeCacheCapable", where));
  NPUSHARE_ASSIGN_OR_RETURN(x.ignorable, GetBool(e, "ignorable", where));
  NPUSHARE_ASSIGN_OR_RETURN(std::string timeout, GetString(e, "httpTimeout", where));
  if (!timeout.empty()) {
    auto d = ParseGoDuration(timeout);
    if (!d.ok()) {
      return InvalidArgumentError(where + ".httpTimeout: " + d.status().message());
    }
    // Nearest millisecond (half away from zero; d is never negative).
    const std::chrono::milliseconds ms((d->count() + 500000) / 1000000);
    x.http_timeout = ms.count() == 0 ? kDefaultExtenderTimeout : ms;
  }
  const json& tls = e.contains("tlsConfig") ? e["tlsConfig"] : json();
  if (!tls.is_null()) {
    std::string tw = where + ".tlsConfig";
    if (!tls.is_object()) {
      return InvalidArgumentError(tw + " must be an object");
    }
    NPUSHARE_RETURN_IF_ERROR(CheckKeys(tls,
                                       {"insecure", "serverName", "certFile", "keyFile", "caFile",
                                        "certData", "keyData", "caData"},
                                       tw));
    NPUSHARE_ASSIGN_OR_RETURN(x.tls.insecure, GetBool(tls, "insecure", tw));
    NPUSHARE_ASSIGN_OR_RETURN(x.tls.server_name, GetString(tls, "serverName", tw));
    NPUSHARE_ASSIGN_OR_RETURN(x.tls.ca_pem,
                              PemFromFileOrData(tls, "caFile", "caData", base_dir, tw));
    NPUSHARE_ASSIGN_OR_RETURN(x.tls.cert_pem,
                              PemFromFileOrData(tls, "certFile", "certData", base_dir, tw));
    NPUSHARE_ASSIGN_OR_RETURN(x.tls.key_pem,
                              PemFromFileOrData(tls, "keyFile", "keyData", base_dir, tw));
    if (x.tls.cert_pem.empty() != x.tls.key_pem.empty()) {
      return InvalidArgumentError(tw + ": a client certificate needs its key and vice versa");
    }
  }
  if (e.contains("managedResources") && !e["managedResources"].is_null()) {
    const json& list = e["managedResources"];
    if (!list.is_array()) {
      return InvalidArgumentError(where + ".managedResources must be a list");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      std::string mw = where + ".managedResources[" + std::to_string(i) + "]";
      if (!list[i].is_object()) {
        return InvalidArgumentError(mw + " must be an object");
      }
      NPUSHARE_RETURN_IF_ERROR(CheckKeys(list[i], {"name", "ignoredByScheduler"}, mw));
      ManagedResource r;
      NPUSHARE_ASSIGN_OR_RETURN(r.name, GetString(list[i], "name", mw));
      NPUSHARE_ASSIGN_OR_RETURN(r.ignored_by_scheduler, GetBool(list[i], "ignoredByScheduler", mw));
      // An extended resource name: a domain prefix, '/', a name (no kubernetes.io domain).
      auto slash = r.name.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == r.name.size() ||
          r.name.find("kubernetes.io/") != std::string::npos) {
        return InvalidArgumentError(mw + ".name \"" + r.name +
                                    "\" is not a valid extended resource name");
      }
      x.managed_resources.push_back(std::move(r));
    }
  }
  return x;
}

}  // namespace

std::set<std::string> SchedulerConfig::IgnoredResources() const {
  std::set<std::string> out;
  for (const auto& e : extenders) {
    for (const auto& r : e.managed_resources) {
      if (r.ignored_by_scheduler) {
        out.insert(r.name);
      }
    }
  }
  return out;
}

Result<SchedulerConfig> ParseSchedulerConfig(std::string_view yaml, const std::string& base_dir) {
  NPUSHARE_ASSIGN_OR_RETURN(std::vector<json> docs, ParseYamlDocuments(yaml));
  if (docs.size() != 1 || !docs[0].is_object()) {
    return InvalidArgumentError("a KubeSchedulerConfiguration must be exactly one YAML object");
  }
  const json& doc = docs[0];
  NPUSHARE_ASSIGN_OR_RETURN(std::string api_version, GetString(doc, "apiVersion", "config"));
  NPUSHARE_ASSIGN_OR_RETURN(std::string kind, GetString(doc, "kind", "config"));
  if (api_version != "kubescheduler.config.k8s.io/v1" &&
      api_version != "kubescheduler.config.k8s.io/v1beta3" &&
      api_version != "kubescheduler.config.k8s.io/v1beta2") {
    return InvalidArgumentError("unsupported apiVersion \"" + api_version +
                                "\" (want kubescheduler.config.k8s.io/v1)");
  }
  if (kind != "KubeSchedulerConfiguration") {
    return InvalidArgumentError("kind must be KubeSchedulerConfiguration, got \"" + kind + "\"");
  }
  SchedulerConfig cfg;
  NPUSHARE_ASSIGN_OR_RETURN(int64_t initial, GetInt(doc, "podInitialBackoffSeconds", 1, "config"));
  NPUSHARE_ASSIGN_OR_RETURN(int64_t max_backoff, GetInt(doc, "podMaxBackoffSeconds", 10, "config"));
  if (initial <= 0 || max_backoff < initial || max_backoff > 24 * 3600) {
    return InvalidArgumentError(
        "podInitialBackoffSeconds must be > 0 and podMaxBackoffSeconds >= it");
  }
  cfg.pod_initial_backoff = std::chrono::seconds(initial);
  cfg.pod_max_backoff = std::chrono::seconds(max_backoff);
  if (doc.contains("clientConnection") && doc["clientConnection"].is_object()) {
    const json& cc = doc["clientConnection"];
    NPUSHARE_ASSIGN_OR_RETURN(cfg.kubeconfig, GetString(cc, "kubeconfig", "clientConnection"));
    if (cc.contains("qps") && !cc["qps"].is_null()) {
      if (!cc["qps"].is_number() || cc["qps"].get<double>() < 0) {
        return InvalidArgumentError("clientConnection.qps must be a non-negative number");
      }
      cfg.qps = cc["qps"].get<double>();
    }
    NPUSHARE_ASSIGN_OR_RETURN(int64_t burst, GetInt(cc, "burst", 100, "clientConnection"));
    if (burst < 1 || burst > 100000) {
      return InvalidArgumentError("clientConnection.burst must be in 1..100000");
    }
    cfg.burst = static_cast<int>(burst);
  }
  if (doc.contains("profiles") && !doc["profiles"].is_null()) {
    if (!doc["profiles"].is_array()) {
      return InvalidArgumentError("profiles must be a list");
    }
    for (size_t i = 0; i < doc["profiles"].size(); ++i) {
      const json& p = doc["profiles"][i];
      std::string where = "profiles[" + std::to_string(i) + "]";
      if (!p.is_object()) {
        return InvalidArgumentError(where + " must be an object");
      }
      NPUSHARE_ASSIGN_OR_RETURN(std::string name, GetString(p, "schedulerName", where));
      if (name.empty()) {
        name = "default-scheduler";
      }
      if (std::find(cfg.scheduler_names.begin(), cfg.scheduler_names.end(), name) !=
          cfg.scheduler_names.end()) {
        return InvalidArgumentError(where + ".schedulerName \"" + name + "\" is duplicated");
      }
      cfg.scheduler_names.push_back(name);
    }
  }
  if (cfg.scheduler_names.empty()) {
    cfg.scheduler_names.push_back("default-scheduler");
  }
  if (doc.contains("extenders") && !doc["extenders"].is_null()) {
    if (!doc["extenders"].is_array()) {
      return InvalidArgumentError("extenders must be a list");
    }
    std::set<std::string> managed;
    int binders = 0;
    for (size_t i = 0; i < doc["extenders"].size(); ++i) {
      std::string where = "extenders[" + std::to_string(i) + "]";
      NPUSHARE_ASSIGN_OR_RETURN(ExtenderConfig x,
                                ParseExtender(doc["extenders"][i], where, base_dir));
      if (!x.bind_verb.empty() && ++binders > 1) {
        return InvalidArgumentError(where + ".bindVerb: only one extender can implement bind");
      }
      for (const auto& r : x.managed_resources) {
        if (!managed.insert(r.name).second) {
          return InvalidArgumentError(where + ": duplicate extender managed resource name " +
                                      r.name);
        }
      }
      cfg.extenders.push_back(std::move(x));
    }
    std::stable_partition(cfg.extenders.begin(), cfg.extenders.end(),
                          [](const ExtenderConfig& x) { return !x.ignorable; });
  }
  return cfg;
}

Result<SchedulerConfig> LoadSchedulerConfigFile(const std::string& path) {
  auto text = ReadFileLimited(path, kMaxConfigBytes);
  if (!text.ok()) {
    return FailedPreconditionError("cannot read scheduler config " + path + ": " +
                                   text.status().message());
  }
  return ParseSchedulerConfig(*text, std::filesystem::path(path).parent_path().string());
}

}  // namespace npushare::kube_scheduler_sim
