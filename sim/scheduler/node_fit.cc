#include "sim/scheduler/node_fit.h"

#include <algorithm>

#include "common/quantity.h"
#include "kube/objects.h"

namespace npushare::kube_scheduler_sim {
namespace {

using kube::Field;
using kube::StringField;
using nlohmann::json;

Result<ResourceList> ReadList(const json& list, const std::string& where) {
  ResourceList out;
  if (list.is_null()) {
    return out;
  }
  if (!list.is_object()) {
    return InvalidArgumentError(where + " must be a map");
  }
  for (const auto& [name, value] : list.items()) {
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_number_integer()) {
      text = std::to_string(value.get<int64_t>());
    } else {
      return InvalidArgumentError(where + "[" + name + "] is not a quantity");
    }
    auto q = Quantity::Parse(text);
    if (!q.ok()) {
      return InvalidArgumentError(where + "[" + name + "]: " + q.status().message());
    }
    out[name] = q->MilliValue();
  }
  return out;
}

Result<ResourceList> ContainerRequests(const json& c) {
  const json& resources = Field(c, "resources");
  NPUSHARE_ASSIGN_OR_RETURN(ResourceList requests,
                            ReadList(Field(resources, "requests"), "resources.requests"));
  NPUSHARE_ASSIGN_OR_RETURN(ResourceList limits,
                            ReadList(Field(resources, "limits"), "resources.limits"));
  for (const auto& [name, v] : limits) {
    requests.emplace(name, v);  // a limit stands in for a missing request
  }
  return requests;
}

bool Tolerates(const json& toleration, const json& taint) {
  std::string effect = StringField(toleration, "effect");
  if (!effect.empty() && effect != StringField(taint, "effect")) {
    return false;
  }
  std::string key = StringField(toleration, "key");
  std::string op = StringField(toleration, "operator", "Equal");
  if (key.empty()) {
    return op == "Exists";  // an empty key with Exists tolerates everything
  }
  if (key != StringField(taint, "key")) {
    return false;
  }
  if (op == "Exists") {
    return true;
  }
  return op == "Equal" && StringField(toleration, "value") == StringField(taint, "value");
}

bool ToleratesTaint(const json& pod, const json& taint) {
  const json& tolerations = Field(Field(pod, "spec"), "tolerations");
  if (!tolerations.is_array()) {
    return false;
  }
  return std::any_of(tolerations.begin(), tolerations.end(),
                     [&](const json& t) { return Tolerates(t, taint); });
}

std::string LabelOf(const json& node, const std::string& key, bool* present) {
  const json& labels = Field(Field(node, "metadata"), "labels");
  auto it = labels.is_object() ? labels.find(key) : labels.end();
  *present = labels.is_object() && it != labels.end() && it->is_string();
  return *present ? it->get<std::string>() : "";
}

bool ExpressionMatches(const json& expr, const json& node, bool field) {
  std::string key = StringField(expr, "key");
  std::string op = StringField(expr, "operator");
  std::vector<std::string> values;
  const json& vals = Field(expr, "values");
  if (vals.is_array()) {
    for (const auto& v : vals) {
      if (v.is_string()) {
        values.push_back(v.get<std::string>());
      }
    }
  }
  bool present = false;
  std::string value;
  if (field) {
    present = key == "metadata.name";
    value = present ? StringField(Field(node, "metadata"), "name") : "";
  } else {
    value = LabelOf(node, key, &present);
  }
  bool in = std::find(values.begin(), values.end(), value) != values.end();
  if (op == "In") {
    return present && in;
  }
  if (op == "NotIn") {
    return !present || !in;
  }
  if (op == "Exists") {
    return present;
  }
  if (op == "DoesNotExist") {
    return !present;
  }
  if ((op == "Gt" || op == "Lt") && present && values.size() == 1) {
    char* end = nullptr;
    long long have = std::strtoll(value.c_str(), &end, 10);  // NOLINT(google-runtime-int)
    if (end == value.c_str() || *end != '\0') {
      return false;
    }
    long long want = std::strtoll(values[0].c_str(), &end, 10);  // NOLINT(google-runtime-int)
    if (end == values[0].c_str() || *end != '\0') {
      return false;
    }
    return op == "Gt" ? have > want : have < want;
  }
  return false;
}

bool TermMatches(const json& term, const json& node) {
  bool any = false;
  for (const char* which : {"matchExpressions", "matchFields"}) {
    const json& exprs = Field(term, which);
    if (!exprs.is_array()) {
      continue;
    }
    for (const auto& e : exprs) {
      any = true;
      if (!ExpressionMatches(e, node, std::string(which) == "matchFields")) {
        return false;
      }
    }
  }
  return any;  // an empty term matches no node
}

bool AffinityMatches(const json& pod, const json& node) {
  const json& spec = Field(pod, "spec");
  const json& selector = Field(spec, "nodeSelector");
  if (selector.is_object()) {
    for (const auto& [k, v] : selector.items()) {
      bool present = false;
      std::string have = LabelOf(node, k, &present);
      if (!present || !v.is_string() || have != v.get<std::string>()) {
        return false;
      }
    }
  }
  const json& required = Field(Field(Field(spec, "affinity"), "nodeAffinity"),
                               "requiredDuringSchedulingIgnoredDuringExecution");
  const json& terms = Field(required, "nodeSelectorTerms");
  if (terms.is_array()) {
    return std::any_of(terms.begin(), terms.end(),
                       [&](const json& t) { return TermMatches(t, node); });
  }
  return true;
}

}  // namespace

