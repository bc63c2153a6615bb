// File: sim/kube/patch.h
//
// The three PATCH flavours of the API server (k8s-apis.md §4.6), applied to JSON objects:
//   merge      RFC 7386: objects merge recursively, null deletes, arrays are replaced.
//   strategic  like merge, but lists with a patch merge key are merged element by element
//              (containers/initContainers/ephemeralContainers/env/volumes/imagePullSecrets by
//              `name`, volumeMounts by `mountPath`, ports by `containerPort`, conditions by
//              `type`), `finalizers` is a set union, and the directives `$patch: replace|delete`
//              and `$deleteFromPrimitiveList/<field>` are honoured; `$setElementOrder/*` and
//              `$retainKeys` are accepted and ignored. The merge keys are chosen by field name
//              regardless of the object kind (the real server uses per-type schemas).
//   json       RFC 6902 operations.
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace npushare::kube_local {

// ApplyMergePatch: kInvalidArgument when `patch` is not an object.
Result<nlohmann::json> ApplyMergePatch(const nlohmann::json& target, const nlohmann::json& patch);

// ApplyStrategicMergePatch: kInvalidArgument when `patch` is not an object or a directive is
// malformed.
Result<nlohmann::json> ApplyStrategicMergePatch(const nlohmann::json& target,
                                                const nlohmann::json& patch);

// ApplyJsonPatch: kInvalidArgument for a malformed op list; kFailedPrecondition when an op
// cannot be applied (missing path, failed `test`), which the server answers with 422.
Result<nlohmann::json> ApplyJsonPatch(const nlohmann::json& target, const nlohmann::json& patch);

}  // namespace npushare::kube_local
