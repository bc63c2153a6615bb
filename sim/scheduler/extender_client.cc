#include "sim/scheduler/extender_client.h"

#include <algorithm>
#include <set>

#include "kube/objects.h"
#include "sim/scheduler/node_fit.h"

namespace npushare::kube_scheduler_sim {
namespace {

using nlohmann::json;

// FieldCI: obj[key] matched case-insensitively (Go's encoding/json), else null.
const json& FieldCI(const json& obj, const std::string& key) {
  static const json kNull;
  if (!obj.is_object()) {
    return kNull;
  }
  auto exact = obj.find(key);
  if (exact != obj.end()) {
    return *exact;
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (k.size() == key.size() && std::equal(k.begin(), k.end(), key.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return *it;
    }
  }
  return kNull;
}

Result<std::map<std::string, std::string>> ReasonMap(const json& m, const char* what) {
  std::map<std::string, std::string> out;
  if (m.is_null()) {
    return out;
  }
  if (!m.is_object()) {
    return InvalidArgumentError(std::string(what) + " must be a map");
  }
  for (const auto& [k, v] : m.items()) {
    out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

std::string ErrorText(const json& result) {
  const json& e = FieldCI(result, "Error");
  return e.is_string() ? e.get<std::string>() : "";
}

}  // namespace

ExtenderClient::ExtenderClient(ExtenderConfig config, kube_local::OutboundHttp& http)
    : config_(std::move(config)), http_(http) {}

bool ExtenderClient::IsInterested(const json& pod) const {
  if (config_.managed_resources.empty()) {
    return true;
  }
  return std::any_of(config_.managed_resources.begin(), config_.managed_resources.end(),
                     [&](const ManagedResource& r) { return RequestsResource(pod, r.name); });
}

Result<json> ExtenderClient::Call(const std::string& verb, const json& args) const {
  std::string prefix = config_.url_prefix;
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.pop_back();
  }
  kube_local::OutboundRequest req;
  req.url = prefix + "/" + verb;
  req.body = args.dump(-1, ' ', false, json::error_handler_t::replace);
  req.timeout = config_.http_timeout;
  req.ca_pem = config_.tls.ca_pem;
  req.client_cert_pem = config_.tls.cert_pem;
  req.client_key_pem = config_.tls.key_pem;
  // kube-scheduler: enableHTTPS without a CA means "Insecure = true".
  req.insecure_skip_verify =
      config_.tls.insecure || (config_.enable_https && config_.tls.ca_pem.empty());
  if (!config_.tls.server_name.empty() && !req.insecure_skip_verify) {
    // Verify as server_name while dialling the URL's host: connect_to maps the name back.
    auto scheme_end = req.url.find("://") + 3;
    auto host_end = req.url.find('/', scheme_end);
    std::string hostport = req.url.substr(scheme_end, host_end - scheme_end);
    auto colon = hostport.rfind(':');
    std::string port = colon == std::string::npos ? "443" : hostport.substr(colon + 1);
    std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
    req.url = req.url.substr(0, scheme_end) + config_.tls.server_name + ":" + port +
              (host_end == std::string::npos ? "" : req.url.substr(host_end));
    req.connect_to = {config_.tls.server_name + ":" + port + ":" + host + ":" + port};
  }
  NPUSHARE_ASSIGN_OR_RETURN(kube_local::OutboundResponse resp, http_.Send(req));
  if (resp.status_code != 200) {
    return UnavailableError("failed " + verb + " with extender at URL " + req.url + ", code " +
                            std::to_string(resp.status_code));
  }
  json out = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) {
    return InvalidArgumentError("extender " + verb + " answer is not JSON");
  }
  return out;
}

json ExtenderClient::Args(const json& pod, const std::vector<const json*>& nodes) const {
  json args = {{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", nullptr}};
  if (config_.node_cache_capable) {
    json names = json::array();
    for (const auto& n : nodes) {
      names.push_back(kube::StringField(kube::Field(*n, "metadata"), "name"));
    }
    args["NodeNames"] = std::move(names);
  } else {
    json items = json::array();
    for (const json* n : nodes) {
      items.push_back(*n);
    }
    args["Nodes"] = {{"apiVersion", "v1"},
                     {"kind", "NodeList"},
                     {"metadata", json::object()},
                     {"items", std::move(items)}};
  }
  return args;
}

Result<ExtenderFilterResult> ExtenderClient::Filter(const json& pod,
                                                    const std::vector<const json*>& nodes) const {
  NPUSHARE_ASSIGN_OR_RETURN(json result, Call(config_.filter_verb, Args(pod, nodes)));
  if (!result.is_object()) {
    return InvalidArgumentError("extender filter answer is not an object");
  }
  if (std::string e = ErrorText(result); !e.empty()) {
    return Status(StatusCode::kUnknown, e);
  }
  std::set<std::string> input;
  for (const auto& n : nodes) {
    input.insert(kube::StringField(kube::Field(*n, "metadata"), "name"));
  }
  ExtenderFilterResult out;
  const json& names = FieldCI(result, "NodeNames");
  const json& full = FieldCI(result, "Nodes");
  if (config_.node_cache_capable && !names.is_null()) {
    if (!names.is_array()) {
      return InvalidArgumentError("extender NodeNames must be a list");
    }
    for (const auto& n : names) {
      std::string name = n.is_string() ? n.get<std::string>() : "";
      if (input.count(name) == 0) {
        return InvalidArgumentError("extender \"" + this->name() +
                                    "\" claims a filtered "
                                    "node \"" +
                                    name +
                                    "\" which is not found in the input node "
                                    "list");
      }
      out.node_names.push_back(name);
    }
  } else if (!full.is_null()) {
    const json& items = FieldCI(full, "items");
    if (items.is_array()) {
      for (const auto& n : items) {
        std::string name = kube::StringField(kube::Field(n, "metadata"), "name");
        if (input.count(name) == 0) {
          return InvalidArgumentError("extender returned unknown node \"" + name + "\"");
        }
        out.node_names.push_back(name);
      }
    }
  }
  NPUSHARE_ASSIGN_OR_RETURN(out.failed, ReasonMap(FieldCI(result, "FailedNodes"), "FailedNodes"));
  NPUSHARE_ASSIGN_OR_RETURN(
      out.unresolvable,
      ReasonMap(FieldCI(result, "FailedAndUnresolvableNodes"), "FailedAndUnresolvableNodes"));
  return out;
}

Result<std::map<std::string, int64_t>> ExtenderClient::Prioritize(
    const json& pod, const std::vector<const json*>& nodes) const {
  NPUSHARE_ASSIGN_OR_RETURN(json result, Call(config_.prioritize_verb, Args(pod, nodes)));
  if (!result.is_array()) {
    return InvalidArgumentError("extender prioritize answer is not a list");
  }
  std::map<std::string, int64_t> scores;
  for (const auto& hp : result) {
    const json& host = FieldCI(hp, "Host");
    const json& score = FieldCI(hp, "Score");
    if (host.is_string() && score.is_number_integer()) {
      scores[host.get<std::string>()] = score.get<int64_t>();
    }
  }
  return scores;
}

Status ExtenderClient::Bind(const std::string& ns, const std::string& name, const std::string& uid,
                            const std::string& node) const {
  json args = {{"PodName", name}, {"PodNamespace", ns}, {"PodUID", uid}, {"Node", node}};
  NPUSHARE_ASSIGN_OR_RETURN(json result, Call(config_.bind_verb, args));
  if (std::string e = ErrorText(result); !e.empty()) {
    return Status(StatusCode::kUnknown, e);
  }
  return OkStatus();
}

}  // namespace npushare::kube_scheduler_sim
