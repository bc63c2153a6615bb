// File: scheduler/http/pod_json.h
//
// The webhook's bridge between a Pod as the API server sends it (JSON, already defaulted) and
// scheduling::PodSpec, the value the admission logic (scheduling/admission.h) mutates:
//
//   PodSpecFromPodJson(object, request_namespace)  JSON -> PodSpec (what admission reads)
//   WritePodSpecInto(before, after, object)        the fields admission may change, written
//                                                  back into the JSON only where they differ
//
// A JSON Patch is then the diff of the original and the rewritten JSON (admission_webhook.cc),
// so fields PodSpec does not model (probes, volumes, env valueFrom, ...) are never touched.
//
// Differences from the dry run's reader (cli/manifest_reader.h): a pod created with
// generateName has no metadata.name yet, so an empty name is accepted; the namespace falls back
// to the AdmissionRequest's; an env entry keeps its position even when it uses valueFrom (so
// appended entries are recognised by index).
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"
#include "scheduling/pod_spec.h"

namespace npushare::scheduler::http {

// PodSpecFromPodJson: kInvalidArgument naming the field when `object` is not a Pod-shaped
// object (not a map, containers not a list of maps, resources not string/number maps, ...).
Result<scheduling::PodSpec> PodSpecFromPodJson(const nlohmann::json& object,
                                               std::string_view request_namespace);

// WritePodSpecInto: writes into `object` the fields in which `after` differs from `before`:
// spec.schedulerName, spec.runtimeClassName, each (init) container's resources.limits and
// resources.requests entries, and env entries appended after the ones `before` had.
// REQUIRES: `before` was read from `object` by PodSpecFromPodJson and `after` is `before`
// mutated by admission (same containers, in the same order); otherwise kInternal.
Status WritePodSpecInto(const scheduling::PodSpec& before, const scheduling::PodSpec& after,
                        nlohmann::json& object);

}  // namespace npushare::scheduler::http
