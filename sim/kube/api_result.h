// File: sim/kube/api_result.h
//
// ApiResult: what the local API server answers for one request, independent of HTTP: the
// status code and a JSON body (an object, a List, or a `Status` on failure).
//
// Thread safety: a plain value.
#pragma once

#include <nlohmann/json.hpp>

namespace npushare::kube_local {

struct ApiResult {
  int code = 200;
  // body: the object, List or Status. A JSON *string* body holds pre-serialized JSON text
  // (used for large lists) and is sent verbatim.
  nlohmann::json body;
};

}  // namespace npushare::kube_local
