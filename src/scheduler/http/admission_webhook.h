// File: scheduler/http/admission_webhook.h
//
// AdmissionWebhook: the mutating admission webhook of npushare-scheduler (HAMi's
// pkg/scheduler/webhook.go Handle, hami-protocol.md §4.1), over AdmissionReview
// admission.k8s.io/v1 and v1beta1 (k8s-apis.md §3). The answer carries the request's
// apiVersion/kind and uid.
//
// Decision, in order (status codes and texts as upstream's controller-runtime answers):
//   0. not a CREATE of a Pod (operation/kind), or no object  -> allowed, unchanged
//   1. no containers                                         -> denied 403 "pod has no containers"
//   2. spec.schedulerName set, not ours, and not (default-scheduler with
//      force_overwrite_default_scheduler)                     -> allowed, unchanged
//   3. scheduling::MutatePod over every (init) container      -> error: errored 500 <message>
//   4. an NPU request and a privileged container              -> denied 403 "container <c> is
//   privileged"
//   5. an NPU request: spec.schedulerName = scheduler_name;
//      spec.nodeName already set                              -> denied 403 "pod has node assigned"
//   6. (upstream's ResourceQuota check is not done here)
//   7. allowed; when the pod changed, `patchType: JSONPatch` + base64 RFC 6902 patch computed as
//      the diff of the original object and the mutated one (so a pod without NPU requests is
//      unchanged unless a chip's overwriteEnv appends ASCEND_VISIBLE_DEVICES="").
// Denials put the text in status.message and status.reason (the API server shows message,
// HAMi's vectors read reason); errors put it in status.message.
//
// Usage:
//   AdmissionWebhook webhook(options, [&] { return service.CurrentDeviceConfig(); });
//   auto verdict = webhook.Review(parsed_body);   // kInvalidArgument -> HTTP 400
//   if (verdict.ok()) reply(200, verdict->review.dump());
//
// Thread safety: Review is const and safe for concurrent use if the config source is.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "config/device_config.h"

namespace npushare::scheduler::http {

struct AdmissionWebhookOptions {
  // scheduler_name: --scheduler-name; written into spec.schedulerName of NPU pods. Empty: the
  // webhook never sets it (and step 2 lets any pod with a scheduler name through).
  std::string scheduler_name = "hami-scheduler";
  // force_overwrite_default_scheduler: --force-overwrite-default-scheduler (upstream default
  // true): a pod whose schedulerName is "default-scheduler" (the API server's default) is
  // still taken over.
  bool force_overwrite_default_scheduler = true;
};

// DeviceConfigSource: the device config in force (re-read on every review so a reload applies
// at once). nullptr means "not loaded": reviews of pods are answered errored 500.
using DeviceConfigSource = std::function<std::shared_ptr<const config::DeviceConfig>()>;

// AdmissionDecision: what happened, for metrics and logs.
enum class AdmissionDecision { kAllowed, kMutated, kDenied, kErrored };
const char* AdmissionDecisionName(AdmissionDecision d);

struct AdmissionVerdict {
  nlohmann::json review;  // the AdmissionReview to send back (HTTP 200)
  AdmissionDecision decision = AdmissionDecision::kAllowed;
  std::string message;  // denial/error text; empty when allowed
};

class AdmissionWebhook {
 public:
  AdmissionWebhook(AdmissionWebhookOptions options, DeviceConfigSource config);

  // Review: the verdict for one AdmissionReview body. kInvalidArgument (with a message saying
  // which field) when the body is not an AdmissionReview this webhook can answer: not a map,
  // apiVersion not admission.k8s.io/v1 or v1beta1, kind not AdmissionReview, unknown top-level
  // fields, request missing or without a uid. A request whose Pod object is malformed is
  // answered (errored, code 400) rather than refused, so the API server reports it.
  Result<AdmissionVerdict> Review(const nlohmann::json& review) const;

 private:
  const AdmissionWebhookOptions options_;
  const DeviceConfigSource config_;
};

// Base64Encode: standard alphabet with padding (the AdmissionResponse `patch` bytes).
std::string Base64Encode(std::string_view in);

}  // namespace npushare::scheduler::http
