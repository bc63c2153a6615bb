#include "scheduler/http/extender_wire.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string_view>

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Canonicalise: copies `body`'s keys onto their Go names (`names`), null for absent ones.
template <size_t N>
Result<json> Canonicalise(json body, const std::array<const char*, N>& names, const char* type) {
  if (!body.is_object()) {
    return InvalidArgumentError(std::string("body must be a JSON ") + type + " object");
  }
  json out = json::object();
  for (const char* n : names) {
    out[n] = nullptr;
  }
  std::array<bool, N> seen{};
  for (auto it = body.begin(); it != body.end(); ++it) {
    size_t i = 0;
    while (i < N && !EqualsIgnoreCase(it.key(), names[i])) {
      ++i;
    }
    if (i == N) {
      return InvalidArgumentError("unknown field \"" + it.key() + "\" in " + type);
    }
    if (seen[i]) {
      return InvalidArgumentError(std::string("duplicate field \"") + names[i] + "\" in " + type);
    }
    seen[i] = true;
    out[names[i]] = std::move(*it);  // a Pod can be large: moved, not copied
  }
  return out;
}

// StringMapOrNull: a {string: string} map (copied) or null; nullopt on another shape.
std::optional<json> StringMapOrNull(const json& v) {
  if (v.is_null()) {
    return json(nullptr);
  }
  if (!v.is_object()) {
    return std::nullopt;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_string()) {
      return std::nullopt;
    }
  }
  return v;
}

}  // namespace

Result<json> CanonicalExtenderArgs(json body) {
  static constexpr std::array<const char*, 3> kNames = {"Pod", "Nodes", "NodeNames"};
  NPUSHARE_ASSIGN_OR_RETURN(json args, Canonicalise(std::move(body), kNames, "ExtenderArgs"));
  if (args["Pod"].is_null()) {
    return InvalidArgumentError("extender args missing pod");
  }
  if (!args["Pod"].is_object()) {
    return InvalidArgumentError("ExtenderArgs.Pod must be a Pod object");
  }
  const json& nodes = args["Nodes"];
  if (!nodes.is_null() && !nodes.is_object()) {
    return InvalidArgumentError("ExtenderArgs.Nodes must be a NodeList object or null");
  }
  const json& names = args["NodeNames"];
  if (!names.is_null()) {
    if (!names.is_array()) {
      return InvalidArgumentError("ExtenderArgs.NodeNames must be a list of node names or null");
    }
    if (names.size() > kMaxNodeNames) {
      return InvalidArgumentError("ExtenderArgs.NodeNames has more than " +
                                  std::to_string(kMaxNodeNames) + " names");
    }
    for (const auto& n : names) {
      if (!n.is_string() || n.get_ref<const std::string&>().empty()) {
        return InvalidArgumentError("ExtenderArgs.NodeNames entries must be non-empty strings");
      }
    }
  }
  if (nodes.is_null() && names.is_null()) {
    return InvalidArgumentError("ExtenderArgs has neither NodeNames nor Nodes");
  }
  return args;
}

Result<json> CanonicalBindingArgs(const json& body) {
  static constexpr std::array<const char*, 4> kNames = {"PodName", "PodNamespace", "PodUID",
                                                        "Node"};
  NPUSHARE_ASSIGN_OR_RETURN(json args, Canonicalise(body, kNames, "ExtenderBindingArgs"));
  for (const char* required : {"PodName", "PodNamespace", "Node"}) {
    const json& v = args[required];
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
      return InvalidArgumentError(std::string("ExtenderBindingArgs.") + required +
                                  " must be a non-empty string");
    }
  }
  if (args["PodUID"].is_null()) {
    args["PodUID"] = "";
  } else if (!args["PodUID"].is_string()) {
    return InvalidArgumentError("ExtenderBindingArgs.PodUID must be a string");
  }
  return args;
}

json FilterErrorResult(const std::string& message) {
  return json{{"Nodes", nullptr},
              {"NodeNames", nullptr},
              {"FailedNodes", nullptr},
              {"FailedAndUnresolvableNodes", nullptr},
              {"Error", message}};
}

json FilterResultWire(const json& result) {
  static constexpr std::array<const char*, 5> kNames = {"Nodes", "NodeNames", "FailedNodes",
                                                        "FailedAndUnresolvableNodes", "Error"};
  auto canon = Canonicalise(result, kNames, "ExtenderFilterResult");
  if (!canon.ok()) {
    return FilterErrorResult("internal: scheduler produced a bad filter result: " +
                             canon.status().message());
  }
  json out = std::move(*canon);
  if (out["Error"].is_null()) {
    out["Error"] = "";
  } else if (!out["Error"].is_string()) {
    return FilterErrorResult("internal: filter result Error is not a string");
  }
  for (const char* m : {"FailedNodes", "FailedAndUnresolvableNodes"}) {
    auto map = StringMapOrNull(out[m]);
    if (!map) {
      return FilterErrorResult(std::string("internal: filter result ") + m +
                               " is not a map of strings");
    }
  }
  json& names = out["NodeNames"];
  if (!names.is_null()) {
    if (!names.is_array()) {
      return FilterErrorResult("internal: filter result NodeNames is not a list");
    }
    for (const auto& n : names) {
      if (!n.is_string()) {
        return FilterErrorResult("internal: filter result NodeNames has a non-string entry");
      }
    }
  } else if (out["Nodes"].is_null() && out["Error"].get_ref<const std::string&>().empty()) {
    names = json::array();  // nothing passed: say so explicitly
  }
  return out;
}

json BindErrorResult(const std::string& message) {
  return json{{"Error", message}};
}

json BindResultWire(const json& result) {
  static constexpr std::array<const char*, 1> kNames = {"Error"};
  auto canon = Canonicalise(result, kNames, "ExtenderBindingResult");
  if (!canon.ok()) {
    return BindErrorResult("internal: scheduler produced a bad bind result: " +
                           canon.status().message());
  }
  json out = std::move(*canon);
  if (out["Error"].is_null()) {
    out["Error"] = "";
  } else if (!out["Error"].is_string()) {
    return BindErrorResult("internal: bind result Error is not a string");
  }
  return out;
}

}  // namespace npushare::scheduler::http
