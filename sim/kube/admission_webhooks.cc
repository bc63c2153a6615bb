#include "sim/kube/admission_webhooks.h"

#include <algorithm>
#include <iostream>
#include <random>
#include <string_view>
#include <vector>

#include "kube/objects.h"
#include "kube/rest_config.h"
#include "kube/selector.h"
#include "sim/kube/object_api.h"
#include "sim/kube/patch.h"

namespace npushare::kube_local {
namespace {

using nlohmann::json;

constexpr const char* kConfigStore = "mutatingwebhookconfigurations.admissionregistration.k8s.io";
constexpr int kDefaultTimeoutSeconds = 10;
constexpr int kMaxTimeoutSeconds = 30;
constexpr size_t kMaxSelectorValueLength = 63;

// Strings: the string elements of obj[key] when it is an array ("" entries kept).
std::vector<std::string> Strings(const json& obj, std::string_view key) {
  std::vector<std::string> out;
  const json& arr = kube::Field(obj, key);
  if (arr.is_array()) {
    for (const auto& v : arr) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      }
    }
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// RuleMatches: one RuleWithOperations against a main-resource request (no subresource):
// "pods", "*" and "*/*" select pods; "pods/*" only its subresources.
bool RuleMatches(const json& rule, const ResourceInfo& info, std::string_view operation) {
  auto ops = Strings(rule, "operations");
  auto groups = Strings(rule, "apiGroups");
  auto versions = Strings(rule, "apiVersions");
  auto resources = Strings(rule, "resources");
  if (!Contains(ops, operation) && !Contains(ops, "*")) {
    return false;
  }
  if (!Contains(groups, info.group) && !Contains(groups, "*")) {
    return false;
  }
  if (!Contains(versions, info.version) && !Contains(versions, "*")) {
    return false;
  }
  if (!Contains(resources, info.plural) && !Contains(resources, "*") &&
      !Contains(resources, "*/*")) {
    return false;
  }
  std::string scope = kube::StringField(rule, "scope", "*");
  if (scope == "Cluster") {
    return !info.namespaced;
  }
  if (scope == "Namespaced") {
    return info.namespaced;
  }
  return scope == "*";
}

bool AnyRuleMatches(const json& webhook, const ResourceInfo& info, std::string_view operation) {
  const json& rules = kube::Field(webhook, "rules");
  if (!rules.is_array()) {
    return false;
  }
  return std::any_of(rules.begin(), rules.end(),
                     [&](const json& r) { return RuleMatches(r, info, operation); });
}

bool SafeSelectorWord(const std::string& s, bool allow_empty) {
  if (s.size() > 253 + 1 + kMaxSelectorValueLength || (s.empty() && !allow_empty)) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '/';
  });
}

