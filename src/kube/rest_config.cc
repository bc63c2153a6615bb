#include "kube/rest_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "common/file_reader.h"

namespace npushare::kube {
namespace {

constexpr size_t kMaxFileBytes = 4 << 20;  // kubeconfigs and tokens are small

// ReadSmallFile: a referenced file that is missing, unreadable or too large is a
// precondition the operator must fix, whatever the reason (see LoadRestConfig's contract).
Result<std::string> ReadSmallFile(const std::string& path) {
  Result<std::string> data = ReadFileLimited(path, kMaxFileBytes);
  if (!data.ok()) {
    return FailedPreconditionError(data.status().message());
  }
  return data;
}

std::string Env(const LoadOptions& o, const char* name) {
  if (o.getenv) {
    return o.getenv(name);
  }
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/') {
    return path;
  }
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

// A named entry of one kubeconfig list, with the directory of the file it came from.
struct Entry {
  YAML::Node node;
  std::string dir;
};

std::string Str(const YAML::Node& n, const char* key) {
  YAML::Node v = n[key];
  if (!v || !v.IsScalar()) {
    return "";
  }
  return v.as<std::string>();
}

Status CollectNamed(const YAML::Node& root, const char* list, const char* inner,
                    const std::string& dir, std::map<std::string, Entry>* out) {
  YAML::Node items = root[list];
  if (!items) {
    return OkStatus();
  }
  if (!items.IsSequence()) {
    return InvalidArgumentError(std::string(list) + " is not a list");
  }
  for (const auto& item : items) {
    if (!item.IsMap()) {
      return InvalidArgumentError(std::string(list) + " entry is not a map");
    }
    std::string name = Str(item, "name");
    if (name.empty()) {
      return InvalidArgumentError(std::string(list) + " entry without a name");
    }
    YAML::Node body = item[inner];
    if (!body || !body.IsMap()) {
      return InvalidArgumentError(std::string(list) + " entry " + name + " has no " + inner);
    }
    out->emplace(name, Entry{body, dir});  // emplace keeps the first definition
  }
  return OkStatus();
}

Result<RestConfig> ResolveKubeconfig(const std::vector<std::string>& paths,
                                     const std::string& context_override) {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current;
  for (const auto& path : paths) {
    NPUSHARE_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const std::exception& e) {
      return InvalidArgumentError("kubeconfig " + path + ": " + e.what());
    }
    if (!root || root.IsNull()) {
      continue;
    }
    if (!root.IsMap()) {
      return InvalidArgumentError("kubeconfig " + path + " is not a map");
    }
    std::string dir = std::filesystem::path(path).parent_path().string();
    NPUSHARE_RETURN_IF_ERROR(CollectNamed(root, "clusters", "cluster", dir, &clusters));
    NPUSHARE_RETURN_IF_ERROR(CollectNamed(root, "users", "user", dir, &users));
    NPUSHARE_RETURN_IF_ERROR(CollectNamed(root, "contexts", "context", dir, &contexts));
    if (current.empty()) {
      current = Str(root, "current-context");
    }
  }
  std::string ctx_name = context_override.empty() ? current : context_override;
  if (ctx_name.empty()) {
    return InvalidArgumentError("kubeconfig has no current-context");
  }
  auto ctx = contexts.find(ctx_name);
  if (ctx == contexts.end()) {
    return InvalidArgumentError("context " + ctx_name + " not found");
  }
  std::string cluster_name = Str(ctx->second.node, "cluster");
  std::string user_name = Str(ctx->second.node, "user");
  auto cluster = clusters.find(cluster_name);
  if (cluster == clusters.end()) {
    return InvalidArgumentError("cluster " + cluster_name + " not found");
  }
  RestConfig cfg;
  const YAML::Node& c = cluster->second.node;
  cfg.server = Str(c, "server");
  while (!cfg.server.empty() && cfg.server.back() == '/') {
    cfg.server.pop_back();
  }
  if (cfg.server.empty()) {
    return InvalidArgumentError("cluster " + cluster_name + " has no server");
  }
  cfg.ca_file = Resolve(cluster->second.dir, Str(c, "certificate-authority"));
  if (std::string d = Str(c, "certificate-authority-data"); !d.empty()) {
    NPUSHARE_ASSIGN_OR_RETURN(cfg.ca_data, Base64Decode(d));
  }
  cfg.insecure_skip_tls_verify = Str(c, "insecure-skip-tls-verify") == "true";
  if (std::string ns = Str(ctx->second.node, "namespace"); !ns.empty()) {
    cfg.namespace_name = ns;
  }
  if (!user_name.empty()) {
    auto user = users.find(user_name);
    if (user == users.end()) {
      return InvalidArgumentError("user " + user_name + " not found");
    }
    const YAML::Node& u = user->second.node;
    const std::string& udir = user->second.dir;
    cfg.bearer_token = Str(u, "token");
    cfg.bearer_token_file = Resolve(udir, Str(u, "tokenFile"));
    cfg.client_cert_file = Resolve(udir, Str(u, "client-certificate"));
    cfg.client_key_file = Resolve(udir, Str(u, "client-key"));
    if (std::string d = Str(u, "client-certificate-data"); !d.empty()) {
      NPUSHARE_ASSIGN_OR_RETURN(cfg.client_cert_data, Base64Decode(d));
    }
    if (std::string d = Str(u, "client-key-data"); !d.empty()) {
      NPUSHARE_ASSIGN_OR_RETURN(cfg.client_key_data, Base64Decode(d));
    }
    cfg.username = Str(u, "username");
    cfg.password = Str(u, "password");
  }
  return cfg;
}

}  // namespace

