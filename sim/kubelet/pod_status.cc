#include "sim/kubelet/pod_status.h"

namespace npushare::kubelet_sim {

using nlohmann::json;

namespace {

json TerminatedJson(const Terminated& t) {
  json out = {{"exitCode", t.exit_code}, {"reason", t.reason}};
  if (!t.message.empty()) {
    out["message"] = t.message;
  }
  if (!t.started_at.empty()) {
    out["startedAt"] = t.started_at;
  }
  if (!t.finished_at.empty()) {
    out["finishedAt"] = t.finished_at;
  }
  if (!t.container_id.empty()) {
    out["containerID"] = t.container_id;
  }
  return out;
}

json NullIfEmpty(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

}  // namespace

json ContainerRecord::ToJson() const {
  json state_json = json::object();
  switch (state) {
    case State::kWaiting: {
      json w = {{"reason", waiting_reason}};
      if (!waiting_message.empty()) {
        w["message"] = waiting_message;
      }
      state_json["waiting"] = w;
      break;
    }
    case State::kRunning:
      state_json["running"] = {{"startedAt", started_at}};
      break;
    case State::kTerminated:
      state_json["terminated"] = TerminatedJson(terminated.value_or(Terminated{}));
      break;
  }
  json last = json::object();
  if (last_terminated.has_value()) {
    last["terminated"] = TerminatedJson(*last_terminated);
  }
  json out = {{"name", name},
              {"image", image},
              {"imageID", ""},
              {"state", state_json},
              {"lastState", last},
              {"ready", state == State::kRunning},
              {"started", state == State::kRunning},
              {"restartCount", restart_count}};
  if (!container_id.empty()) {
    out["containerID"] = container_id;
  }
  return out;
}

void PodStatusRecord::SetCondition(const std::string& type, bool value, const std::string& now,
                                   const std::string& reason_text) {
  const std::string status = value ? "True" : "False";
  auto it = conditions.find(type);
  if (it != conditions.end() && it->second.status == status) {
    it->second.reason = reason_text;
    return;
  }
  conditions[type] = Condition{status, now, reason_text};
}

void PodStatusRecord::UpdateConditions(const std::string& now) {
  SetCondition("PodScheduled", true, now);
  bool initialized = true;
  for (const auto& c : init_containers) {
    if (c.state != ContainerRecord::State::kTerminated || !c.terminated.has_value() ||
        c.terminated->exit_code != 0) {
      initialized = false;
    }
  }
  const bool terminal = phase == "Succeeded" || phase == "Failed";
  // Kubelet keeps Initialized True once the init containers completed, even after the pod ends.
  SetCondition("Initialized", initialized, now, initialized ? "" : "ContainersNotInitialized");
  bool ready = !containers.empty() && !terminal;
  for (const auto& c : containers) {
    if (c.state != ContainerRecord::State::kRunning) {
      ready = false;
    }
  }
  const std::string why = terminal ? "PodCompleted" : (ready ? "" : "ContainersNotReady");
  SetCondition("ContainersReady", ready, now, why);
  SetCondition("Ready", ready, now, why);
}

json PodStatusRecord::ToJson() const {
  json conds = json::array();
  // Kubelet's order: Initialized, Ready, ContainersReady, PodScheduled.
  for (const char* type : {"Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
    auto it = conditions.find(type);
    if (it == conditions.end()) {
      continue;
    }
    json c = {{"type", type},
              {"status", it->second.status},
              {"lastProbeTime", nullptr},
              {"lastTransitionTime", it->second.last_transition_time}};
    if (!it->second.reason.empty()) {
      c["reason"] = it->second.reason;
    }
    conds.push_back(c);
  }
  json inits = json::array();
  for (const auto& c : init_containers) {
    inits.push_back(c.ToJson());
  }
  json apps = json::array();
  for (const auto& c : containers) {
    apps.push_back(c.ToJson());
  }
  json out = {{"phase", phase},
              {"reason", NullIfEmpty(reason)},
              {"message", NullIfEmpty(message)},
              {"conditions", conds},
              {"hostIP", "127.0.0.1"},
              {"hostIPs", json::array({{{"ip", "127.0.0.1"}}})},
              {"podIP", pod_ip},
              {"podIPs", json::array({{{"ip", pod_ip}}})},
              {"startTime", NullIfEmpty(start_time)},
              {"containerStatuses", apps},
              {"qosClass", "BestEffort"}};
  if (!init_containers.empty()) {
    out["initContainerStatuses"] = inits;
  }
  return out;
}

std::string PodPhaseOf(const std::vector<ContainerRecord>& containers,
                       const std::vector<bool>& restarting) {
  bool any_started = false;
  bool all_done = true;
  bool all_zero = true;
  for (size_t i = 0; i < containers.size(); ++i) {
    const auto& c = containers[i];
    const bool will_restart = i < restarting.size() && restarting[i];
    if (c.state == ContainerRecord::State::kRunning || will_restart) {
      any_started = true;
      all_done = false;
      continue;
    }
    if (c.state == ContainerRecord::State::kTerminated) {
      any_started = true;
      if (!c.terminated.has_value() || c.terminated->exit_code != 0) {
        all_zero = false;
      }
      continue;
    }
    all_done = false;  // waiting, never started
  }
  if (!any_started) {
    return "Pending";
  }
  if (!all_done) {
    return "Running";
  }
  return all_zero ? "Succeeded" : "Failed";
}

}  // namespace npushare::kubelet_sim
