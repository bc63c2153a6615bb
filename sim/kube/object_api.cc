#include "sim/kube/object_api.h"

#include <random>

#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"
#include "kube/rest_config.h"
#include "kube/selector.h"
#include "sim/kube/patch.h"

namespace npushare::kube_local {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultPodGraceSeconds = 30;
constexpr size_t kMaxNameLength = 253;

std::string RandomChars(size_t n, const char* alphabet, size_t alphabet_size) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<size_t> pick(0, alphabet_size - 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(alphabet[pick(rng)]);
  }
  return out;
}

std::string NewUid() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string h = RandomChars(32, kHex, 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-a" + h.substr(17, 3) +
         "-" + h.substr(20, 12);
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) {
      return false;
    }
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return alnum(name.front()) && alnum(name.back());
}

std::string NowText() {
  return kube::FormatRfc3339(std::chrono::system_clock::now(), false);
}

Result<json> ParseBody(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgumentError("request body is not valid JSON");
  }
  return j;
}

std::string MetaString(const json& obj, const char* field) {
  if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) {
    return "";
  }
  const json& m = obj["metadata"];
  auto it = m.find(field);
  return it != m.end() && it->is_string() ? it->get<std::string>() : "";
}

Status Invalid(std::string msg) {
  return FailedPreconditionError(std::move(msg));
}  // -> 422

std::string ToBase64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) {
    out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  }
  while (out.size() % 4 != 0) {
    out.push_back('=');
  }
  return out;
}

void ApplyPodDefaults(json& pod) {
  json& spec = pod["spec"];
  if (!spec.is_object()) {
    spec = json::object();
  }
  if (!spec.contains("schedulerName")) {
    spec["schedulerName"] = "default-scheduler";
  }
  if (!spec.contains("restartPolicy")) {
    spec["restartPolicy"] = "Always";
  }
  if (!spec.contains("terminationGracePeriodSeconds")) {
    spec["terminationGracePeriodSeconds"] = kDefaultPodGraceSeconds;
  }
  if (!spec.contains("dnsPolicy")) {
    spec["dnsPolicy"] = "ClusterFirst";
  }
}

// SetNamespaceNameLabel: kube-apiserver labels every namespace with its own name
// (kubernetes.io/metadata.name), which webhook namespaceSelectors commonly use.
void SetNamespaceNameLabel(json& ns) {
  json& meta = ns["metadata"];
  std::string name = MetaString(ns, "name");
  if (name.empty()) {
    name = MetaString(ns, "generateName");  // completed below once the name is generated
  }
  if (!meta.contains("labels") || !meta["labels"].is_object()) {
    meta["labels"] = json::object();
  }
  meta["labels"]["kubernetes.io/metadata.name"] = name;
}

// PrepareUpdate: builds the object to store from `current` and a full proposed object,
// keeping server-owned metadata; null result means "no change".
// CheckShape: top-level fields every kind we serve decodes as objects (the real server fails
// to decode anything else with 400).
Status CheckShape(const json& obj) {
  for (const char* k : {"metadata", "spec", "status"}) {
    auto it = obj.find(k);
    if (it != obj.end() && !it->is_null() && !it->is_object()) {
      return InvalidArgumentError(std::string(k) + " must be an object");
    }
  }
  return OkStatus();
}

