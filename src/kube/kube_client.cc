#include "kube/kube_client.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "kube/api_error.h"
#include "kube/objects.h"

namespace npushare::kube {
namespace {

using nlohmann::json;

constexpr char kJson[] = "application/json";

std::string QueryFor(const ListOptions& o) {
  std::string q;
  auto add = [&q](const char* k, const std::string& v) {
    if (v.empty()) {
      return;
    }
    q += q.empty() ? "?" : "&";
    q += k;
    q += "=";
    q += UrlEncode(v);
  };
  add("labelSelector", o.label_selector);
  add("fieldSelector", o.field_selector);
  if (o.limit > 0) {
    add("limit", std::to_string(o.limit));
  }
  add("continue", o.continue_token);
  add("resourceVersion", o.resource_version);
  return q;
}

HttpRequest MakeRequest(std::string method, std::string target) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.headers.emplace_back("Accept", kJson);
  return r;
}

std::string_view ContentType(PatchType t) {
  switch (t) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    default:
      return "application/merge-patch+json";
  }
}

// Dump: serialises without throwing on invalid UTF-8 (replaced with U+FFFD).
std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Result<json> ParseJson(std::string_view text, std::string_view what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status(StatusCode::kDataLoss, "malformed JSON in " + std::string(what) + " (" +
                                             std::to_string(text.size()) + " bytes)");
  }
  return j;
}

KubeClient::KubeClient(HttpTransport& transport, ClientOptions options, Clock& clock)
    : transport_(transport),
      options_(options),
      clock_(clock),
      limiter_(options.qps, options.burst, clock),
      rng_(options.jitter_seed) {}

std::chrono::nanoseconds KubeClient::Backoff(int attempt) {
  auto base = options_.initial_backoff * (int64_t{1} << std::min(attempt, 20));
  auto capped = std::min<std::chrono::nanoseconds>(base, options_.max_backoff);
  MutexLock lock(&rng_mu_);
  std::uniform_real_distribution<double> dist(0.5, 1.0);
  return std::chrono::nanoseconds(
      static_cast<int64_t>(static_cast<double>(capped.count()) * dist(rng_)));
}

Result<HttpResponse> KubeClient::Execute(const HttpRequest& request, Verb verb) {
  bool idempotent = verb == Verb::kIdempotent;
  for (int attempt = 0;; ++attempt) {
    limiter_.Wait();
    Result<HttpResponse> r = transport_.Send(request);
    bool retry = false;
    std::chrono::nanoseconds retry_after{0};
    if (!r.ok()) {
      StatusCode c = r.status().code();
      retry = c == StatusCode::kUnavailable ||
              (idempotent && (c == StatusCode::kAborted || c == StatusCode::kDeadlineExceeded));
    } else {
      int code = r->status_code;
      std::string ra = r->Header("retry-after");
      if (!ra.empty()) {
        char* end = nullptr;
        long long secs = std::strtoll(ra.c_str(), &end, 10);  // NOLINT(google-runtime-int)
        if (end != ra.c_str() && secs > 0) {
          retry_after = std::min<std::chrono::nanoseconds>(std::chrono::seconds(secs),
                                                           options_.max_retry_after);
        }
      }
      retry = code == 429 || (code >= 500 && code <= 599 && idempotent) ||
              (code == 503 && retry_after.count() > 0);
    }
    if (!retry || attempt >= options_.max_retries) {
      if (!r.ok() && r.status().code() == StatusCode::kAborted) {
        return UnavailableError(r.status().message());  // broken connection: transient
      }
      return r;
    }
    clock_.SleepFor(std::max(Backoff(attempt), retry_after));
  }
}

Result<json> KubeClient::ExecuteJson(const HttpRequest& request, Verb verb) {
  NPUSHARE_ASSIGN_OR_RETURN(HttpResponse resp, Execute(request, verb));
  Status st = StatusFromHttp(resp.status_code, resp.body);
  if (!st.ok()) {
    return st.WithContext(request.method + " " + request.target);
  }
  if (resp.body.empty()) {
    return json::object();
  }
  return ParseJson(resp.body, request.method + " " + request.target);
}

