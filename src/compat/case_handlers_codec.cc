// Handlers for the HAMi wire-codec vector categories (allocation text, node register,
// runtime info lookup, UUID filters, handshake health, node lock, scoring weights).
// Each handler converts the case input into our types, runs the codec, renders the
// result in the vector's shape and compares. Nothing may throw out of a handler:
// every body runs under Guard(), which turns a json exception into a failure.
#include <functional>
#include <string>

#include "common/quantity.h"
#include "compat/case_runner.h"
#include "hami/civil_time.h"
#include "hami/go_time.h"
#include "hami/handshake.h"
#include "hami/node_lock.h"
#include "hami/node_register.h"
#include "hami/pod_devices.h"
#include "hami/runtime_info.h"
#include "hami/scheduler_policy.h"
#include "hami/uuid_filter.h"

namespace npushare::compat {
namespace {

using nlohmann::json;
namespace h = npushare::hami;

// A fixed "now" for cases whose expectations use <RFC3339-now> placeholders.
constexpr int64_t kFixedNowUnix = 1787293239;  // 2026-08-21T06:20:39Z

CaseOutcome Guard(const std::function<CaseOutcome()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return CaseOutcome::Fail("a well-formed case", std::string("exception: ") + e.what());
  }
}

bool ExpectsError(const json& expected) {
  return expected.contains("error") || expected.contains("error_prefix") ||
         expected.contains("error_contains");
}

// CompareResult: an error expectation ("error" = exact text or, where upstream appends
// library text, its prefix; "error_prefix"; "error_contains") against `status`, or a
// value expectation against `got`.
CaseOutcome CompareResult(const json& expected, const Status& status, const json& got) {
  if (ExpectsError(expected)) {
    if (status.ok()) {
      return CaseOutcome::Fail(expected.dump(), got.dump());
    }
    const std::string& msg = status.message();
    bool match = true;
    if (expected.contains("error")) {
      const auto want = expected["error"].get<std::string>();
      match = match && msg.rfind(want, 0) == 0;
    }
    if (expected.contains("error_prefix")) {
      match = match && msg.rfind(expected["error_prefix"].get<std::string>(), 0) == 0;
    }
    if (expected.contains("error_contains")) {
      match = match && msg.find(expected["error_contains"].get<std::string>()) != std::string::npos;
    }
    return match ? CaseOutcome::Pass() : CaseOutcome::Fail(expected.dump(), "error: " + msg);
  }
  if (!status.ok()) {
    return CaseOutcome::Fail(expected.dump(), "error: " + status.message());
  }
  return JsonEquals(expected, got) ? CaseOutcome::Pass()
                                   : CaseOutcome::Fail(expected.dump(), got.dump());
}

h::ContainerDevice DeviceFromJson(const json& j) {
  return h::ContainerDevice{j.value("uuid", ""), j.value("type", ""), j.value("usedmem", 0),
                            j.value("usedcores", 0)};
}

json DeviceToJson(const h::ContainerDevice& d) {
  return {{"uuid", d.uuid}, {"type", d.type}, {"usedmem", d.usedmem}, {"usedcores", d.usedcores}};
}

json ContainersToJson(const h::ContainerDevices& c) {
  json out = json::array();
  for (const auto& d : c) {
    out.push_back(DeviceToJson(d));
  }
  return out;
}

std::optional<std::string> OptString(const json& j) {
  if (j.is_null()) {
    return std::nullopt;
  }
  return j.get<std::string>();
}

h::PodRef PodFromJson(const json& j) {
  return h::PodRef{j.value("namespace", ""), j.value("name", "")};
}

CaseOutcome PodDevicesEncode(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    h::PodDevices pod;
    for (const json& container : c["input"]["containers"]) {
      h::ContainerDevices devs;
      for (const json& d : container) {
        devs.push_back(DeviceFromJson(d));
      }
      pod.push_back(std::move(devs));
    }
    return CompareResult(expected, OkStatus(), {{"text", h::EncodePodDevices(pod)}});
  });
}

CaseOutcome PodDevicesDecode(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    auto pd = h::DecodePodDevices(c["input"]["text"].get<std::string>());
    json got = json::object();
    if (pd.ok()) {
      got["containers"] = json::array();
      for (const auto& container : *pd) {
        got["containers"].push_back(ContainersToJson(container));
      }
    }
    return CompareResult(expected, pd.status(), got);
  });
}

CaseOutcome PluginAnnotationErase(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    const json& in = c["input"];
    std::string text = in["initial_text"].get<std::string>();
    const size_t init_count = in.value("pod_init_containers", 0);
    const json init_names = in.value("pod_init_names", json::array());
    const json names = in.value("pod_containers", json::array());
    json calls = json::array();
    for (int i = 0; i < in["calls"].get<int>(); ++i) {
      auto pd = h::DecodePodDevices(text);
      if (!pd.ok()) {
        calls.push_back({{"error", pd.status().message()}});
        continue;
      }
      auto popped = h::PopFirstNonEmptyContainer(*pd);
      if (!popped.ok()) {
        calls.push_back({{"error", popped.status().message()}});
        continue;
      }
      const size_t idx = popped->container_index;
      std::string name;  // "" when the index is past the pod's containers, as upstream
      if (idx < init_count) {
        name = idx < init_names.size() ? init_names[idx].get<std::string>() : "";
      } else if (idx - init_count < names.size()) {
        name = names[idx - init_count].get<std::string>();
      }
      text = h::EncodePodDevices(*pd);
      calls.push_back({{"popped", ContainersToJson(popped->devices)},
                       {"container_index", idx},
                       {"container_name", name},
                       {"text_after", text}});
    }
    return CompareResult(expected, OkStatus(), {{"calls", calls}});
  });
}

