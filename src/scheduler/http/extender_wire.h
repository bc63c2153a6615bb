// File: scheduler/http/extender_wire.h
//
// The scheduler extender v1 JSON as it crosses the HTTP boundary (k8s-apis.md §2.1). The Go
// types have no json tags, so kube-scheduler writes the Go field names ("Pod", "NodeNames",
// ...) and decodes case-insensitively. Here:
//   * request bodies are checked and canonicalised: keys matched case-insensitively to the Go
//     names, every key present (null when absent), unknown or duplicate keys refused, shapes
//     and sizes checked — so the ExtenderService always sees the exact Go names;
//   * results from the service are canonicalised the same way before they are sent, with
//     `"NodeNames": []` rather than null when nothing passed (null means "no node passes" to
//     kube-scheduler too, but [] says it explicitly), and `Error` always a string.
//
//   ExtenderArgs           {"Pod":{...},"Nodes":null|NodeList,"NodeNames":null|[...]}
//   ExtenderFilterResult   {"Nodes":..,"NodeNames":..,"FailedNodes":{},
//                           "FailedAndUnresolvableNodes":{},"Error":""}
//   ExtenderBindingArgs    {"PodName":"","PodNamespace":"","PodUID":"","Node":""}
//   ExtenderBindingResult  {"Error":""}
//
// ParseExtenderArgs reads an ExtenderArgs body straight from its text (a SAX pass): the Pod
// and Nodes become JSON, the NodeNames plain strings, so the 1,000s of names kube-scheduler
// sends are never built as a JSON tree. It accepts and refuses exactly what
// ParseBody + CanonicalExtenderArgs do (tested side by side).
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "scheduler/extender_service.h"

namespace npushare::scheduler::http {

// kMaxNodeNames: the most node names one filter request may carry.
inline constexpr size_t kMaxNodeNames = 100000;

// CanonicalExtenderArgs: kInvalidArgument naming the problem when `body` is not an
// ExtenderArgs (not a map, unknown/duplicate key, Pod missing or not a map, NodeNames not a
// list of non-empty strings or too long, Nodes neither null nor a map). Takes the body by
// value so a caller done with it can move it in (a Pod is large).
Result<nlohmann::json> CanonicalExtenderArgs(nlohmann::json body);

// ParseExtenderArgs: `text` as ExtenderArgs, split (extender_service.h ExtenderFilterArgs).
// kInvalidArgument "request body is not valid JSON: <parser's message>" for bad JSON, else
// the message CanonicalExtenderArgs gives for the same body (a body with several problems
// reports the first in the order CanonicalExtenderArgs checks them). Same key rules: Go's
// case-insensitive names; an exact duplicate key overrides the earlier one (as a JSON object
// parse does), the same name in another case is "duplicate field". Does not limit nesting:
// callers that need it check depth first (the HTTP layer does).
Result<ExtenderFilterArgs> ParseExtenderArgs(std::string_view text);

// CanonicalBindingArgs: kInvalidArgument unless PodName, PodNamespace and Node are non-empty
// strings, PodUID is a string or absent, and no other key is present.
Result<nlohmann::json> CanonicalBindingArgs(const nlohmann::json& body);

// FilterResultWire: a service result as the wire ExtenderFilterResult; a result that is not
// a map, or has fields of the wrong type, becomes an error result saying so.
// Takes the result by value so a caller done with it can move it in.
nlohmann::json FilterResultWire(nlohmann::json result);
// FilterErrorResult: {"Nodes":null,"NodeNames":null,"FailedNodes":null,
// "FailedAndUnresolvableNodes":null,"Error":message}.
nlohmann::json FilterErrorResult(const std::string& message);

// BindResultWire / BindErrorResult: the same for ExtenderBindingResult.
nlohmann::json BindResultWire(const nlohmann::json& result);
nlohmann::json BindErrorResult(const std::string& message);

}  // namespace npushare::scheduler::http
