// File: sim/kube/admission_webhooks.h
//
// MutatingWebhookAdmission: kube-local's MutatingAdmissionWebhook plugin. It reads the
// MutatingWebhookConfiguration objects in the store at every admission (so a configuration
// applied a moment ago takes effect at once) and calls the matching webhooks the way
// kube-apiserver does (k8s-apis.md §3):
//   - configurations in name order, webhooks in listed order, each seeing the previous one's
//     mutations;
//   - a webhook is called when one of its `rules` matches (operations, apiGroups, apiVersions,
//     resources incl. "*" and "*/*", scope), its `namespaceSelector` matches the namespace's
//     labels (ignored for cluster-scoped objects; a Namespace is matched by its own labels)
//     and its `objectSelector` matches the new or the old object's labels;
//   - clientConfig `url` (https only) or `service` ({namespace, name, path, port=443}) called as
//     https://<name>.<namespace>.svc:<port><path> with SNI and certificate checks for that name;
//     the address actually dialled comes from `service_endpoints` (kube-local has no cluster
//     network). `caBundle` (base64 PEM) is the only trust root when present, else the system
//     store. `?timeout=<N>s` is appended; `timeoutSeconds` (default 10, clamped to 1..30)
//     bounds the whole call;
//   - the AdmissionReview is sent in the first of `admissionReviewVersions` that is v1 or
//     v1beta1; a v1 answer must echo apiVersion, kind and uid, and carry patch and patchType
//     together (v1beta1 is lenient, as upstream);
//   - a JSONPatch answer is applied (RFC 6902); a patch that does not apply is a 500 whatever
//     the failurePolicy (as upstream);
//   - a denial is answered with the webhook's `status`: its code (raised to 400 when lower or
//     absent) and the message "admission webhook \"<name>\" denied the request: <status.message,
//     else status.reason>" (upstream's ToStatusErr);
//   - a failed call (no endpoint, connection or TLS error, timeout, non-2xx, malformed answer,
//     bad selector) is skipped under `failurePolicy: Ignore` and answered 500 "failed calling
//     webhook" under `Fail` (the default).
// Not implemented: `reinvocationPolicy: IfNeeded` (each webhook is called once), `matchPolicy`
// (rules match the served version exactly; kube-local serves one version per group),
// `matchConditions` (CEL; a webhook that has any is treated as failing to match, with a
// log line), validating webhooks (stored, never called), subresources (only main resources
// are admitted), warnings (not passed on to the client).
//
// Usage:
//   MutatingWebhookOptions opts;
//   opts.service_endpoints["kube-system/npushare-scheduler"] = "127.0.0.1:8443";
//   MutatingWebhookAdmission admission(store, std::move(opts));
//   object_api.SetAdmission(&admission);
//
// Thread safety: safe for concurrent use.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "sim/kube/admission.h"
#include "sim/kube/http_client.h"
#include "sim/kube/object_store.h"

namespace npushare::kube_local {

struct MutatingWebhookOptions {
  // service_endpoints: where a webhook `service` reference is dialled. Key "<ns>/<name>:<port>"
  // or "<ns>/<name>" (any port); value "<host>:<port>". A service without an entry fails the
  // call (failurePolicy decides). Default empty.
  std::map<std::string, std::string> service_endpoints;
  // http: the client used for the calls. Default: libcurl (NewCurlOutboundHttp()).
  std::shared_ptr<OutboundHttp> http;
  // username: userInfo.username in the AdmissionReview. Default "kube-local:admin".
  std::string username = "kube-local:admin";
};

// ParseServiceEndpoint: "ns/name[:port]=host:port" -> {key, value} of service_endpoints;
// kInvalidArgument when malformed.
Result<std::pair<std::string, std::string>> ParseServiceEndpoint(const std::string& flag);

class MutatingWebhookAdmission final : public AdmissionController {
 public:
  // MutatingWebhookAdmission: REQUIRES: store outlives this.
  MutatingWebhookAdmission(const ObjectStore& store, MutatingWebhookOptions options);

  bool Interested(const ResourceInfo& info, std::string_view operation) const override;
  AdmissionOutcome Admit(AdmissionAttributes attributes) override;

 private:
  const ObjectStore& store_;
  const MutatingWebhookOptions options_;
};

}  // namespace npushare::kube_local