Result<ObjectPtr> PrepareUpdate(const ResourceInfo& info, const ObjectPtr& current, json proposed,
                                const std::string& subresource) {
  if (!proposed.is_object()) {
    return InvalidArgumentError("object must be a JSON object");
  }
  NPUSHARE_RETURN_IF_ERROR(CheckShape(proposed));
  if (!proposed.contains("metadata") || !proposed["metadata"].is_object()) {
    proposed["metadata"] = json::object();
  }
  std::string want_rv = MetaString(proposed, "resourceVersion");
  std::string have_rv = MetaString(*current, "resourceVersion");
  if (!want_rv.empty() && want_rv != have_rv) {
    return AbortedError(
        "the object has been modified; please apply your changes to the latest "
        "version and try again");
  }
  json next;
  if (subresource == "status") {
    next = *current;
    if (proposed.contains("status")) {
      next["status"] = proposed["status"];
    } else {
      next.erase("status");
    }
  } else {
    next = std::move(proposed);
    if (info.has_status) {
      if (current->contains("status")) {
        next["status"] = (*current)["status"];
      } else {
        next.erase("status");
      }
    }
    const json& cm = kube::Field(*current, "metadata");
    json& nm = next["metadata"];
    for (const char* k : {"uid", "creationTimestamp", "namespace", "name", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation"}) {
      if (cm.contains(k)) {
        nm[k] = cm[k];
      } else {
        nm.erase(k);
      }
    }
    json old_spec = kube::Field(*current, "spec");
    json new_spec = next.contains("spec") ? next["spec"] : json();
    if (old_spec != new_spec) {
      nm["generation"] = kube::IntField(cm, "generation", 1) + 1;
    }
  }
  next["apiVersion"] = info.ApiVersion();
  next["kind"] = info.kind;
  next["metadata"]["resourceVersion"] = have_rv;
  if (info.plural == "namespaces") {
    SetNamespaceNameLabel(next);
  }
  if (next == *current) {
    return current;  // no-op: keep RV, no event
  }
  return std::make_shared<const json>(std::move(next));
}

json SuccessStatus(int code) {
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Success"},
          {"code", code}};
}

}  // namespace

ApiResult ErrorResult(const Status& status, const std::string& name, const std::string& kind,
                      int code_override) {
  kube::HttpReason hr = kube::HttpReasonFor(status.code());
  int code = code_override != 0 ? code_override : hr.code;
  json details = json::object();
  if (!name.empty()) {
    details["name"] = name;
  }
  if (!kind.empty()) {
    details["kind"] = kind;
  }
  return {code,
          {{"kind", "Status"},
           {"apiVersion", "v1"},
           {"metadata", json::object()},
           {"status", "Failure"},
           {"message", status.message()},
           {"reason", code == 415 ? std::string("UnsupportedMediaType") : std::string(hr.reason)},
           {"details", details},
           {"code", code}}};
}

Result<std::pair<int64_t, std::string>> ParseContinueToken(const std::string& token) {
  auto decoded = kube::Base64Decode(token);
  if (!decoded.ok()) {
    return InvalidArgumentError("invalid continue token");
  }
  auto sep = decoded->find('\n');
  if (sep == std::string::npos || sep == 0) {
    return InvalidArgumentError("invalid continue token");
  }
  int64_t rv = 0;
  for (size_t i = 0; i < sep; ++i) {
    char c = (*decoded)[i];
    if (c < '0' || c > '9' || rv > (INT64_MAX - 9) / 10) {
      return InvalidArgumentError("invalid continue token");
    }
    rv = rv * 10 + (c - '0');
  }
  return std::make_pair(rv, decoded->substr(sep + 1));
}

std::string ObjectApi::Key(const ResourceInfo& info, const std::string& ns,
                           const std::string& name) {
  return info.namespaced ? ns + "/" + name : name;
}

void ObjectApi::EnsureDefaultNamespaces() {
  const ResourceInfo* ns_info = FindResource("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (store_.Get(ns_info->StoreName(), name) != nullptr) {
      continue;
    }
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    Create(*ns_info, "", ns.dump());
  }
}

ApiResult ObjectApi::Get(const ResourceInfo& info, const std::string& ns,
                         const std::string& name) const {
  ObjectPtr obj = store_.Get(info.StoreName(), Key(info, ns, name));
  if (!obj) {
    return ErrorResult(NotFoundError(info.plural + " \"" + name + "\" not found"), name,
                       info.plural);
  }
  return {200, *obj};
}

