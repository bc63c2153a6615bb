// File: sim/kubelet/pod_status.h
//
// The kubelet stand-in's record of one pod's status, and its rendering as the core/v1 PodStatus
// JSON written through the pods/status subresource:
//   ContainerRecord   one container's state (waiting / running / terminated), restart count,
//                     last termination, as kubelet reports it in containerStatuses;
//   PodStatusRecord   phase, reason/message, startTime, conditions with their transition
//                     times, init and app container records;
//   PodPhaseOf        kubelet's getPhase for the app containers once the pod is initialized.
// Timestamps are RFC 3339 strings taken from the caller's clock, so a rendering is a pure
// function of the record (the same record renders the same JSON: callers skip unchanged writes).
//
// Thread safety: plain values; no internal synchronization.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace npushare::kubelet_sim {

// Terminated: one finished run of a container.
struct Terminated {
  int exit_code = 0;
  std::string reason;  // "Completed" (0), "Error", "StartError", "ContainerStatusUnknown"
  std::string message;
  std::string started_at;
  std::string finished_at;
  std::string container_id;
};

// ContainerRecord: one container as containerStatuses / initContainerStatuses shows it.
struct ContainerRecord {
  enum class State { kWaiting, kRunning, kTerminated };
  std::string name;
  std::string image;
  State state = State::kWaiting;
  std::string waiting_reason = "ContainerCreating";  // PodInitializing, CrashLoopBackOff, ...
  std::string waiting_message;
  std::string started_at;                     // of the current run (running)
  std::string container_id;                   // "sim://<runtime id>" of the current or last run
  std::optional<Terminated> terminated;       // state == kTerminated
  std::optional<Terminated> last_terminated;  // the run before the current state
  int restart_count = 0;

  nlohmann::json ToJson() const;
};

// PodStatusRecord: everything rendered into the pod's status.
struct PodStatusRecord {
  std::string phase = "Pending";
  std::string reason;   // e.g. "UnexpectedAdmissionError"; empty: none
  std::string message;  // empty: none
  std::string start_time;
  std::string pod_ip = "127.0.0.1";
  std::vector<ContainerRecord> init_containers;
  std::vector<ContainerRecord> containers;
  // conditions: type -> (status "True"/"False", lastTransitionTime, reason).
  struct Condition {
    std::string status;
    std::string last_transition_time;
    std::string reason;
  };
  std::map<std::string, Condition> conditions;

  // SetCondition: records `type` as True/False; the transition time changes only when the
  // value does (as kubelet's status manager keeps it).
  void SetCondition(const std::string& type, bool value, const std::string& now,
                    const std::string& reason = {});
  // UpdateConditions: Initialized / ContainersReady / Ready / PodScheduled from the records
  // (Ready = every app container running; terminal pods are not Ready, reason PodCompleted).
  void UpdateConditions(const std::string& now);
  // ToJson: the PodStatus object. Absent reason/message are explicit nulls so that a merge
  // patch of the result clears an older value.
  nlohmann::json ToJson() const;
};

// PodPhaseOf: kubelet's phase for initialized app containers: Running while any container runs
// or will be restarted (`restarting`), else Succeeded when every container exited 0, else
// Failed. Pending when no container has started yet.
std::string PodPhaseOf(const std::vector<ContainerRecord>& containers,
                       const std::vector<bool>& restarting);

}  // namespace npushare::kubelet_sim
