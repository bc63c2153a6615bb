// Handlers for the scheduler-side vector categories (admission, request parsing, Fit,
// scoring, the annotations Filter writes).
#include <regex>

#include "compat/case_runner.h"
#include "hami/scheduler_policy.h"
#include "scheduling/admission.h"
#include "scheduling/allocation_annotations.h"
#include "scheduling/fit.h"
#include "scheduling/request_parser.h"
#include "scheduling/scoring.h"
#include "scheduling/template_trimmer.h"

namespace npushare::compat {
namespace {

using nlohmann::json;
using namespace npushare::scheduling;

CaseOutcome Compare(const json& expected, const json& got) {
  if (JsonEquals(expected, got)) {
    return CaseOutcome::Pass();
  }
  return CaseOutcome::Fail(expected.dump(), got.dump());
}

#define COMPAT_ASSIGN_CONFIG(var, ctx, ref)                                        \
  auto var##_result = (ctx).ResolveChipConfig(ref);                                \
  if (!var##_result.ok()) {                                                        \
    return CaseOutcome::Fail("a usable config", var##_result.status().ToString()); \
  }                                                                                \
  const config::ChipConfig& var = *var##_result

// Quantity values in vectors are strings; tolerate JSON numbers as YAML would give them.
std::optional<ResourceList> ToResourceList(const json& j) {
  if (j.is_null()) {
    return std::nullopt;
  }
  ResourceList r;
  for (auto it = j.begin(); it != j.end(); ++it) {
    r[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  }
  return r;
}

ContainerSpec ToContainer(const json& c) {
  ContainerSpec spec;
  spec.name = "c0";
  spec.limits = ToResourceList(c.value("limits", json()));
  spec.requests = ToResourceList(c.value("requests", json()));
  return spec;
}

json RequestToJson(const hami::ContainerDeviceRequest& r) {
  return {{"nums", r.nums},
          {"type", r.type},
          {"memreq", r.memreq},
          {"mempercentagereq", r.mem_percentage_req},
          {"coresreq", r.coresreq}};
}

hami::ContainerDeviceRequest RequestFromJson(const json& j) {
  hami::ContainerDeviceRequest r;
  r.nums = j.value("nums", 0);
  r.type = j.value("type", std::string());
  r.memreq = j.value("memreq", 0);
  r.mem_percentage_req = j.value("mempercentagereq", 0);
  r.coresreq = j.value("coresreq", 0);
  return r;
}

void ReadCustomInfo(const json& d, bool& has, std::optional<double>& net) {
  auto it = d.find("custominfo");
  has = it != d.end() && it->is_object();
  if (has && it->contains("NetworkID") && (*it)["NetworkID"].is_number()) {
    net = (*it)["NetworkID"].get<double>();
  }
}

DeviceUsage DeviceFromJson(const json& d) {
  DeviceUsage u;
  // Views into the case JSON, which outlives every use of the device.
  static const std::string kEmpty;
  auto str = [&](const char* key) -> std::string_view {
    auto it = d.find(key);
    return it != d.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>())
                                            : std::string_view(kEmpty);
  };
  u.id = str("id");
  u.index = d.value("index", 0u);
  u.type = str("type");
  u.numa = d.value("numa", 0);
  u.health = d.value("health", false);
  u.count = d.value("count", 0);
  u.used = d.value("used", 0);
  u.totalmem = d.value("totalmem", int64_t{0});
  u.usedmem = d.value("usedmem", int64_t{0});
  u.totalcore = d.value("totalcore", 0);
  u.usedcores = d.value("usedcores", 0);
  u.score = d.value("score", 0.0f);
  ReadCustomInfo(d, u.has_custom_info, u.network_id);
  return u;
}

CaseOutcome TrimMemoryCase(const json& c, const json& expected, const VectorContext& ctx) {
  COMPAT_ASSIGN_CONFIG(chip, ctx, c["input"]["config"]);
  TrimmedMemory t = TrimMemory(chip, c["input"]["memory"].get<int64_t>());
  return Compare(expected, json{{"memory", t.memory_mb}, {"template", t.template_name}});
}

CaseOutcome GenerateRequestsCase(const json& c, const json& expected, const VectorContext& ctx) {
  COMPAT_ASSIGN_CONFIG(chip, ctx, c["input"]["config"]);
  ParsedRequest p = ParseContainerRequest(chip, ToContainer(c["input"]["container"]));
  json got = p.kind == ParsedRequest::Kind::kRequest ? RequestToJson(p.request) : json::object();
  return Compare(expected, json{{"request", got}});
}

CaseOutcome MutateAdmissionCase(const json& c, const json& expected, const VectorContext& ctx) {
  const json& in = c["input"];
  COMPAT_ASSIGN_CONFIG(chip, ctx, in["config"]);
  PodSpec pod;
  pod.annotations = AnnotationsFromJson(in.value("pod_annotations", json::object()));
  if (in.contains("pod_runtimeClassName") && in["pod_runtimeClassName"].is_string()) {
    pod.runtime_class_name = in["pod_runtimeClassName"].get<std::string>();
  }
  ContainerSpec container = ToContainer(in["container"]);
  ContainerAdmission r = MutateContainer(chip, container, pod);

  json got = {{"found", r.found},
              {"error", r.error.ok() ? json(nullptr) : json(r.error.message())}};
  json want = {{"found", expected.value("found", false)},
               {"error", expected.value("error", json(nullptr))}};
  auto to_json = [](const std::optional<ResourceList>& l) {
    if (!l) {
      return json(nullptr);
    }
    json j = json::object();
    for (const auto& [k, v] : *l) {
      j[k] = v;
    }
    return j;
  };
  if (expected.contains("limits_after")) {
    want["limits_after"] = expected["limits_after"];
    got["limits_after"] = to_json(container.limits);
  }
  if (expected.contains("requests_after")) {
    want["requests_after"] = expected["requests_after"];
    got["requests_after"] = to_json(container.requests);
  }
  auto count_of = [&](const std::optional<ResourceList>& l) -> json {
    const std::string* v = FindResource(l, chip.resource_name);
    if (v == nullptr) {
      return nullptr;
    }
    try {
      return std::stoll(*v);
    } catch (const std::exception&) {
      return *v;
    }
  };
  if (expected.contains("count_limit_after")) {
    want["count_limit_after"] = expected["count_limit_after"];
    got["count_limit_after"] = count_of(container.limits);
  }
  if (expected.contains("count_request_after")) {
    want["count_request_after"] = expected["count_request_after"];
    got["count_request_after"] = count_of(container.requests);
  }
  if (expected.contains("env_added")) {
    want["env_added"] = expected["env_added"];
    json env = json::array();
    for (const auto& e : container.env) {
      env.push_back({{"name", e.name}, {"value", e.value}});
    }
    got["env_added"] = env;
  }
  if (expected.contains("runtimeClassName")) {
    want["runtimeClassName"] = expected["runtimeClassName"];
    got["runtimeClassName"] = pod.runtime_class_name ? json(*pod.runtime_class_name) : json();
  }
  if (expected.contains("postStart_added")) {
    // Ascend admission never adds lifecycle hooks.
    want["postStart_added"] = expected["postStart_added"];
    got["postStart_added"] = false;
  }
  return Compare(want, got);
}

json AllocatedToJson(const std::vector<AllocatedDevice>& devs) {
  json a = json::array();
  for (const auto& d : devs) {
    a.push_back(
        {{"uuid", d.uuid}, {"idx", d.idx}, {"usedmem", d.usedmem}, {"usedcores", d.usedcores}});
  }
  return a;
}

CaseOutcome FitCase(const json& c, const json& expected, const VectorContext& ctx) {
  const json& in = c["input"];
  COMPAT_ASSIGN_CONFIG(chip, ctx, in["config"]);
  DeviceUsageList devices;
  for (const auto& d : in["devices"]) {
    devices.push_back(DeviceFromJson(d));
  }
  std::vector<hami::DeviceInfo> node_devices;
  for (const auto& d : in.value("node_info_devices", json::array())) {
    hami::DeviceInfo info;
    info.id = d.value("id", std::string());
    info.index = d.value("index", 0u);
    ReadCustomInfo(d, info.has_custom_info, info.network_id);
    node_devices.push_back(std::move(info));
  }
  const hami::Annotations pod_annotations =
      AnnotationsFromJson(in.value("pod_annotations", json()));
  const hami::Annotations node_annotations =
      AnnotationsFromJson(in.value("node_annotations", json()));
  FitInput fi;
  fi.chip = &chip;
  fi.request = RequestFromJson(in["request"]);
  fi.pod_annotations = &pod_annotations;
  auto mode = pod_annotations.find(hami::kVnpuModeAnnotation);
  fi.pod_hami_core = mode != pod_annotations.end() && mode->second == hami::kVnpuModeHamiCore;
  fi.node_supports_hami_core =
      NodeSupportsHamiCore(in.value("hamiVnpuCore_global", false), node_annotations);
  auto pol = pod_annotations.find(hami::kGpuSchedulerPolicyAnnotation);
  fi.mutex_policy =
      pol != pod_annotations.end() && hami::HasMutex(hami::ParseDevicePolicy(pol->second));
  fi.node_devices = &node_devices;
  FitResult r = Fit(devices, fi);

  json got = {{"fit", r.fit}, {"allocated", AllocatedToJson(r.devices)}, {"reason", r.reason}};
  if (c.contains("expected_any_of") && expected.value("allocated", json()).is_null()) {
    for (const auto& alt : c["expected_any_of"]) {
      json want = {{"fit", expected["fit"]}, {"allocated", alt}, {"reason", expected["reason"]}};
      if (JsonEquals(want, got)) {
        return CaseOutcome::Pass();
      }
    }
    return CaseOutcome::Fail("any of " + c["expected_any_of"].dump(), got.dump());
  }
  return Compare(json{{"fit", expected["fit"]},
                      {"allocated", expected["allocated"]},
                      {"reason", expected["reason"]}},
                 got);
}

CaseOutcome ScoreNodeTopologyCase(const json& c, const json& expected, const VectorContext&) {
  std::vector<std::vector<TopologyDevice>> containers;
  for (const auto& list : c["input"]["containers"]) {
    auto& out = containers.emplace_back();
    for (const auto& ci : list) {
      TopologyDevice d;
      d.has_custom_info = ci.is_object();
      if (d.has_custom_info && ci.contains("NetworkID") && ci["NetworkID"].is_number()) {
        d.network_id = ci["NetworkID"].get<double>();
      }
      out.push_back(d);
    }
  }
  float s = TopologyScore(c["input"]["commonWord"].get<std::string>(), containers);
  return Compare(expected, json{{"score", s}});
}

CaseOutcome DeviceScoreCase(const json& c, const json& expected, const VectorContext&) {
  const json& in = c["input"];
  DeviceUsage d = DeviceFromJson(in["device"]);
  std::vector<hami::ContainerDeviceRequest> reqs;
  for (const auto& r : in["requests"]) {
    reqs.push_back(RequestFromJson(r));
  }
  hami::ScoringWeights w;
  w.slot = in["weights"].value("slot", 1);
  w.core = in["weights"].value("core", 1);
  w.memory = in["weights"].value("memory", 1);
  return Compare(expected, json{{"score", DeviceScore(d, reqs, w)}});
}

CaseOutcome NodeDefaultScoreCase(const json& c, const json& expected, const VectorContext&) {
  DeviceUsageList devices;
  for (const auto& d : c["input"]["devices"]) {
    devices.push_back(DeviceFromJson(d));
  }
  return Compare(expected, json{{"score", NodeUsageScore(SumDevices(devices))}});
}

CaseOutcome DeviceSortLessCase(const json& c, const json& expected, const VectorContext&) {
  const json& in = c["input"];
  hami::DevicePolicy p = hami::ParseDevicePolicy(in["policy"].get<std::string>());
  bool less =
      DeviceLess(DeviceFromJson(in["a"]), DeviceFromJson(in["b"]), p, in.value("numa_bind", false));
  return Compare(expected, json{{"less", less}});
}

CaseOutcome NodeSelectCase(const json& c, const json& expected, const VectorContext&) {
  std::vector<ScoredNode> nodes;
  for (const auto& n : c["input"]["nodes"]) {
    nodes.push_back({n["name"].get<std::string>(), n["score"].get<float>()});
  }
  NodePolicy p =
      hami::ParseNodePolicy(c["input"]["policy"].get<std::string>(), NodePolicy::kBinpack);
  auto i = SelectNode(nodes, p);
  return Compare(expected, json{{"chosen", i ? json(nodes[*i].name) : json()}});
}

CaseOutcome GenReasonCase(const json& c, const json& expected, const VectorContext&) {
  ReasonCounts reasons;
  for (auto it = c["input"]["reasons"].begin(); it != c["input"]["reasons"].end(); ++it) {
    reasons[it.key()] = it->get<int32_t>();
  }
  return Compare(expected, json{{"text", GenReason(reasons, c["input"]["total"].get<int32_t>())}});
}

// Placeholders such as <unix-seconds> in expected annotation values match any decimal number.
bool AnnotationValueMatches(const std::string& want, const std::string& got) {
  if (want == "<unix-seconds>") {
    static const std::regex kDigits("^[0-9]+$");
    return std::regex_match(got, kDigits);
  }
  return want == got;
}

CaseOutcome RuntimeInfoCase(const json& c, const json& expected, const VectorContext& ctx) {
  const json& in = c["input"];
  COMPAT_ASSIGN_CONFIG(chip, ctx, in["config"]);
  const hami::Annotations pod_annotations =
      AnnotationsFromJson(in.value("pod_annotations", json()));
  auto mode = pod_annotations.find(hami::kVnpuModeAnnotation);
  const bool hami_core = mode != pod_annotations.end() && mode->second == hami::kVnpuModeHamiCore;
  std::optional<hami::PodDevices> devices;
  if (in.contains("allocation") && in["allocation"].is_array()) {
    devices.emplace();
    for (const auto& container : in["allocation"]) {
      auto& list = devices->emplace_back();
      for (const auto& d : container) {
        list.push_back(hami::ContainerDevice{d.value("uuid", std::string()),
                                             d.value("type", std::string()), d.value("usedmem", 0),
                                             d.value("usedcores", 0)});
      }
    }
  }
  hami::Annotations got =
      ChipAllocationAnnotations(chip, hami_core, devices ? &*devices : nullptr, 1700000000);
  json got_json = json::object();
  for (const auto& [k, v] : got) {
    got_json[k] = v;
  }
  const json& want = expected.value("annotations", json::object());
  if (want.empty() != got.empty()) {
    return CaseOutcome::Fail(want.dump(), got_json.dump());
  }
  for (auto it = want.begin(); it != want.end(); ++it) {
    auto g = got.find(it.key());
    if (g == got.end() || !AnnotationValueMatches(it->get<std::string>(), g->second)) {
      return CaseOutcome::Fail(want.dump(), got_json.dump());
    }
  }
  return CaseOutcome::Pass();
}

}  // namespace

void RegisterSchedulingHandlers(HandlerTable& table) {
  table["trim_memory"] = TrimMemoryCase;
  table["generate_resource_requests"] = GenerateRequestsCase;
  table["mutate_admission"] = MutateAdmissionCase;
  table["fit"] = FitCase;
  table["score_node_topology"] = ScoreNodeTopologyCase;
  table["device_score"] = DeviceScoreCase;
  table["node_default_score"] = NodeDefaultScoreCase;
  table["device_sort_less"] = DeviceSortLessCase;
  table["node_select"] = NodeSelectCase;
  table["gen_reason"] = GenReasonCase;
  table["runtime_info"] = RuntimeInfoCase;
}

}  // namespace npushare::compat