ObjectApi::ListPageResult ObjectApi::ListObjects(const ResourceInfo& info, const std::string& ns,
                                                 const ListQuery& q) const {
  ListPageResult out;
  auto labels = kube::LabelSelector::Parse(q.label_selector);
  if (!labels.ok()) {
    out.error = ErrorResult(labels.status());
    return out;
  }
  auto fields = kube::FieldSelector::Parse(q.field_selector);
  if (!fields.ok()) {
    out.error = ErrorResult(fields.status());
    return out;
  }
  int64_t snapshot_rv = 0;
  std::string after;
  if (!q.continue_token.empty()) {
    auto tok = ParseContinueToken(q.continue_token);
    if (!tok.ok()) {
      out.error = ErrorResult(tok.status());
      return out;
    }
    if (store_.IsGone(info.StoreName(), tok->first)) {
      out.error = ErrorResult(OutOfRangeError("The provided continue parameter is too old"));
      return out;
    }
    snapshot_rv = tok->first;
    after = tok->second;
  }
  std::string prefix = info.namespaced && !ns.empty() ? ns + "/" : "";
  const auto& ls = *labels;
  const auto& fs = *fields;
  auto page = store_.ListPage(info.StoreName(), prefix, after,
                              q.limit > 0 ? static_cast<size_t>(q.limit) : 0,
                              [&](const json& o) { return ls.Matches(o) && fs.Matches(o); });
  int64_t rv = snapshot_rv != 0 ? snapshot_rv : page.rv;
  out.items = std::move(page.items);
  out.resource_version = std::to_string(rv);
  if (page.more) {
    out.continue_token = ToBase64(std::to_string(rv) + "\n" + page.last_key);
  }
  return out;
}

