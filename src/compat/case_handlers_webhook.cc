// Handler for the webhook_decision vector category: builds the pod a case describes, sends it
// through npushare-scheduler's mutating admission webhook (scheduler/http/admission_webhook.h,
// the code the service runs) as an AdmissionReview v1, and compares the response.
//
// Case input (all optional):
//   containers              number of containers (default 1)
//   schedulerName, nodeName the pod's spec fields
//   ascend_request          the first container asks for one chip of the config's resource
//   privileged_container    that container's name, with securityContext.privileged
//   config_scheduler_name   the webhook's --scheduler-name (default hami-scheduler)
//   mutate_error            the MutateAdmission error to provoke: the pod gets the request
//                           known to produce it (see kProvokers)
//   config                  chip config fixture or object (default fixture "910B3_seed")
// Expected: allowed; status.{code, reason, message}; patchType; pod_after {"a.b": value} read
// from the request object with the response's JSON patch applied.
#include <string>

#include "compat/case_runner.h"
#include "kube/rest_config.h"
#include "scheduler/http/admission_webhook.h"

namespace npushare::compat {
namespace {

using nlohmann::json;

constexpr const char* kDefaultConfigFixture = "910B3_seed";

// The container limits that make scheduling::MutatePod fail with a given upstream message.
struct Provoker {
  std::string_view message;
  // count, memory: values of the chip's count and memory resources.
  std::string_view count;
  std::string_view memory;
};
constexpr Provoker kProvokers[] = {
    // Several devices with a partial-card hard slice (scheduling/admission.h step 5).
    {"vNPU not supported for multiple devices", "2", "16384"},
};

Result<json> BuildPod(const json& in, const config::ChipConfig& chip) {
  const int64_t containers = in.value("containers", int64_t{1});
  const std::string privileged = in.value("privileged_container", std::string());
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "vector-pod"}, {"namespace", "default"}}},
              {"spec", {{"containers", json::array()}}}};
  json& spec = pod["spec"];
  if (in.contains("schedulerName") && in["schedulerName"].is_string()) {
    spec["schedulerName"] = in["schedulerName"];
  }
  if (in.contains("nodeName") && in["nodeName"].is_string()) {
    spec["nodeName"] = in["nodeName"];
  }
  json limits = json::object();
  if (in.value("ascend_request", false)) {
    limits[chip.resource_name] = "1";
  }
  if (in.contains("mutate_error")) {
    const std::string want = in["mutate_error"].get<std::string>();
    const Provoker* found = nullptr;
    for (const Provoker& p : kProvokers) {
      if (p.message == want) {
        found = &p;
      }
    }
    if (found == nullptr) {
      return InvalidArgumentError("no known pod provokes mutate_error \"" + want + "\"");
    }
    limits[chip.resource_name] = std::string(found->count);
    limits[chip.resource_memory_name] = std::string(found->memory);
  }
  for (int64_t i = 0; i < containers; ++i) {
    std::string name = "c" + std::to_string(i + 1);
    if (i == 0 && !privileged.empty()) {
      name = privileged;
    }
    json c = {{"name", name}, {"image", "busybox"}};
    if (i == 0 && !limits.empty()) {
      c["resources"] = {{"limits", limits}};
    }
    if (name == privileged) {
      c["securityContext"] = {{"privileged", true}};
    }
    spec["containers"].push_back(std::move(c));
  }
  return pod;
}

json Review(const json& pod) {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "00000000-0000-0000-0000-000000000001"},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"namespace", "default"},
            {"operation", "CREATE"},
            {"object", pod}}}};
}

// PodAfter: `pod` with the response's patch applied; kInvalidArgument when it does not apply.
Result<json> PodAfter(const json& pod, const json& response) {
  if (!response.contains("patch")) {
    return pod;
  }
  NPUSHARE_ASSIGN_OR_RETURN(std::string raw,
                            kube::Base64Decode(response["patch"].get<std::string>()));
  try {
    return pod.patch(json::parse(raw));
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("patch does not apply: ") + e.what());
  }
}

CaseOutcome WebhookDecision(const json& c, const json& expected, const VectorContext& ctx) {
  const json& in = c["input"];
  auto chip = ctx.ResolveChipConfig(in.value("config", json(kDefaultConfigFixture)));
  if (!chip.ok()) {
    return CaseOutcome::Fail("a usable config", chip.status().ToString());
  }
  auto pod = BuildPod(in, *chip);
  if (!pod.ok()) {
    return CaseOutcome::Fail("a case this runner can build", pod.status().message());
  }
  scheduler::http::AdmissionWebhookOptions options;
  if (in.contains("config_scheduler_name")) {
    options.scheduler_name = in["config_scheduler_name"].get<std::string>();
  }
  auto device_config = std::make_shared<config::DeviceConfig>();
  device_config->chips.push_back(*chip);
  std::shared_ptr<const config::DeviceConfig> shared = device_config;
  scheduler::http::AdmissionWebhook webhook(options, [shared] { return shared; });
  auto verdict = webhook.Review(Review(*pod));
  if (!verdict.ok()) {
    return CaseOutcome::Fail(expected.dump(), "review refused: " + verdict.status().ToString());
  }
  const json& response = verdict->review["response"];

  // Compare only what the case states; the response carries more (uid, patch bytes).
  json got = json::object();
  for (auto it = expected.begin(); it != expected.end(); ++it) {
    const std::string& key = it.key();
    if (key == "status") {
      got["status"] = json::object();
      for (auto s = it->begin(); s != it->end(); ++s) {
        const json* status = response.contains("status") ? &response["status"] : nullptr;
        got["status"][s.key()] =
            status != nullptr && status->contains(s.key()) ? (*status)[s.key()] : json();
      }
    } else if (key == "pod_after") {
      auto after = PodAfter(*pod, response);
      if (!after.ok()) {
        return CaseOutcome::Fail(expected.dump(), after.status().message());
      }
      got["pod_after"] = json::object();
      for (auto f = it->begin(); f != it->end(); ++f) {
        std::string pointer = "/" + f.key();
        for (char& ch : pointer) {
          ch = ch == '.' ? '/' : ch;
        }
        const json::json_pointer ptr(pointer);
        got["pod_after"][f.key()] = after->contains(ptr) ? (*after)[ptr] : json();
      }
    } else {
      got[key] = response.contains(key) ? response[key] : json();
    }
  }
  return JsonEquals(expected, got) ? CaseOutcome::Pass()
                                   : CaseOutcome::Fail(expected.dump(), got.dump());
}

}  // namespace

void RegisterWebhookHandlers(HandlerTable& table) {
  table["webhook_decision"] = WebhookDecision;
}

}  // namespace npushare::compat
