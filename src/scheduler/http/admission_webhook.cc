#include "scheduler/http/admission_webhook.h"

#include <set>
#include <string>

#include "scheduler/http/pod_json.h"
#include "scheduling/admission.h"

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;

constexpr char kV1[] = "admission.k8s.io/v1";
constexpr char kV1beta1[] = "admission.k8s.io/v1beta1";
constexpr char kDefaultScheduler[] = "default-scheduler";

struct ReviewEnvelope {
  std::string api_version;
  std::string uid;
};

json Response(const ReviewEnvelope& env, json response) {
  response["uid"] = env.uid;
  return json{{"apiVersion", env.api_version},
              {"kind", "AdmissionReview"},
              {"response", std::move(response)}};
}

AdmissionVerdict Allowed(const ReviewEnvelope& env, const std::string& message = "") {
  AdmissionVerdict v;
  json r = {{"allowed", true}};
  if (!message.empty()) {
    r["status"] = {{"code", 200}, {"message", message}};
  }
  v.review = Response(env, std::move(r));
  v.decision = AdmissionDecision::kAllowed;
  return v;
}

AdmissionVerdict Denied(const ReviewEnvelope& env, const std::string& message) {
  AdmissionVerdict v;
  v.review = Response(
      env,
      {{"allowed", false}, {"status", {{"code", 403}, {"reason", message}, {"message", message}}}});
  v.decision = AdmissionDecision::kDenied;
  v.message = message;
  return v;
}

AdmissionVerdict Errored(const ReviewEnvelope& env, int code, const std::string& message) {
  AdmissionVerdict v;
  v.review =
      Response(env, {{"allowed", false}, {"status", {{"code", code}, {"message", message}}}});
  v.decision = AdmissionDecision::kErrored;
  v.message = message;
  return v;
}

const std::string* StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

// FirstPrivileged: name of the first privileged container (init containers first), or "".
const scheduling::ContainerSpec* FirstPrivileged(const scheduling::PodSpec& pod) {
  for (const auto* list : {&pod.init_containers, &pod.containers}) {
    for (const auto& c : *list) {
      if (c.privileged) {
        return &c;
      }
    }
  }
  return nullptr;
}

}  // namespace

const char* AdmissionDecisionName(AdmissionDecision d) {
  switch (d) {
    case AdmissionDecision::kAllowed:
      return "allowed";
    case AdmissionDecision::kMutated:
      return "mutated";
    case AdmissionDecision::kDenied:
      return "denied";
    case AdmissionDecision::kErrored:
      return "errored";
    default:
      return "unknown";
  }
}

std::string Base64Encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t n = (static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16) |
                       (static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8) |
                       static_cast<uint32_t>(static_cast<unsigned char>(in[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (rest == 2) {
      n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    }
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

AdmissionWebhook::AdmissionWebhook(AdmissionWebhookOptions options, DeviceConfigSource config)
    : options_(std::move(options)), config_(std::move(config)) {}

Result<AdmissionVerdict> AdmissionWebhook::Review(const json& review) const {
  if (!review.is_object()) {
    return InvalidArgumentError("body must be an AdmissionReview object");
  }
  static const std::set<std::string> kTopLevel = {"apiVersion", "kind", "request", "response"};
  for (auto it = review.begin(); it != review.end(); ++it) {
    if (kTopLevel.count(it.key()) == 0) {
      return InvalidArgumentError("unknown field \"" + it.key() + "\" in AdmissionReview");
    }
  }
  ReviewEnvelope env;
  const std::string* api_version = StringField(review, "apiVersion");
  if (api_version == nullptr || (*api_version != kV1 && *api_version != kV1beta1)) {
    return InvalidArgumentError("apiVersion must be admission.k8s.io/v1 or v1beta1");
  }
  env.api_version = *api_version;
  const std::string* kind = StringField(review, "kind");
  if (kind == nullptr || *kind != "AdmissionReview") {
    return InvalidArgumentError("kind must be AdmissionReview");
  }
  auto req_it = review.find("request");
  if (req_it == review.end() || !req_it->is_object()) {
    return InvalidArgumentError("AdmissionReview without a request");
  }
  const json& request = *req_it;
  const std::string* uid = StringField(request, "uid");
  if (uid == nullptr || uid->empty()) {
    return InvalidArgumentError("request.uid is required");
  }
  env.uid = *uid;

  // 0. Only pod creation is ours; anything else the registration may route here passes.
  const std::string* operation = StringField(request, "operation");
  if (operation != nullptr && *operation != "CREATE") {
    return Allowed(env);
  }
  if (auto k = request.find("kind"); k != request.end() && k->is_object()) {
    const std::string* object_kind = StringField(*k, "kind");
    if (object_kind != nullptr && *object_kind != "Pod") {
      return Allowed(env);
    }
  }
  auto obj_it = request.find("object");
  if (obj_it == request.end() || obj_it->is_null()) {
    return Allowed(env);
  }
  const std::string* ns = StringField(request, "namespace");
  auto parsed = PodSpecFromPodJson(*obj_it, ns == nullptr ? std::string_view() : *ns);
  if (!parsed.ok()) {
    return Errored(env, 400, "cannot decode pod: " + parsed.status().message());
  }
  const scheduling::PodSpec before = std::move(*parsed);

  // 1.
  if (before.containers.empty()) {
    return Denied(env, "pod has no containers");
  }
  // 2. Another scheduler's pod is left alone.
  if (!before.scheduler_name.empty() &&
      (before.scheduler_name != kDefaultScheduler || !options_.force_overwrite_default_scheduler) &&
      (options_.scheduler_name.empty() || options_.scheduler_name != before.scheduler_name)) {
    return Allowed(env, "pod already has different scheduler assigned");
  }
  // 3.
  const std::shared_ptr<const config::DeviceConfig> config = config_ ? config_() : nullptr;
  if (config == nullptr) {
    return Errored(env, 500, "device config not loaded");
  }
  scheduling::PodSpec after = before;
  const scheduling::PodAdmission admission = scheduling::MutatePod(*config, after);
  if (!admission.error.ok()) {
    return Errored(env, 500, admission.error.message());
  }
  if (admission.found) {
    // 4.
    if (const auto* c = FirstPrivileged(after)) {
      return Denied(env, "container " + c->name + " is privileged");
    }
    // 5.
    if (!options_.scheduler_name.empty()) {
      after.scheduler_name = options_.scheduler_name;
      if (!after.node_name.empty()) {
        return Denied(env, "pod has node assigned");
      }
    }
  }
  // 7.
  json mutated = *obj_it;
  if (Status s = WritePodSpecInto(before, after, mutated); !s.ok()) {
    return Errored(env, 500, "cannot write the mutated pod: " + s.message());
  }
  const json patch = json::diff(*obj_it, mutated);
  if (patch.empty()) {
    return Allowed(env);
  }
  AdmissionVerdict v;
  v.review = Response(
      env, {{"allowed", true},
            {"patchType", "JSONPatch"},
            {"patch", Base64Encode(patch.dump(-1, ' ', false, json::error_handler_t::replace))}});
  v.decision = AdmissionDecision::kMutated;
  return v;
}

}  // namespace npushare::scheduler::http