ApiResult ObjectApi::List(const ResourceInfo& info, const std::string& ns,
                          const ListQuery& q) const {
  ListPageResult page = ListObjects(info, ns, q);
  if (page.error) {
    return *page.error;
  }
  json meta = {{"resourceVersion", page.resource_version}};
  if (!page.continue_token.empty()) {
    meta["continue"] = page.continue_token;
  }
  // The list is serialized by hand so large lists are not deep-copied into a json tree.
  json head = {{"kind", info.kind + "List"}, {"apiVersion", info.ApiVersion()}, {"metadata", meta}};
  std::string raw = head.dump();
  raw.pop_back();  // drop '}'
  raw += ",\"items\":[";
  for (size_t i = 0; i < page.items.size(); ++i) {
    if (i > 0) {
      raw += ',';
    }
    raw += page.items[i]->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  raw += "]}";
  ApiResult r;
  r.code = 200;
  r.body = std::move(raw);  // a string body is sent verbatim by the server
  return r;
}

ApiResult ObjectApi::Create(const ResourceInfo& info, const std::string& ns,
                            const std::string& body, bool dry_run) {
  auto parsed = ParseBody(body);
  if (!parsed.ok()) {
    return ErrorResult(parsed.status());
  }
  json obj = std::move(*parsed);
  if (!obj.is_object()) {
    return ErrorResult(InvalidArgumentError("object must be a JSON object"));
  }
  if (Status shape = CheckShape(obj); !shape.ok()) {
    return ErrorResult(shape);
  }
  if (obj.contains("kind") && obj["kind"] != info.kind) {
    return ErrorResult(InvalidArgumentError("kind does not match the resource " + info.plural));
  }
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) {
    obj["metadata"] = json::object();
  }
  if (info.namespaced) {
    std::string body_ns = MetaString(obj, "namespace");
    if (!body_ns.empty() && body_ns != ns) {
      return ErrorResult(InvalidArgumentError(
          "the namespace of the provided object does not match the namespace sent on the request"));
    }
    if (ns.empty()) {
      return ErrorResult(InvalidArgumentError("a namespace is required"));
    }
    ObjectPtr ns_obj = store_.Get("namespaces", ns);
    if (!ns_obj) {
      return ErrorResult(NotFoundError("namespaces \"" + ns + "\" not found"), ns, "namespaces");
    }
    if (!MetaString(*ns_obj, "deletionTimestamp").empty()) {
      return ErrorResult(PermissionDeniedError("unable to create new content in namespace " + ns +
                                               " because it is being terminated"),
                         ns, "namespaces");
    }
    obj["metadata"]["namespace"] = ns;
  } else {
    obj["metadata"].erase("namespace");
  }
  if (info.plural == "pods") {
    ApplyPodDefaults(obj);
    obj["status"] = {{"phase", "Pending"}};
  } else if (info.plural == "namespaces") {
    obj["status"] = {{"phase", "Active"}};
    SetNamespaceNameLabel(obj);
  }
  obj["apiVersion"] = info.ApiVersion();
  obj["kind"] = info.kind;
  if (admission_ != nullptr) {
    // Mutating admission sees the defaulted object before the server fills in the name from
    // generateName, the uid and the timestamps (as kube-apiserver's create handler).
    AdmissionAttributes attrs;
    attrs.info = &info;
    attrs.namespace_name = info.namespaced ? ns : "";
    attrs.name = MetaString(obj, "name");
    attrs.operation = "CREATE";
    attrs.object = std::move(obj);
    attrs.dry_run = dry_run;
    AdmissionOutcome admitted = admission_->Admit(std::move(attrs));
    if (admitted.rejection) {
      return *admitted.rejection;
    }
    obj = std::move(admitted.object);
    if (!obj.is_object()) {
      return ErrorResult(InternalError("admission returned a non-object"));
    }
    if (Status shape = CheckShape(obj); !shape.ok()) {
      return ErrorResult(shape);
    }
    if (!obj.contains("metadata") || !obj["metadata"].is_object()) {
      obj["metadata"] = json::object();
    }
    if (info.namespaced) {
      obj["metadata"]["namespace"] = ns;
    }
    obj["apiVersion"] = info.ApiVersion();
    obj["kind"] = info.kind;
  }
  json& meta = obj["metadata"];
  std::string name = MetaString(obj, "name");
  if (name.empty()) {
    std::string gen = MetaString(obj, "generateName");
    if (!gen.empty()) {
      static constexpr char kChars[] = "bcdfghjklmnpqrstvwxz2456789";
      name = gen + RandomChars(5, kChars, sizeof(kChars) - 1);
    }
  }
  if (name.empty()) {
    return ErrorResult(Invalid("name or generateName is required"));
  }
  if (!ValidName(name)) {
    return ErrorResult(Invalid(info.kind + " \"" + name + "\" is invalid: metadata.name"), name,
                       info.plural);
  }
  meta["name"] = name;
  if (info.plural == "namespaces") {
    SetNamespaceNameLabel(obj);
  }
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = NowText();
  meta["generation"] = 1;
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  if (dry_run) {
    if (store_.Get(info.StoreName(), Key(info, ns, name))) {
      return ErrorResult(AlreadyExistsError(info.plural + " \"" + name + "\" already exists"), name,
                         info.plural);
    }
    return {201, std::move(obj)};
  }
  auto frozen = std::make_shared<const json>(std::move(obj));
  auto stored = store_.Write(
      info.StoreName(), Key(info, ns, name), [&](const ObjectPtr& current) -> Result<ObjectPtr> {
        if (current) {
          return AlreadyExistsError(info.plural + " \"" + name + "\" already exists");
        }
        return frozen;
      });
  if (!stored.ok()) {
    return ErrorResult(stored.status(), name, info.plural);
  }
  return {201, **stored};
}

ApiResult ObjectApi::Update(const ResourceInfo& info, const std::string& ns,
                            const std::string& name, const std::string& subresource,
                            const std::string& body, bool dry_run) {
  auto parsed = ParseBody(body);
  if (!parsed.ok()) {
    return ErrorResult(parsed.status());
  }
  if (!parsed->is_object()) {
    return ErrorResult(InvalidArgumentError("object must be a JSON object"));
  }
  std::string body_name = MetaString(*parsed, "name");
  if (body_name != name) {
    return ErrorResult(InvalidArgumentError("the name of the object (" + body_name +
                                            ") does not match the name on the URL (" + name + ")"));
  }
  return CommitUpdate(
      info, ns, name, subresource,
      [&](const ObjectPtr& current) -> Result<ObjectPtr> {
        if (!current) {
          return NotFoundError(info.plural + " \"" + name + "\" not found");
        }
        return PrepareUpdate(info, current, *parsed, subresource);
      },
      dry_run);
}