Result<ResourceList> PodRequests(const json& pod) {
  const json& spec = Field(pod, "spec");
  ResourceList sum;
  const json& containers = Field(spec, "containers");
  if (containers.is_array()) {
    for (const auto& c : containers) {
      NPUSHARE_ASSIGN_OR_RETURN(ResourceList r, ContainerRequests(c));
      for (const auto& [name, v] : r) {
        sum[name] += v;
      }
    }
  }
  const json& inits = Field(spec, "initContainers");
  if (inits.is_array()) {
    for (const auto& c : inits) {
      NPUSHARE_ASSIGN_OR_RETURN(ResourceList r, ContainerRequests(c));
      for (const auto& [name, v] : r) {
        sum[name] = std::max(sum[name], v);
      }
    }
  }
  NPUSHARE_ASSIGN_OR_RETURN(ResourceList overhead, ReadList(Field(spec, "overhead"), "overhead"));
  for (const auto& [name, v] : overhead) {
    sum[name] += v;
  }
  return sum;
}

ResourceList NodeAllocatable(const json& node) {
  const json& status = Field(node, "status");
  const json& alloc = Field(status, "allocatable").is_object() ? Field(status, "allocatable")
                                                               : Field(status, "capacity");
  ResourceList out;
  if (!alloc.is_object()) {
    return out;
  }
  for (const auto& [name, value] : alloc.items()) {
    if (value.is_string()) {
      auto q = Quantity::Parse(value.get<std::string>());
      if (q.ok()) {
        out[name] = q->MilliValue();
      }
    }
  }
  return out;
}

std::vector<std::string> CheckNodeFit(const json& pod, const ResourceList& pod_requests,
                                      const json& node, const ResourceList& alloc,
                                      const NodeUsage& usage,
                                      const std::set<std::string>& ignored) {
  std::vector<std::string> reasons;
  if (kube::BoolField(Field(node, "spec"), "unschedulable", false)) {
    json taint = {{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}};
    if (!ToleratesTaint(pod, taint)) {
      reasons.push_back("node(s) were unschedulable");
    }
  }
  if (!AffinityMatches(pod, node)) {
    reasons.push_back("node(s) didn't match Pod's node affinity/selector");
  }
  const json& taints = Field(Field(node, "spec"), "taints");
  if (taints.is_array()) {
    for (const auto& taint : taints) {
      std::string effect = StringField(taint, "effect");
      if ((effect == "NoSchedule" || effect == "NoExecute") && !ToleratesTaint(pod, taint)) {
        reasons.push_back("node(s) had untolerated taint {" + StringField(taint, "key") + ": " +
                          StringField(taint, "value") + "}");
        break;
      }
    }
  }
  if (auto pods = alloc.find("pods");
      pods != alloc.end() && (usage.pods + 1) * 1000 > pods->second) {
    reasons.push_back("Too many pods");
  }
  for (const auto& [name, want] : pod_requests) {
    if (want <= 0 || ignored.count(name) != 0) {
      continue;
    }
    int64_t have = alloc.count(name) ? alloc.at(name) : 0;
    int64_t used = usage.requested.count(name) ? usage.requested.at(name) : 0;
    if (want > have - used) {
      reasons.push_back("Insufficient " + name);
    }
  }
  return reasons;
}

int64_t LeastAllocatedScore(const ResourceList& pod_requests, const ResourceList& alloc,
                            const NodeUsage& usage) {
  int64_t total = 0;
  for (const char* name : {"cpu", "memory"}) {
    int64_t have = alloc.count(name) ? alloc.at(name) : 0;
    if (have <= 0) {
      continue;
    }
    int64_t used = (usage.requested.count(name) ? usage.requested.at(name) : 0) +
                   (pod_requests.count(name) ? pod_requests.at(name) : 0);
    int64_t free_share = std::clamp<int64_t>((have - used) * 100 / have, 0, 100);
    total += free_share;
  }
  return total / 2;
}

bool RequestsResource(const json& pod, const std::string& resource) {
  const json& spec = Field(pod, "spec");
  for (const char* list : {"containers", "initContainers"}) {
    const json& containers = Field(spec, list);
    if (!containers.is_array()) {
      continue;
    }
    for (const auto& c : containers) {
      const json& r = Field(c, "resources");
      for (const char* kind : {"requests", "limits"}) {
        const json& m = Field(r, kind);
        if (m.is_object() && m.contains(resource)) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace npushare::kube_scheduler_sim