// SelectorFromJson: a metav1.LabelSelector ({matchLabels, matchExpressions}) as a parsed
// LabelSelector (null or {} select everything). kInvalidArgument when malformed.
Result<kube::LabelSelector> SelectorFromJson(const json& sel) {
  if (sel.is_null()) {
    return kube::LabelSelector::Parse("");
  }
  if (!sel.is_object()) {
    return InvalidArgumentError("label selector must be an object");
  }
  std::vector<std::string> parts;
  const json& labels = kube::Field(sel, "matchLabels");
  if (!labels.is_null()) {
    if (!labels.is_object()) {
      return InvalidArgumentError("matchLabels must be a map");
    }
    for (const auto& [k, v] : labels.items()) {
      if (!v.is_string() || !SafeSelectorWord(k, false) ||
          !SafeSelectorWord(v.get<std::string>(), true)) {
        return InvalidArgumentError("invalid matchLabels entry " + k);
      }
      parts.push_back(k + "=" + v.get<std::string>());
    }
  }
  const json& exprs = kube::Field(sel, "matchExpressions");
  if (!exprs.is_null()) {
    if (!exprs.is_array()) {
      return InvalidArgumentError("matchExpressions must be a list");
    }
    for (const auto& e : exprs) {
      std::string key = kube::StringField(e, "key");
      std::string op = kube::StringField(e, "operator");
      auto values = Strings(e, "values");
      if (!SafeSelectorWord(key, false)) {
        return InvalidArgumentError("invalid matchExpressions key");
      }
      for (const auto& v : values) {
        if (!SafeSelectorWord(v, true)) {
          return InvalidArgumentError("invalid matchExpressions value for " + key);
        }
      }
      if (op == "In" || op == "NotIn") {
        if (values.empty()) {
          return InvalidArgumentError("operator " + op + " needs values for " + key);
        }
        std::string joined;
        for (const auto& v : values) {
          joined += (joined.empty() ? "" : ",") + v;
        }
        parts.push_back(key + (op == "In" ? " in (" : " notin (") + joined + ")");
      } else if (op == "Exists" || op == "DoesNotExist") {
        if (!values.empty()) {
          return InvalidArgumentError("operator " + op + " takes no values for " + key);
        }
        parts.push_back(op == "Exists" ? key : "!" + key);
      } else {
        return InvalidArgumentError("unknown selector operator \"" + op + "\"");
      }
    }
  }
  std::string text;
  for (const auto& p : parts) {
    text += (text.empty() ? "" : ",") + p;
  }
  return kube::LabelSelector::Parse(text);
}

std::string NewRequestUid() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string h;
  for (int i = 0; i < 32; ++i) {
    h.push_back(kHex[rng() % 16]);
  }
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

// CallError: a failure subject to failurePolicy (upstream's ErrCallingWebhook).
struct CallError {
  std::string reason;
};

// WebhookAnswer: what one call produced.
struct WebhookAnswer {
  bool allowed = false;
  json status;        // response.status when denied
  std::string patch;  // decoded JSON Patch text ("" when none)
};

ApiResult StatusResult(int code, const std::string& reason, const std::string& message) {
  return {code,
          {{"kind", "Status"},
           {"apiVersion", "v1"},
           {"metadata", json::object()},
           {"status", "Failure"},
           {"message", message},
           {"reason", reason},
           {"details", json::object()},
           {"code", code}}};
}

// DenialResult: upstream's webhookerrors.ToStatusErr.
ApiResult DenialResult(const std::string& webhook, const json& status) {
  std::string denied = "admission webhook \"" + webhook + "\" denied the request";
  int code = static_cast<int>(kube::IntField(status, "code", 0));
  if (code < 400 || code > 599) {
    code = 400;
  }
  std::string message = kube::StringField(status, "message");
  std::string reason = kube::StringField(status, "reason");
  if (!message.empty()) {
    message = denied + ": " + message;
  } else if (!reason.empty()) {
    message = denied + ": " + reason;
  } else {
    message = denied + " without explanation";
  }
  ApiResult r = StatusResult(code, reason, message);
  if (status.contains("details") && status["details"].is_object()) {
    r.body["details"] = status["details"];
  }
  return r;
}

}  // namespace

Result<std::pair<std::string, std::string>> ParseServiceEndpoint(const std::string& flag) {
  auto eq = flag.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
    return InvalidArgumentError("service endpoint must be ns/name[:port]=host:port: " + flag);
  }
  std::string key = flag.substr(0, eq);
  std::string value = flag.substr(eq + 1);
  auto slash = key.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == key.size()) {
    return InvalidArgumentError("service endpoint key must be ns/name[:port]: " + key);
  }
  if (auto port = key.find(':', slash);
      port != std::string::npos &&
      (port + 1 == key.size() ||
       key.find_first_not_of("0123456789", port + 1) != std::string::npos)) {
    return InvalidArgumentError("service endpoint key port must be a number: " + key);
  }
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size() ||
      value.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return InvalidArgumentError("service endpoint address must be host:port: " + value);
  }
  return std::make_pair(key, value);
}