Result<std::string> Base64Decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') {
      return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
      return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
      return c - '0' + 52;
    }
    if (c == '+') {
      return 62;
    }
    if (c == '/') {
      return 63;
    }
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    }
    if (c == '=') {
      padding = true;
      continue;
    }
    int v = val(c);
    if (v < 0 || padding) {
      return InvalidArgumentError("invalid base64 data");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits >= 6) {
    return InvalidArgumentError("truncated base64 data");
  }
  return out;
}

Result<RestConfig> LoadKubeconfigFiles(const std::vector<std::string>& paths,
                                       const std::string& context) {
  try {
    return ResolveKubeconfig(paths, context);
  } catch (const std::exception& e) {  // yaml-cpp conversions throw on type mismatches
    return InvalidArgumentError(std::string("kubeconfig: ") + e.what());
  }
}

Result<RestConfig> InClusterConfig(const LoadOptions& options) {
  std::string host = Env(options, "KUBERNETES_SERVICE_HOST");
  std::string port = Env(options, "KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return NotFoundError("not running in a cluster");
  }
  RestConfig cfg;
  bool ipv6 = host.find(':') != std::string::npos;
  cfg.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  const std::string& dir = options.service_account_dir;
  cfg.bearer_token_file = dir + "/token";
  NPUSHARE_ASSIGN_OR_RETURN(cfg.bearer_token, ReadSmallFile(cfg.bearer_token_file));
  cfg.ca_file = dir + "/ca.crt";
  auto ns = ReadSmallFile(dir + "/namespace");
  if (ns.ok() && !ns->empty()) {
    cfg.namespace_name = *ns;
  }
  return cfg;
}

Result<RestConfig> LoadRestConfig(const LoadOptions& options) {
  if (!options.kubeconfig.empty()) {
    return LoadKubeconfigFiles({options.kubeconfig}, options.context_override);
  }
  std::string list = Env(options, "KUBECONFIG");
  if (!list.empty()) {
    std::vector<std::string> paths;
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty() && std::filesystem::exists(item)) {
        paths.push_back(item);
      }
    }
    if (!paths.empty()) {
      return LoadKubeconfigFiles(paths, options.context_override);
    }
  }
  auto in_cluster = InClusterConfig(options);
  if (in_cluster.ok() || in_cluster.status().code() != StatusCode::kNotFound) {
    return in_cluster;
  }
  std::string home = Env(options, "HOME");
  std::string def = home.empty() ? std::string() : home + "/.kube/config";
  if (!def.empty() && std::filesystem::exists(def)) {
    return LoadKubeconfigFiles({def}, options.context_override);
  }
  return NotFoundError("no kubeconfig and not in a cluster");
}

}  // namespace npushare::kube