Result<json> KubeClient::Get(const ResourceType& type, std::string_view ns, std::string_view name) {
  return ExecuteJson(MakeRequest("GET", ObjectPath(type, ns, name)), Verb::kIdempotent);
}

Result<json> KubeClient::List(const ResourceType& type, std::string_view ns,
                              const ListOptions& options) {
  return ExecuteJson(MakeRequest("GET", CollectionPath(type, ns) + QueryFor(options)),
                     Verb::kIdempotent);
}

Result<json> KubeClient::ListAll(const ResourceType& type, std::string_view ns,
                                 ListOptions options) {
  if (options.limit <= 0) {
    options.limit = 500;
  }
  json result;
  json items = json::array();
  for (;;) {
    NPUSHARE_ASSIGN_OR_RETURN(json page, List(type, ns, options));
    if (!page.is_object()) {
      return Status(StatusCode::kDataLoss, "LIST answer is not an object");
    }
    if (result.is_null()) {
      result = page;
      result.erase("items");
    }
    auto it = page.find("items");
    if (it != page.end() && it->is_array()) {
      for (auto& item : *it) {
        items.push_back(std::move(item));
      }
    } else if (it != page.end() && !it->is_null()) {
      return Status(StatusCode::kDataLoss, "LIST items is not an array");
    }
    std::string cont = StringField(Field(page, "metadata"), "continue");
    if (cont.empty()) {
      break;
    }
    options.continue_token = cont;
    options.resource_version.clear();  // a continue token carries its own snapshot
  }
  result["items"] = std::move(items);
  if (result.contains("metadata") && result["metadata"].is_object()) {
    result["metadata"].erase("continue");
  }
  return result;
}

Result<json> KubeClient::Create(const ResourceType& type, std::string_view ns, const json& object) {
  HttpRequest r = MakeRequest("POST", CollectionPath(type, ns));
  r.headers.emplace_back("Content-Type", kJson);
  r.body = Dump(object);
  return ExecuteJson(r, Verb::kNonIdempotent);
}

Result<json> KubeClient::Update(const ResourceType& type, std::string_view ns, const json& object,
                                std::string_view subresource) {
  std::string name = StringField(Field(object, "metadata"), "name");
  if (name.empty()) {
    return InvalidArgumentError("Update: object has no metadata.name");
  }
  HttpRequest r = MakeRequest("PUT", ObjectPath(type, ns, name, subresource));
  r.headers.emplace_back("Content-Type", kJson);
  r.body = Dump(object);
  return ExecuteJson(r, Verb::kIdempotent);
}

Result<json> KubeClient::Patch(const ResourceType& type, std::string_view ns, std::string_view name,
                               PatchType patch_type, const json& patch,
                               const PatchOptions& options) {
  json body = patch;
  if (!options.resource_version.empty()) {
    if (patch_type == PatchType::kJson) {
      if (!body.is_array()) {
        return InvalidArgumentError("JSON patch must be an array");
      }
      body.insert(body.begin(), json{{"op", "test"},
                                     {"path", "/metadata/resourceVersion"},
                                     {"value", options.resource_version}});
    } else {
      if (!body.is_object()) {
        return InvalidArgumentError("merge patch must be an object");
      }
      body["metadata"]["resourceVersion"] = options.resource_version;
    }
  }
  HttpRequest r = MakeRequest("PATCH", ObjectPath(type, ns, name, options.subresource));
  r.headers.emplace_back("Content-Type", std::string(ContentType(patch_type)));
  r.body = Dump(body);
  return ExecuteJson(r, Verb::kNonIdempotent);
}

Status KubeClient::Delete(const ResourceType& type, std::string_view ns, std::string_view name,
                          const DeleteOptions& options) {
  HttpRequest r = MakeRequest("DELETE", ObjectPath(type, ns, name));
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (options.grace_period_seconds) {
    body["gracePeriodSeconds"] = *options.grace_period_seconds;
  }
  if (!options.uid_precondition.empty()) {
    body["preconditions"] = {{"uid", options.uid_precondition}};
  }
  r.headers.emplace_back("Content-Type", kJson);
  r.body = Dump(body);
  return ExecuteJson(r, Verb::kIdempotent).status();
}