MutatingWebhookAdmission::MutatingWebhookAdmission(const ObjectStore& store,
                                                   MutatingWebhookOptions options)
    : store_(store), options_([&options] {
        if (!options.http) {
          options.http = NewCurlOutboundHttp();
        }
        return std::move(options);
      }()) {}

namespace {

std::vector<ObjectPtr> Configurations(const ObjectStore& store) {
  // ListPage returns key order, which for cluster-scoped objects is name order.
  return store.ListPage(kConfigStore, "", "", 0, [](const json&) { return true; }).items;
}

// ResolveEndpoint: URL and libcurl CONNECT_TO entries for a clientConfig.
Result<std::pair<std::string, std::vector<std::string>>> ResolveClientConfig(
    const json& client_config, const std::map<std::string, std::string>& endpoints,
    int timeout_seconds) {
  std::string timeout_query = "timeout=" + std::to_string(timeout_seconds) + "s";
  const json& service = kube::Field(client_config, "service");
  std::string url = kube::StringField(client_config, "url");
  if (!url.empty() && !service.is_null()) {
    return InvalidArgumentError("clientConfig has both url and service");
  }
  if (!url.empty()) {
    if (url.rfind("https://", 0) != 0) {
      return InvalidArgumentError("webhook url must use https: " + url);
    }
    url += (url.find('?') == std::string::npos ? "?" : "&") + timeout_query;
    return std::make_pair(url, std::vector<std::string>{});
  }
  if (!service.is_object()) {
    return InvalidArgumentError("clientConfig needs url or service");
  }
  std::string ns = kube::StringField(service, "namespace");
  std::string name = kube::StringField(service, "name");
  int64_t port = kube::IntField(service, "port", 443);
  std::string path = kube::StringField(service, "path", "/");
  if (ns.empty() || name.empty() || port < 1 || port > 65535) {
    return InvalidArgumentError("clientConfig.service needs namespace, name and a valid port");
  }
  if (path.empty() || path[0] != '/') {
    path = "/" + path;
  }
  std::string base = ns + "/" + name;
  auto it = endpoints.find(base + ":" + std::to_string(port));
  if (it == endpoints.end()) {
    it = endpoints.find(base);
  }
  if (it == endpoints.end()) {
    return UnavailableError("service " + base +
                            " has no endpoint (kube-local: pass "
                            "--service-endpoint " +
                            base + "=HOST:PORT)");
  }
  std::string host = name + "." + ns + ".svc";
  std::string hostport = host + ":" + std::to_string(port);
  return std::make_pair("https://" + hostport + path + "?" + timeout_query,
                        std::vector<std::string>{hostport + ":" + it->second});
}

// ReviewVersion: the first supported entry of admissionReviewVersions, or "".
std::string ReviewVersion(const json& webhook) {
  for (const auto& v : Strings(webhook, "admissionReviewVersions")) {
    if (v == "v1" || v == "v1beta1") {
      return v;
    }
  }
  return "";
}

json BuildReview(const AdmissionAttributes& a, const std::string& version, const std::string& uid,
                 const std::string& username) {
  json kind = {{"group", a.info->group}, {"version", a.info->version}, {"kind", a.info->kind}};
  json resource = {
      {"group", a.info->group}, {"version", a.info->version}, {"resource", a.info->plural}};
  json request = {
      {"uid", uid},
      {"kind", kind},
      {"resource", resource},
      {"requestKind", kind},
      {"requestResource", resource},
      {"name", a.name},
      {"operation", a.operation},
      {"userInfo",
       {{"username", username}, {"groups", {"system:masters", "system:authenticated"}}}},
      {"object", a.object},
      {"oldObject", a.old_object},
      {"dryRun", a.dry_run},
      {"options",
       {{"apiVersion", "meta.k8s.io/v1"},
        {"kind", a.operation == "CREATE" ? "CreateOptions" : "UpdateOptions"}}}};
  if (!a.namespace_name.empty()) {
    request["namespace"] = a.namespace_name;
  }
  return {{"apiVersion", "admission.k8s.io/" + version},
          {"kind", "AdmissionReview"},
          {"request", std::move(request)}};
}

// ParseAnswer: upstream's VerifyAdmissionResponse for a mutating webhook.
Result<WebhookAnswer> ParseAnswer(const std::string& body, const std::string& version,
                                  const std::string& uid) {
  json review = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (review.is_discarded() || !review.is_object()) {
    return InvalidArgumentError("response is not a JSON object");
  }
  const json& response = kube::Field(review, "response");
  if (!response.is_object()) {
    return InvalidArgumentError("response has no `response` object");
  }
  bool v1 = version == "v1";
  if (v1) {
    if (kube::StringField(review, "apiVersion") != "admission.k8s.io/v1" ||
        kube::StringField(review, "kind") != "AdmissionReview") {
      return InvalidArgumentError(
          "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview");
    }
    if (kube::StringField(response, "uid") != uid) {
      return InvalidArgumentError("expected response.uid=\"" + uid + "\", got \"" +
                                  kube::StringField(response, "uid") + "\"");
    }
  }
  WebhookAnswer answer;
  const json& allowed = kube::Field(response, "allowed");
  if (!allowed.is_null() && !allowed.is_boolean()) {
    return InvalidArgumentError("response.allowed must be a boolean");
  }
  answer.allowed = allowed.is_boolean() && allowed.get<bool>();
  answer.status = kube::Field(response, "status");
  std::string patch_b64 = kube::StringField(response, "patch");
  std::string patch_type = kube::StringField(response, "patchType");
  if (v1) {
    if (!patch_b64.empty() && patch_type.empty()) {
      return InvalidArgumentError("webhook returned response.patch but not response.patchType");
    }
    if (patch_b64.empty() && !patch_type.empty()) {
      return InvalidArgumentError("webhook returned response.patchType but not response.patch");
    }
    if (!patch_type.empty() && patch_type != "JSONPatch") {
      return InvalidArgumentError("webhook returned invalid response.patchType of \"" + patch_type +
                                  "\"");
    }
  }
  if (!patch_b64.empty()) {
    auto decoded = kube::Base64Decode(patch_b64);
    if (!decoded.ok()) {
      return InvalidArgumentError("response.patch is not valid base64");
    }
    answer.patch = std::move(*decoded);
  }
  return answer;
}

}  // namespace