ApiResult ObjectApi::CommitUpdate(const ResourceInfo& info, const std::string& ns,
                                  const std::string& name, const std::string& subresource,
                                  const ObjectStore::Mutator& mutate, bool dry_run) {
  const std::string key = Key(info, ns, name);
  const bool admit =
      admission_ != nullptr && subresource.empty() && admission_->Interested(info, "UPDATE");
  if (!admit) {
    if (dry_run) {
      auto next = mutate(store_.Get(info.StoreName(), key));
      if (!next.ok()) {
        return ErrorResult(next.status(), name, info.plural);
      }
      return {200, **next};
    }
    auto stored = store_.Write(info.StoreName(), key, mutate);
    if (!stored.ok()) {
      return ErrorResult(stored.status(), name, info.plural);
    }
    return {200, **stored};
  }
  // Webhooks must not run under the store lock (they may call back into this server): read,
  // compute, admit, then write only if the object is still the one that was read.
  constexpr int kMaxAttempts = 5;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ObjectPtr current = store_.Get(info.StoreName(), key);
    auto next = mutate(current);
    if (!next.ok()) {
      return ErrorResult(next.status(), name, info.plural);
    }
    if (*next == current) {
      return {200, *current};  // no change: nothing to admit
    }
    AdmissionAttributes attrs;
    attrs.info = &info;
    attrs.namespace_name = info.namespaced ? ns : "";
    attrs.name = name;
    attrs.operation = "UPDATE";
    attrs.object = **next;
    attrs.old_object = *current;
    attrs.dry_run = dry_run;
    AdmissionOutcome admitted = admission_->Admit(std::move(attrs));
    if (admitted.rejection) {
      return *admitted.rejection;
    }
    if (dry_run) {
      auto checked = PrepareUpdate(info, current, std::move(admitted.object), subresource);
      if (!checked.ok()) {
        return ErrorResult(checked.status(), name, info.plural);
      }
      return {200, **checked};
    }
    const std::string read_rv = MetaString(*current, "resourceVersion");
    bool raced = false;
    auto stored =
        store_.Write(info.StoreName(), key, [&](const ObjectPtr& now) -> Result<ObjectPtr> {
          if (!now || MetaString(*now, "resourceVersion") != read_rv) {
            raced = true;
            return AbortedError("the object changed during admission");
          }
          return PrepareUpdate(info, now, admitted.object, subresource);
        });
    if (stored.ok()) {
      return {200, **stored};
    }
    if (!raced) {
      return ErrorResult(stored.status(), name, info.plural);
    }
  }
  return ErrorResult(AbortedError("the object has been modified; please apply your changes to "
                                  "the latest version and try again"),
                     name, info.plural);
}

ApiResult ObjectApi::Patch(const ResourceInfo& info, const std::string& ns, const std::string& name,
                           const std::string& subresource, const std::string& content_type,
                           const std::string& body, bool dry_run) {
  std::string ct = content_type.substr(0, content_type.find(';'));
  enum class Kind { kMerge, kStrategic, kJson } kind;
  if (ct == "application/merge-patch+json") {
    kind = Kind::kMerge;
  } else if (ct == "application/strategic-merge-patch+json") {
    kind = Kind::kStrategic;
  } else if (ct == "application/json-patch+json") {
    kind = Kind::kJson;
  } else {
    return ErrorResult(
        UnimplementedError("the body of the request was in an unknown format: " + ct), name,
        info.plural, 415);
  }
  auto parsed = ParseBody(body);
  if (!parsed.ok()) {
    return ErrorResult(parsed.status());
  }
  return CommitUpdate(
      info, ns, name, subresource,
      [&](const ObjectPtr& current) -> Result<ObjectPtr> {
        if (!current) {
          return NotFoundError(info.plural + " \"" + name + "\" not found");
        }
        Result<json> patched = InvalidArgumentError("unreachable");
        switch (kind) {
          case Kind::kMerge:
            patched = ApplyMergePatch(*current, *parsed);
            break;
          case Kind::kStrategic:
            patched = ApplyStrategicMergePatch(*current, *parsed);
            break;
          case Kind::kJson:
            patched = ApplyJsonPatch(*current, *parsed);
            break;
        }
        if (!patched.ok()) {
          return patched.status();
        }
        if (!patched->is_object()) {
          return Invalid("patch result is not an object");
        }
        // A resourceVersion in the patch is a precondition (it survives the patch unchanged
        // only when it equals the current one).
        return PrepareUpdate(info, current, std::move(*patched), subresource);
      },
      dry_run);
}