Status KubeClient::Bind(std::string_view ns, std::string_view pod, std::string_view node,
                        const std::map<std::string, std::string>& annotations,
                        std::string_view pod_uid) {
  json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", pod}, {"namespace", ns}}},
                  {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
  if (!annotations.empty()) {
    binding["metadata"]["annotations"] = annotations;
  }
  if (!pod_uid.empty()) {
    binding["metadata"]["uid"] = pod_uid;
  }
  HttpRequest r = MakeRequest("POST", ObjectPath(kPods, ns, pod, "binding"));
  r.headers.emplace_back("Content-Type", kJson);
  r.body = Dump(binding);
  return ExecuteJson(r, Verb::kNonIdempotent).status();
}

Result<json> KubeClient::RecordEvent(const json& involved, std::string_view type,
                                     std::string_view reason, std::string_view message,
                                     std::string_view component) {
  NPUSHARE_ASSIGN_OR_RETURN(ObjectMeta meta, ParseObjectMeta(involved));
  std::string ns = meta.namespace_name.empty() ? "default" : meta.namespace_name;
  auto wall = clock_.WallNow();
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch());
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), ".%" PRIx64, static_cast<uint64_t>(nanos.count()));
  std::string now = FormatRfc3339(wall, false);
  json ref = {{"kind", StringField(involved, "kind")},
              {"apiVersion", StringField(involved, "apiVersion")},
              {"name", meta.name},
              {"uid", meta.uid},
              {"resourceVersion", meta.resource_version}};
  if (!meta.namespace_name.empty()) {
    ref["namespace"] = meta.namespace_name;
  }
  json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", meta.name + suffix}, {"namespace", ns}}},
                {"involvedObject", ref},
                {"reason", reason},
                {"message", message},
                {"type", type},
                {"source", {{"component", component}}},
                {"firstTimestamp", now},
                {"lastTimestamp", now},
                {"count", 1}};
  return Create(kEvents, ns, event);
}

Status KubeClient::Watch(const ResourceType& type, std::string_view ns, const WatchOptions& options,
                         const WatchHandler& handler, StreamCancel* cancel) {
  ListOptions lo;
  lo.label_selector = options.label_selector;
  lo.field_selector = options.field_selector;
  lo.resource_version = options.resource_version;
  std::string target = CollectionPath(type, ns) + QueryFor(lo);
  target += target.find('?') == std::string::npos ? "?" : "&";
  target += "watch=1";
  if (options.allow_bookmarks) {
    target += "&allowWatchBookmarks=true";
  }
  if (options.timeout_seconds > 0) {
    target += "&timeoutSeconds=" + std::to_string(options.timeout_seconds);
  }
  HttpRequest r = MakeRequest("GET", target);
  limiter_.Wait();
  Status stream_status;  // set by the line handler when it ends the stream with an error
  LineHandler on_line = [&](std::string_view line) -> bool {
    auto parsed = ParseJson(line, "watch event");
    if (!parsed.ok()) {
      stream_status = parsed.status();
      return false;
    }
    json& ev = *parsed;
    if (!ev.is_object() || !ev.contains("type") || !ev["type"].is_string() ||
        !ev.contains("object") || !ev["object"].is_object()) {
      stream_status = Status(StatusCode::kDataLoss, "watch event without type/object");
      return false;
    }
    WatchEvent we;
    we.type = ev["type"].get<std::string>();
    we.object = std::move(ev["object"]);
    if (we.type == "ERROR") {
      int code = static_cast<int>(IntField(we.object, "code", 500));
      stream_status = StatusFromHttp(code >= 200 && code < 300 ? 500 : code, Dump(we.object));
      return false;
    }
    if (we.type != "ADDED" && we.type != "MODIFIED" && we.type != "DELETED" &&
        we.type != "BOOKMARK") {
      stream_status = Status(StatusCode::kDataLoss, "unknown watch event type " + we.type);
      return false;
    }
    return handler(std::move(we));
  };
  Result<HttpResponse> resp = transport_.Stream(r, on_line, cancel, options_.max_watch_line_bytes);
  if (!resp.ok()) {
    return resp.status().WithContext("watch " + target);
  }
  if (!stream_status.ok()) {
    return stream_status;
  }
  return StatusFromHttp(resp->status_code, resp->body);
}

}  // namespace npushare::kube
