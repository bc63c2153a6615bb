// File: sim/kube/admission.h
//
// AdmissionController: the admission seam of the local API server. ObjectApi calls it for every
// CREATE of a main resource and for every UPDATE (PUT or PATCH) of a main resource when
// Interested() says so, after its own defaulting and before the object is stored, as
// kube-apiserver runs its mutating admission phase. The only implementation is
// MutatingWebhookAdmission (admission_webhooks.h); tests may supply their own.
//
// Thread safety: implementations must be safe for concurrent use (requests are handled on many
// threads). Admit() is called without any store lock held, so it may take its time and may
// read the store.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "sim/kube/api_result.h"
#include "sim/kube/resource_registry.h"

namespace npushare::kube_local {

// AdmissionAttributes: one admission request.
struct AdmissionAttributes {
  const ResourceInfo* info = nullptr;  // never null
  std::string namespace_name;          // "" for cluster-scoped resources
  std::string name;                    // "" for a CREATE with generateName
  std::string operation;               // "CREATE" or "UPDATE"
  nlohmann::json object;               // the object as it would be stored
  nlohmann::json old_object;           // the stored object for UPDATE, null for CREATE
  bool dry_run = false;
};

// AdmissionOutcome: the object to store (possibly mutated), or the answer to send instead.
struct AdmissionOutcome {
  nlohmann::json object;
  std::optional<ApiResult> rejection;
};

class AdmissionController {
 public:
  virtual ~AdmissionController() = default;
  // Interested: whether Admit() could do anything for `operation` on `info` (lets ObjectApi
  // skip the read-admit-write cycle for updates nobody watches).
  virtual bool Interested(const ResourceInfo& info, std::string_view operation) const = 0;
  // Admit: runs admission. On rejection, `rejection` holds the API answer (a Status body).
  virtual AdmissionOutcome Admit(AdmissionAttributes attributes) = 0;
};

}  // namespace npushare::kube_local