ApiResult ObjectApi::Delete(const ResourceInfo& info, const std::string& ns,
                            const std::string& name, const std::string& body,
                            std::optional<int64_t> grace_query, bool dry_run) {
  std::optional<int64_t> grace = grace_query;
  std::string want_uid;
  std::string want_rv;
  if (!body.empty()) {
    auto parsed = ParseBody(body);
    if (!parsed.ok()) {
      return ErrorResult(parsed.status());
    }
    const json& opts = *parsed;
    if (opts.is_object()) {
      if (opts.contains("gracePeriodSeconds") && opts["gracePeriodSeconds"].is_number_integer()) {
        grace = opts["gracePeriodSeconds"].get<int64_t>();
      }
      if (opts.contains("preconditions") && opts["preconditions"].is_object()) {
        want_uid = kube::StringField(opts["preconditions"], "uid");
        want_rv = kube::StringField(opts["preconditions"], "resourceVersion");
      }
    }
  }
  auto precondition = [&](const json& obj) -> Status {
    if (!want_uid.empty() && MetaString(obj, "uid") != want_uid) {
      return AbortedError("Precondition failed: UID in precondition: " + want_uid);
    }
    if (!want_rv.empty() && MetaString(obj, "resourceVersion") != want_rv) {
      return AbortedError("Precondition failed: ResourceVersion in precondition: " + want_rv);
    }
    return OkStatus();
  };
  if (info.plural == "namespaces" && IsImmortalNamespace(name)) {
    // kube-apiserver's NamespaceLifecycle admission plugin.
    return ErrorResult(PermissionDeniedError("namespaces \"" + name +
                                             "\" is forbidden: this namespace may not be deleted"),
                       name, "namespaces");
  }
  std::string key = Key(info, ns, name);
  if (info.plural == "namespaces" && !dry_run) {
    return DeleteNamespace(name, precondition);
  }
  if (dry_run) {
    ObjectPtr current = store_.Get(info.StoreName(), key);
    if (!current) {
      return ErrorResult(NotFoundError(info.plural + " \"" + name + "\" not found"), name,
                         info.plural);
    }
    if (Status pre = precondition(*current); !pre.ok()) {
      return ErrorResult(pre, name, info.plural);
    }
    return {200, *current};
  }
  if (info.plural == "pods") {
    ObjectPtr current = store_.Get(info.StoreName(), key);
    if (!current) {
      return ErrorResult(NotFoundError("pods \"" + name + "\" not found"), name, "pods");
    }
    int64_t g = grace.value_or(kube::IntField(
        kube::Field(*current, "spec"), "terminationGracePeriodSeconds", kDefaultPodGraceSeconds));
    bool bound = !kube::StringField(kube::Field(*current, "spec"), "nodeName").empty();
    if (g > 0 && bound) {
      // Graceful: mark for deletion; the reaper (our stand-in for the kubelet) removes it.
      auto stored =
          store_.Write(info.StoreName(), key, [&](const ObjectPtr& cur) -> Result<ObjectPtr> {
            if (!cur) {
              return NotFoundError("pods \"" + name + "\" not found");
            }
            NPUSHARE_RETURN_IF_ERROR(precondition(*cur));
            const json& m = kube::Field(*cur, "metadata");
            if (m.contains("deletionGracePeriodSeconds") &&
                m["deletionGracePeriodSeconds"].is_number_integer() &&
                m["deletionGracePeriodSeconds"].get<int64_t>() <= g) {
              return cur;  // already terminating at least as fast
            }
            auto next = std::make_shared<json>(*cur);
            (*next)["metadata"]["deletionTimestamp"] = kube::FormatRfc3339(
                std::chrono::system_clock::now() + std::chrono::seconds(g), false);
            (*next)["metadata"]["deletionGracePeriodSeconds"] = g;
            return ObjectPtr(next);
          });
      if (!stored.ok()) {
        return ErrorResult(stored.status(), name, "pods");
      }
      return {200, **stored};
    }
  }
  auto removed = store_.Remove(info.StoreName(), key, precondition);
  if (!removed.ok()) {
    Status st = removed.status();
    if (st.code() == StatusCode::kNotFound) {
      st = NotFoundError(info.plural + " \"" + name + "\" not found");
    }
    return ErrorResult(st, name, info.plural);
  }
  return {200, **removed};
}