bool MutatingWebhookAdmission::Interested(const ResourceInfo& info,
                                          std::string_view operation) const {
  for (const auto& config : Configurations(store_)) {
    const json& hooks = kube::Field(*config, "webhooks");
    if (!hooks.is_array()) {
      continue;
    }
    for (const auto& hook : hooks) {
      if (AnyRuleMatches(hook, info, operation)) {
        return true;
      }
    }
  }
  return false;
}

AdmissionOutcome MutatingWebhookAdmission::Admit(AdmissionAttributes a) {
  AdmissionOutcome out;
  for (const auto& config : Configurations(store_)) {
    const json& hooks = kube::Field(*config, "webhooks");
    if (!hooks.is_array()) {
      continue;
    }
    for (const auto& hook : hooks) {
      if (!AnyRuleMatches(hook, *a.info, a.operation)) {
        continue;
      }
      std::string name = kube::StringField(hook, "name", "<unnamed>");
      bool fail_closed = kube::StringField(hook, "failurePolicy", "Fail") != "Ignore";
      // call: runs the matchers and the call; a CallError is subject to failurePolicy.
      auto call = [&]() -> Result<std::optional<WebhookAnswer>> {
        if (kube::Field(hook, "matchConditions").is_array() &&
            !kube::Field(hook, "matchConditions").empty()) {
          return UnimplementedError("matchConditions (CEL) are not supported by kube-local");
        }
        NPUSHARE_ASSIGN_OR_RETURN(kube::LabelSelector ns_sel,
                                  SelectorFromJson(kube::Field(hook, "namespaceSelector")));
        NPUSHARE_ASSIGN_OR_RETURN(kube::LabelSelector obj_sel,
                                  SelectorFromJson(kube::Field(hook, "objectSelector")));
        if (a.info->plural == "namespaces") {
          if (!ns_sel.Matches(a.object) &&
              (a.old_object.is_null() || !ns_sel.Matches(a.old_object))) {
            return std::optional<WebhookAnswer>();
          }
        } else if (a.info->namespaced) {
          ObjectPtr ns = store_.Get("namespaces", a.namespace_name);
          if (!ns_sel.Matches(ns ? *ns : json::object())) {
            return std::optional<WebhookAnswer>();
          }
        }
        if (!obj_sel.Matches(a.object) &&
            (a.old_object.is_null() || !obj_sel.Matches(a.old_object))) {
          return std::optional<WebhookAnswer>();
        }
        std::string version = ReviewVersion(hook);
        if (version.empty()) {
          return InvalidArgumentError("admissionReviewVersions lists neither v1 nor v1beta1");
        }
        int timeout = static_cast<int>(std::clamp<int64_t>(
            kube::IntField(hook, "timeoutSeconds", kDefaultTimeoutSeconds), 1, kMaxTimeoutSeconds));
        const json& client_config = kube::Field(hook, "clientConfig");
        NPUSHARE_ASSIGN_OR_RETURN(
            auto target, ResolveClientConfig(client_config, options_.service_endpoints, timeout));
        OutboundRequest req;
        req.url = target.first;
        req.connect_to = target.second;
        req.timeout = std::chrono::seconds(timeout);
        std::string ca_b64 = kube::StringField(client_config, "caBundle");
        if (!ca_b64.empty()) {
          NPUSHARE_ASSIGN_OR_RETURN(req.ca_pem, kube::Base64Decode(ca_b64));
        }
        std::string uid = NewRequestUid();
        req.body = BuildReview(a, version, uid, options_.username)
                       .dump(-1, ' ', false, json::error_handler_t::replace);
        NPUSHARE_ASSIGN_OR_RETURN(OutboundResponse resp, options_.http->Send(req));
        if (resp.status_code < 200 || resp.status_code > 299) {
          return UnavailableError("the server responded with HTTP " +
                                  std::to_string(resp.status_code) + ": " +
                                  resp.body.substr(0, 256));
        }
        NPUSHARE_ASSIGN_OR_RETURN(WebhookAnswer answer, ParseAnswer(resp.body, version, uid));
        return std::optional<WebhookAnswer>(std::move(answer));
      };
      auto result = call();
      if (!result.ok()) {
        std::string why = "failed calling webhook \"" + name + "\": " + result.status().message();
        if (!fail_closed) {
          std::cerr << "kube-local: " << why << " (failurePolicy Ignore: skipped)\n";
          continue;
        }
        out.rejection = StatusResult(500, "InternalError", "Internal error occurred: " + why);
        return out;
      }
      if (!result->has_value()) {
        continue;  // selectors did not match
      }
      WebhookAnswer& answer = **result;
      if (!answer.allowed) {
        out.rejection = DenialResult(name, answer.status);
        return out;
      }
      if (answer.patch.empty()) {
        continue;
      }
      json ops = json::parse(answer.patch, nullptr, /*allow_exceptions=*/false);
      Result<json> patched = ops.is_discarded()
                                 ? Result<json>(InvalidArgumentError("patch is not valid JSON"))
                                 : ApplyJsonPatch(a.object, ops);
      if (!patched.ok() || !patched->is_object()) {
        out.rejection = StatusResult(
            500, "InternalError",
            "Internal error occurred: webhook \"" + name +
                "\" returned a patch that cannot be "
                "applied: " +
                (patched.ok() ? "result is not an object" : patched.status().message()));
        return out;
      }
      a.object = std::move(*patched);
    }
  }
  out.object = std::move(a.object);
  return out;
}

}  // namespace npushare::kube_local