CaseOutcome PluginNetworkIdCase(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    const json& in = c["input"];
    const auto type = in["type"].get<std::string>();
    return CompareResult(expected, OkStatus(),
                         {{"network_id", h::PluginNetworkId(in["index"].get<uint32_t>(), type)}});
  });
}

CaseOutcome NodeRegisterDecode(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    const json& in = c["input"];
    const std::string cw = in["commonWord"].get<std::string>();
    if (in["annotation"].is_null()) {
      return CompareResult(expected, NotFoundError("annos not found " + h::NodeRegisterKey(cw)),
                           json());
    }
    auto devs = h::DecodeNodeRegister(in["annotation"].get<std::string>(), cw);
    json got = json::object();
    if (devs.ok()) {
      got["devices"] = json::array();
      for (const h::DeviceInfo& d : *devs) {
        json j = {{"id", d.id},         {"index", d.index},     {"count", d.count},
                  {"devmem", d.devmem}, {"devcore", d.devcore}, {"type", d.type},
                  {"numa", d.numa},     {"health", d.health},   {"devicevendor", d.device_vendor}};
        if (!d.mode.empty()) {
          j["mode"] = d.mode;
        }
        if (d.has_custom_info) {
          j["custominfo"] = json::object();
          if (d.network_id) {
            j["custominfo"]["NetworkID"] = *d.network_id;
          }
        }
        got["devices"].push_back(j);
      }
    }
    return CompareResult(expected, devs.status(), got);
  });
}

CaseOutcome CheckUuidCase(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    const json& in = c["input"];
    const bool allowed =
        h::CheckUuid(AnnotationsFromJson(in["annotations"]), in["commonWord"].get<std::string>(),
                     in["id"].get<std::string>());
    return CompareResult(expected, OkStatus(), {{"allowed", allowed}});
  });
}

CaseOutcome CheckHealthCase(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    const json& in = c["input"];
    const std::string cw = in["commonWord"].get<std::string>();
    const std::string now_text = in["now"].get<std::string>();
    auto now = h::ParseGoTime(now_text, h::GoLayout::kDateTime);
    if (!now.ok()) {
      return CaseOutcome::Fail("a valid input.now", now.status().ToString());
    }
    bool positive = false;
    const json& alloc = in["allocatable"];
    const std::string resource = in["resourceName"].get<std::string>();
    if (alloc.is_object() && alloc.contains(resource)) {
      const json& v = alloc[resource];
      auto q = Quantity::Parse(v.is_string() ? v.get<std::string>() : v.dump());
      positive = q.ok() && !q->IsZero() && !q->IsNegative();
    }
    const std::optional<std::string> handshake = OptString(in["handshake"]);
    h::HealthInput hi;
    if (handshake) {
      hi.handshake = *handshake;
    }
    hi.now_civil_seconds = h::CivilSecondsOf(now->civil);
    hi.allocatable_positive = positive;
    hi.node_get_succeeds = in.value("node_get_succeeds", true);
    const h::HealthDecision d = h::CheckHealth(hi);
    json side = nullptr;
    const std::string key = h::NodeHandshakeKey(cw);
    if (d.action == h::HandshakeAction::kDeleteAnnotation) {
      side = "delete annotation " + key + " (only if node+vendor are cached)";
    } else if (d.action == h::HandshakeAction::kPatchRequesting) {
      const bool is_now = d.patch_value == "Requesting_" + now_text;
      side = "patch " + key + " = " + (is_now ? "Requesting_<now-DateTime>" : d.patch_value);
    }
    return CompareResult(
        expected, OkStatus(),
        {{"healthy", d.healthy}, {"need_update", d.need_update}, {"side_effect", side}});
  });
}

CaseOutcome NodeLockParse(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    auto lock = h::ParseNodeLock(c["input"]["value"].get<std::string>());
    json got = json::object();
    if (lock.ok()) {
      got = {{"time", h::FormatNodeLock(lock->unix_seconds, 0, "", "")},
             {"namespace", lock->ns},
             {"name", lock->name}};
    }
    return CompareResult(expected, lock.status(), got);
  });
}