bool ObjectApi::IsImmortalNamespace(const std::string& name) {
  return name == "default" || name == "kube-system" || name == "kube-public";
}

ApiResult ObjectApi::DeleteNamespace(const std::string& name,
                                     const std::function<Status(const json&)>& precondition) {
  auto marked = store_.Write("namespaces", name, [&](const ObjectPtr& cur) -> Result<ObjectPtr> {
    if (!cur) {
      return NotFoundError("namespaces \"" + name + "\" not found");
    }
    NPUSHARE_RETURN_IF_ERROR(precondition(*cur));
    if (!MetaString(*cur, "deletionTimestamp").empty()) {
      return cur;  // already terminating
    }
    auto next = std::make_shared<json>(*cur);
    (*next)["metadata"]["deletionTimestamp"] = NowText();
    (*next)["metadata"]["deletionGracePeriodSeconds"] = 0;
    (*next)["status"] = {{"phase", "Terminating"}};
    return ObjectPtr(next);
  });
  if (!marked.ok()) {
    return ErrorResult(marked.status(), name, "namespaces");
  }
  FinishNamespaceDeletion(name);
  return {200, **marked};
}

bool ObjectApi::FinishNamespaceDeletion(const std::string& name) {
  // The namespace controller's job: delete everything in it (pods gracefully, so their kubelet
  // stops them), then the namespace once nothing is left.
  size_t remaining = 0;
  for (const ResourceInfo& r : AllResources()) {
    if (!r.namespaced) {
      continue;
    }
    auto page = store_.ListPage(r.StoreName(), name + "/", "", 0, nullptr);
    for (const auto& obj : page.items) {
      std::string obj_name = MetaString(*obj, "name");
      if (r.plural == "pods") {
        ++remaining;
        if (MetaString(*obj, "deletionTimestamp").empty()) {
          Delete(r, name, obj_name, "", std::nullopt);  // a 404 (raced) is fine
        }
        if (!store_.Get(r.StoreName(), Key(r, name, obj_name))) {
          --remaining;  // removed at once (not bound to a node)
        }
        continue;
      }
      store_.Remove(r.StoreName(), Key(r, name, obj_name), nullptr).status().IgnoreError();
    }
  }
  if (remaining > 0) {
    return false;
  }
  return store_
      .Remove("namespaces", name,
              [](const json& ns) {
                return MetaString(ns, "deletionTimestamp").empty()
                           ? AbortedError("namespace no longer terminating")
                           : OkStatus();
              })
      .ok();
}

void ObjectApi::FinishNamespaceDeletions() {
  auto page = store_.ListPage("namespaces", "", "", 0, [](const json& o) {
    return !MetaString(o, "deletionTimestamp").empty();
  });
  for (const auto& ns : page.items) {
    FinishNamespaceDeletion(MetaString(*ns, "name"));
  }
}

