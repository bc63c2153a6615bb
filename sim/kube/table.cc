#include "sim/kube/table.h"

#include "kube/objects.h"

namespace npushare::kube_local {
namespace {

using nlohmann::json;

json Column(const char* name, const char* type, const char* format, const char* description) {
  return {{"name", name},
          {"type", type},
          {"format", format},
          {"description", description},
          {"priority", 0}};
}

std::string Age(const json& obj, std::chrono::system_clock::time_point now) {
  const json& m = kube::Field(obj, "metadata");
  if (!m.is_object() || !m.contains("creationTimestamp") || !m["creationTimestamp"].is_string()) {
    return "<unknown>";
  }
  auto created = kube::ParseRfc3339(m["creationTimestamp"].get<std::string>());
  if (!created.ok()) {
    return "<unknown>";
  }
  auto age = std::chrono::duration_cast<std::chrono::seconds>(now - *created);
  return HumanAge(age < std::chrono::seconds(0) ? std::chrono::seconds(0) : age);
}

json PodCells(const json& pod, const std::string& name, const std::string& age) {
  size_t total = 0;
  if (pod.contains("spec") && pod["spec"].is_object() && pod["spec"].contains("containers") &&
      pod["spec"]["containers"].is_array()) {
    total = pod["spec"]["containers"].size();
  }
  size_t ready = 0;
  int64_t restarts = 0;
  std::string status = "Unknown";
  if (pod.contains("status") && pod["status"].is_object()) {
    const json& st = pod["status"];
    if (st.contains("phase") && st["phase"].is_string()) {
      status = st["phase"];
    }
    if (st.contains("containerStatuses") && st["containerStatuses"].is_array()) {
      for (const auto& cs : st["containerStatuses"]) {
        if (!cs.is_object()) {
          continue;
        }
        if (kube::BoolField(cs, "ready", false)) {
          ++ready;
        }
        if (cs.contains("restartCount") && cs["restartCount"].is_number_integer()) {
          restarts += cs["restartCount"].get<int64_t>();
        }
      }
    }
  }
  if (!kube::Field(kube::Field(pod, "metadata"), "deletionTimestamp").is_null()) {
    status = "Terminating";
  }
  return {name, std::to_string(ready) + "/" + std::to_string(total), status, restarts, age};
}

json NodeCells(const json& node, const std::string& name, const std::string& age) {
  std::string status = "Unknown";
  std::string version;
  if (node.contains("status") && node["status"].is_object()) {
    const json& st = node["status"];
    if (st.contains("conditions") && st["conditions"].is_array()) {
      for (const auto& c : st["conditions"]) {
        if (kube::StringField(c, "type") == "Ready") {
          status = kube::StringField(c, "status") == "True" ? "Ready" : "NotReady";
        }
      }
    }
    if (st.contains("nodeInfo") && st["nodeInfo"].is_object()) {
      version = kube::StringField(st["nodeInfo"], "kubeletVersion");
    }
  }
  if (node.contains("spec") && node["spec"].is_object() &&
      kube::BoolField(node["spec"], "unschedulable", false)) {
    status += ",SchedulingDisabled";
  }
  std::string roles;
  const json& labels = kube::Field(kube::Field(node, "metadata"), "labels");
  if (labels.is_object()) {
    static constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
    for (const auto& [k, v] : labels.items()) {
      if (k.rfind(kRolePrefix, 0) == 0) {
        roles += (roles.empty() ? "" : ",") + k.substr(kRolePrefix.size());
      }
    }
  }
  return {name, status, roles.empty() ? "<none>" : roles, age, version};
}

}  // namespace

bool WantsTable(std::string_view accept) {
  return accept.find("as=Table") != std::string::npos;
}

std::string HumanAge(std::chrono::seconds age) {
  int64_t s = age.count();
  if (s < 120) {
    return std::to_string(s) + "s";
  }
  int64_t m = s / 60;
  if (m < 10) {
    return std::to_string(m) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  }
  if (m < 180) {
    return std::to_string(m) + "m";
  }
  int64_t h = m / 60;
  if (h < 8) {
    return std::to_string(h) + "h" + (m % 60 ? std::to_string(m % 60) + "m" : "");
  }
  if (h < 48) {
    return std::to_string(h) + "h";
  }
  int64_t d = h / 24;
  if (d < 365 * 2) {
    return std::to_string(d) + "d";
  }
  return std::to_string(d / 365) + "y" + std::to_string(d % 365) + "d";
}

json MakeTable(const ResourceInfo& info, const std::vector<ObjectPtr>& objects,
               const std::string& rv, const std::string& continue_token,
               std::string_view include_object, std::chrono::system_clock::time_point now) {
  json columns;
  if (info.plural == "pods") {
    columns = {Column("Name", "string", "name", "Name must be unique within a namespace."),
               Column("Ready", "string", "", "The aggregate readiness state of this pod."),
               Column("Status", "string", "", "The aggregate status of the containers."),
               Column("Restarts", "string", "", "The number of times the containers restarted."),
               Column("Age", "string", "", "CreationTimestamp")};
  } else if (info.plural == "nodes") {
    columns = {Column("Name", "string", "name", "Name must be unique."),
               Column("Status", "string", "", "The status of the node"),
               Column("Roles", "string", "", "The roles of the node"),
               Column("Age", "string", "", "CreationTimestamp"),
               Column("Version", "string", "", "Kubelet Version reported by the node.")};
  } else {
    columns = {Column("Name", "string", "name", "Name must be unique."),
               Column("Age", "string", "", "CreationTimestamp")};
  }
  json rows = json::array();
  for (const auto& obj : objects) {
    const json& o = *obj;
    std::string name = kube::StringField(kube::Field(o, "metadata"), "name");
    std::string age = Age(o, now);
    json cells;
    if (info.plural == "pods") {
      cells = PodCells(o, name, age);
    } else if (info.plural == "nodes") {
      cells = NodeCells(o, name, age);
    } else {
      cells = {name, age};
    }
    json row = {{"cells", cells}};
    if (include_object == "Object") {
      row["object"] = o;
    } else if (include_object != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", kube::Field(o, "metadata")}};
    }
    rows.push_back(std::move(row));
  }
  json meta = json::object();
  if (!rv.empty()) {
    meta["resourceVersion"] = rv;
  }
  if (!continue_token.empty()) {
    meta["continue"] = continue_token;
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", meta},
          {"columnDefinitions", columns},
          {"rows", rows}};
}

}  // namespace npushare::kube_local