// Placeholders: "<RFC3339-now>" in a lock value means "written now"; we pick a fixed now
// and place the lock time lock_age_seconds before it. For a literal time the clock is
// the lock time plus lock_age_seconds.
CaseOutcome NodeLockAcquire(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    const json& in = c["input"];
    const int64_t age =
        in["lock_age_seconds"].is_null() ? 0 : in["lock_age_seconds"].get<int64_t>();
    const h::PodRef me = PodFromJson(in["requesting_pod"]);
    const int64_t timeout = in.value("timeout_seconds", h::kDefaultNodeLockTimeoutSeconds);
    std::optional<std::string> existing = OptString(in["existing_lock"]);
    int64_t now = kFixedNowUnix;
    if (existing) {
      const std::string ph = "<RFC3339-now>";
      const size_t pos = existing->find(ph);
      if (pos != std::string::npos) {
        existing->replace(pos, ph.size(), h::FormatNodeLock(now - age, 0, "", ""));
      } else if (auto parsed = h::ParseNodeLock(*existing); parsed.ok()) {
        now = parsed->unix_seconds + age;
      }
    }
    std::optional<bool> holder_exists;
    if (!in["holder_pod_exists"].is_null()) {
      holder_exists = in["holder_pod_exists"].get<bool>();
    }
    std::optional<std::string_view> view;
    if (existing) {
      view = *existing;
    }
    h::LockAcquireDecision d = h::DecideLockAcquire(view, now, timeout, me, std::nullopt, "<node>");
    if (d.action == h::LockAcquireAction::kNeedHolderCheck) {
      if (!holder_exists) {
        return CaseOutcome::Fail(expected.dump(), "holder check needed but holder_pod_exists null");
      }
      d = h::DecideLockAcquire(view, now, timeout, me, holder_exists, "<node>");
    }
    json got;
    switch (d.action) {
      case h::LockAcquireAction::kSet:
      case h::LockAcquireAction::kTakeOverAndSet: {
        const std::string value = h::FormatNodeLock(now, 0, me.ns, me.name);
        const std::string rendered =
            value == h::FormatNodeLock(now, 0, "", "") + "," + me.ns + "," + me.name
                ? "<RFC3339-now>," + me.ns + "," + me.name
                : value;
        got = {{"result", "ok"}, {"lock_after", rendered}};
        break;
      }
      case h::LockAcquireAction::kAlreadyHeld:
        got = {{"result", "ok"}, {"lock_after", "unchanged"}};
        break;
      default:
        got = {{"result", "error: " + d.message}, {"lock_after", "unchanged"}};
    }
    return CompareResult(expected, OkStatus(), got);
  });
}

CaseOutcome NodeLockRelease(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    const json& in = c["input"];
    const std::optional<std::string> existing = OptString(in["existing_lock"]);
    std::optional<std::string_view> view;
    if (existing) {
      view = *existing;
    }
    const auto action =
        h::DecideLockRelease(view, PodFromJson(in["releasing_pod"]), in.value("force", false));
    json after = nullptr;
    if (existing && action == h::LockReleaseAction::kNothing) {
      after = "unchanged";
    }
    return CompareResult(expected, OkStatus(), {{"result", "ok"}, {"lock_after", after}});
  });
}

CaseOutcome ScoringWeightsParse(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    auto w = h::ParseScoringWeights(c["input"]["value"].get<std::string>());
    json got = json::object();
    if (w.ok()) {
      got["weights"] = {{"slot", w->slot}, {"core", w->core}, {"memory", w->memory}};
    }
    return CompareResult(expected, w.status(), got);
  });
}

CaseOutcome RuntimeInfoLookup(const json& c, const json& expected, const VectorContext&) {
  return Guard([&] {
    const json& in = c["input"];
    const std::string cw = in["commonWord"].get<std::string>();
    if (in["annotation"].is_null()) {
      return CompareResult(expected,
                           InvalidArgumentError("annotation " + h::RuntimeInfoKey(cw) + " not set"),
                           json());
    }
    auto lookup = h::DecodeRuntimeInfoLookup(in["annotation"].get<std::string>(), cw);
    json got = json::object();
    if (lookup.ok()) {
      got["lookup"] = json::object();
      for (const auto& [uuid, e] : *lookup) {
        got["lookup"][uuid] = {{"temp", e.temp},
                               {"memory", e.memory ? json(*e.memory) : json(nullptr)},
                               {"core", e.core ? json(*e.core) : json(nullptr)}};
      }
    }
    return CompareResult(expected, lookup.status(), got);
  });
}

}  // namespace

void RegisterCodecHandlers(HandlerTable& table) {
  table["pod_devices_encode"] = PodDevicesEncode;
  table["pod_devices_decode"] = PodDevicesDecode;
  table["plugin_annotation_erase"] = PluginAnnotationErase;
  table["plugin_network_id"] = PluginNetworkIdCase;
  table["node_register_decode"] = NodeRegisterDecode;
  table["check_uuid"] = CheckUuidCase;
  table["check_health"] = CheckHealthCase;
  table["node_lock_parse"] = NodeLockParse;
  table["node_lock_acquire"] = NodeLockAcquire;
  table["node_lock_release"] = NodeLockRelease;
  table["scoring_weights_parse"] = ScoringWeightsParse;
  table["plugin_runtime_info_lookup"] = RuntimeInfoLookup;
}

}  // namespace npushare::compat