ApiResult ObjectApi::Bind(const std::string& ns, const std::string& name, const std::string& body) {
  auto parsed = ParseBody(body);
  if (!parsed.ok()) {
    return ErrorResult(parsed.status());
  }
  const json& b = *parsed;
  if (!b.is_object() || !b.contains("target") || !b["target"].is_object() ||
      !b["target"].contains("name") || !b["target"]["name"].is_string() ||
      b["target"]["name"].get_ref<const std::string&>().empty()) {
    return ErrorResult(Invalid("binding target.name is required"), name, "pods");
  }
  std::string node = b["target"]["name"].get<std::string>();
  std::string want_uid = MetaString(b, "uid");
  json annotations = json::object();
  if (b.contains("metadata") && b["metadata"].is_object() &&
      b["metadata"].contains("annotations")) {
    annotations = b["metadata"]["annotations"];
    if (!annotations.is_object()) {
      return ErrorResult(Invalid("annotations must be a map"));
    }
    for (const auto& [k, v] : annotations.items()) {
      if (!v.is_string()) {
        return ErrorResult(Invalid("annotation values must be strings"));
      }
    }
  }
  auto stored =
      store_.Write("pods", ns + "/" + name, [&](const ObjectPtr& cur) -> Result<ObjectPtr> {
        if (!cur) {
          return NotFoundError("pods \"" + name + "\" not found");
        }
        if (!want_uid.empty() && MetaString(*cur, "uid") != want_uid) {
          return AbortedError("Precondition failed: UID in precondition: " + want_uid);
        }
        std::string assigned = kube::StringField(kube::Field(*cur, "spec"), "nodeName");
        if (!assigned.empty()) {
          return AbortedError("pod " + name + " is already assigned to node \"" + assigned + "\"");
        }
        if (!MetaString(*cur, "deletionTimestamp").empty()) {
          return AbortedError("pod " + name + " is being deleted, cannot be assigned to a host");
        }
        auto next = std::make_shared<json>(*cur);
        (*next)["spec"]["nodeName"] = node;
        json& meta = (*next)["metadata"];
        if (!annotations.empty()) {
          if (!meta.contains("annotations") || !meta["annotations"].is_object()) {
            meta["annotations"] = json::object();
          }
          for (const auto& [k, v] : annotations.items()) {
            meta["annotations"][k] = v;
          }
        }
        json& status = (*next)["status"];
        if (!status.is_object()) {
          status = json::object();
        }
        json conds = status.contains("conditions") && status["conditions"].is_array()
                         ? status["conditions"]
                         : json::array();
        json kept = json::array();
        for (auto& c : conds) {
          if (!(kube::StringField(c, "type") == "PodScheduled")) {
            kept.push_back(c);
          }
        }
        kept.push_back({{"type", "PodScheduled"},
                        {"status", "True"},
                        {"lastProbeTime", nullptr},
                        {"lastTransitionTime", NowText()}});
        status["conditions"] = std::move(kept);
        return ObjectPtr(next);
      });
  if (!stored.ok()) {
    return ErrorResult(stored.status(), name, "pods");
  }
  return {201, SuccessStatus(201)};
}

std::optional<std::chrono::system_clock::time_point> ObjectApi::ReapExpiredPods(
    std::chrono::system_clock::time_point now) {
  auto page = store_.ListPage(
      "pods", "", "", 0, [](const json& o) { return !MetaString(o, "deletionTimestamp").empty(); });
  std::optional<std::chrono::system_clock::time_point> earliest;
  for (const auto& pod : page.items) {
    auto when = kube::ParseRfc3339(MetaString(*pod, "deletionTimestamp"));
    if (!when.ok()) {
      continue;
    }
    if (*when <= now) {
      std::string uid = MetaString(*pod, "uid");
      store_
          .Remove("pods", kube::ObjectKey(*pod),
                  [&](const json& cur) {
                    return MetaString(cur, "uid") == uid ? OkStatus() : AbortedError("replaced");
                  })
          .status()
          .IgnoreError();  // deleted meanwhile by someone else: nothing to reap
    } else if (!earliest || *when < *earliest) {
      earliest = *when;
    }
  }
  return earliest;
}

}  // namespace npushare::kube_local
