#include "sim/kubelet/pod_worker.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"
#include "sim/kubelet/container_spec_builder.h"

namespace npushare::kubelet_sim {

using kube::Field;
using kube::StringField;
using nlohmann::json;
using State = ContainerRecord::State;

namespace {

constexpr int kStartErrorExitCode = 128;  // containerd's exit code for a container that never ran
constexpr int kLostExitCode = 137;

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  const bool created = std::filesystem::create_directories(dir, ec);
  if (ec) {
    return FileSystemError(ec.value(), "mkdir " + dir);
  }
  if (created) {
    std::filesystem::permissions(dir, std::filesystem::perms(0750), ec);
  }
  return OkStatus();
}

}  // namespace

// Slot: one container of the pod and the worker's handle on its current run.
struct PodWorker::Slot {
  bool init = false;
  size_t index = 0;  // into status_.init_containers or status_.containers
  std::string name;
  json spec;
  std::string log_path;
  std::string previous_log_path;
  std::vector<deviceplugin::ContainerAllocation> allocations;
  std::unique_ptr<container_sim::Container> handle;  // worker thread only
  std::optional<std::chrono::steady_clock::time_point> restart_at;
  bool has_run = false;
  bool needs_decision = false;  // a run ended (exit or start error) and restartPolicy must decide
  std::shared_ptr<std::atomic<bool>> running = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::atomic<bool>> has_previous = std::make_shared<std::atomic<bool>>(false);
};

PodWorker::PodWorker(const PodWorkerContext& ctx, json pod)
    : ctx_(ctx),
      uid_(StringField(Field(pod, "metadata"), "uid")),
      namespace_(StringField(Field(pod, "metadata"), "namespace", "default")),
      name_(StringField(Field(pod, "metadata"), "name")),
      key_(namespace_ + "/" + name_),
      pod_(std::move(pod)) {
  const json& spec = Field(pod_, "spec");
  restart_policy_ = StringField(spec, "restartPolicy", "Always");
  if (restart_policy_ != "OnFailure" && restart_policy_ != "Never") {
    restart_policy_ = "Always";
  }
  for (bool init : {true, false}) {
    const json& list = Field(spec, init ? "initContainers" : "containers");
    if (!list.is_array()) {
      continue;
    }
    for (const json& c : list) {
      auto slot = std::make_unique<Slot>();
      slot->init = init;
      slot->name = StringField(c, "name");
      slot->spec = c;
      slot->log_path = PodDir() + "/" + slot->name + ".log";
      slot->previous_log_path = PodDir() + "/" + slot->name + ".previous.log";
      ContainerRecord rec;
      rec.name = slot->name;
      rec.image = StringField(c, "image");
      rec.waiting_reason = init ? "PodInitializing" : "ContainerCreating";
      auto& records = init ? status_.init_containers : status_.containers;
      slot->index = records.size();
      records.push_back(rec);
      (init ? init_slots_ : app_slots_).push_back(std::move(slot));
    }
  }
}

PodWorker::~PodWorker() {
  Shutdown();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void PodWorker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void PodWorker::Update(const json& pod) {
  MutexLock g(&mu_);
  pod_ = pod;
  if (Field(Field(pod, "metadata"), "deletionTimestamp").is_string()) {
    deletion_requested_ = true;
  }
  cv_.NotifyAll();
}

void PodWorker::Gone() {
  MutexLock g(&mu_);
  gone_ = true;
  cv_.NotifyAll();
}

void PodWorker::Shutdown() {
  MutexLock g(&mu_);
  shutdown_ = true;
  cv_.NotifyAll();
}

bool PodWorker::Finished() const {
  MutexLock g(&mu_);
  return finished_;
}

std::optional<LogTarget> PodWorker::FindLog(const std::string& container, bool previous) const {
  for (const auto* slots : {&init_slots_, &app_slots_}) {
    for (const auto& s : *slots) {
      if (s->name != container) {
        continue;
      }
      if (previous) {
        if (!s->has_previous->load()) {
          return std::nullopt;
        }
        return LogTarget{s->previous_log_path, [] { return false; }};
      }
      auto running = s->running;
      return LogTarget{s->log_path, [running] { return running->load(); }};
    }
  }
  return std::nullopt;
}

bool PodWorker::Interrupted() const {
  MutexLock g(&mu_);
  return deletion_requested_ || gone_ || shutdown_;
}

std::string PodWorker::Now() const {
  return kube::FormatRfc3339(ctx_.clock->WallNow(), false);
}

std::string PodWorker::PodDir() const {
  return ctx_.root_dir + "/pods/" + uid_;
}

json PodWorker::PodSnapshot() const {
  MutexLock g(&mu_);
  json p = pod_;
  p["kind"] = "Pod";
  p["apiVersion"] = "v1";
  return p;
}

void PodWorker::Event(const std::string& type, const std::string& reason,
                      const std::string& message) {
  // Best effort, as kubelet's event recorder: a lost event never changes the pod's fate.
  ctx_.client->RecordEvent(PodSnapshot(), type, reason, message, "kubelet").status().IgnoreError();
}

std::chrono::milliseconds PodWorker::GracePeriod() const {
  MutexLock g(&mu_);
  if (shutdown_) {
    return std::chrono::milliseconds(0);
  }
  int64_t seconds = kube::IntField(Field(pod_, "metadata"), "deletionGracePeriodSeconds", -1);
  if (seconds < 0) {
    seconds = kube::IntField(Field(pod_, "spec"), "terminationGracePeriodSeconds", 30);
  }
  seconds = std::clamp<int64_t>(seconds, 0, 3600);
  return std::min(ctx_.max_grace, std::chrono::milliseconds(seconds * 1000));
}

void PodWorker::Run() {
  Prepare();
  if (!terminal_at_start_) {
    Lifecycle();
    if (Interrupted()) {
      KillAll(GracePeriod());
    }
    ReleaseDevices();
    bool write;
    {
      MutexLock g(&mu_);
      write = !gone_ && !shutdown_;
    }
    if (write) {
      Publish();
    }
  }
  WaitForEnd();
  bool finish_delete;
  {
    MutexLock g(&mu_);
    finish_delete = deletion_requested_ && !gone_ && !shutdown_;
  }
  if (finish_delete) {
    // The containers are gone and the devices free: finish the graceful delete, as kubelet does
    // once the pod is terminated. A precondition on the uid keeps a same-named successor safe.
    Status s = ctx_.client->Delete(kube::kPods, namespace_, name_, kube::DeleteOptions{0, uid_});
    if (!s.ok() && !kube::IsNotFound(s) && !kube::IsConflict(s)) {
      fprintf(stderr, "kubelet-sim: delete pod %s: %s\n", key_.c_str(), s.ToString().c_str());
    }
  }
  MutexLock g(&mu_);
  finished_ = true;
}

void PodWorker::Prepare() {
  json status;
  {
    MutexLock g(&mu_);
    status = Field(pod_, "status");
    if (Field(Field(pod_, "metadata"), "deletionTimestamp").is_string()) {
      deletion_requested_ = true;
    }
  }
  const std::string phase = StringField(status, "phase", "Pending");
  if (phase == "Succeeded" || phase == "Failed") {
    terminal_at_start_ = true;
    return;
  }
  MutexLock g(&mu_);
  status_.start_time = StringField(status, "startTime");
  if (status_.start_time.empty()) {
    status_.start_time = Now();
  }
  lost_ = phase == "Running";
  if (!lost_) {
    return;
  }
  // Carry what the API remembers of the previous process's runs.
  std::map<std::string, int> restarts;
  for (const char* field : {"initContainerStatuses", "containerStatuses"}) {
    const json& list = Field(status, field);
    if (!list.is_array()) {
      continue;
    }
    for (const json& cs : list) {
      restarts[StringField(cs, "name")] =
          static_cast<int>(std::clamp<int64_t>(kube::IntField(cs, "restartCount", 0), 0, 1 << 20));
    }
  }
  const std::string now = Now();
  for (auto& rec : status_.init_containers) {
    rec.restart_count = restarts[rec.name];
  }
  for (auto& rec : status_.containers) {
    Terminated lost;
    lost.exit_code = kLostExitCode;
    lost.reason = "ContainerStatusUnknown";
    lost.message = "The container could not be located when the pod was terminated";
    lost.finished_at = now;
    rec.restart_count = restarts[rec.name];
    if (restart_policy_ == "Never") {
      rec.state = State::kTerminated;
      rec.terminated = lost;
    } else {
      rec.last_terminated = lost;
      rec.restart_count += 1;
    }
  }
}

void PodWorker::Lifecycle() {
  if (lost_ && restart_policy_ == "Never") {
    {
      MutexLock g(&mu_);
      status_.phase = "Failed";
      status_.reason = "ContainerStatusUnknown";
      status_.message = "kubelet-sim restarted and lost the pod's containers";
    }
    Event("Warning", "ContainerStatusUnknown", "containers lost when kubelet-sim restarted");
    return;
  }
  Status admitted = Admit();
  if (!admitted.ok()) {
    const std::string message =
        "Allocate failed due to " + admitted.message() + ", which is unexpected";
    {
      MutexLock g(&mu_);
      status_.phase = "Failed";
      status_.reason = "UnexpectedAdmissionError";
      status_.message = message;
    }
    Event("Warning", "UnexpectedAdmissionError", message);
    return;
  }
  Publish();
  for (size_t i = 0; i < init_slots_.size(); ++i) {
    if (!RunInitContainer(i)) {
      return;
    }
  }
  RunAppContainers();
}

Status PodWorker::Admit() {
  MutexLock admission(ctx_.admission_mu);
  KubeletState state = ctx_.devices->State();
  auto is_plugin_resource = [&state](const std::string& name) {
    return state.resources.count(name) > 0;
  };
  std::map<std::string, std::vector<std::string>> reusable;
  for (const auto* slots : {&init_slots_, &app_slots_}) {
    for (const auto& s : *slots) {
      auto requests = ExtendedRequests(s->spec, is_plugin_resource);
      if (!requests.ok()) {
        ReleaseDevices();
        return requests.status();
      }
      for (const auto& r : *requests) {
        auto grant = ctx_.devices->Allocate({.owner = uid_ + "/" + s->name,
                                             .resource_name = r.resource,
                                             .count = r.count,
                                             .reusable = reusable[r.resource]});
        if (!grant.ok()) {
          ReleaseDevices();
          return grant.status();
        }
        s->allocations.push_back(grant->response);
        std::vector<std::string>& reuse = reusable[r.resource];
        if (s->init) {
          // Kubelet: an init container's devices may be reused by the containers after it.
          for (const auto& id : grant->device_ids) {
            if (std::find(reuse.begin(), reuse.end(), id) == reuse.end()) {
              reuse.push_back(id);
            }
          }
        } else {
          std::set<std::string> taken(grant->device_ids.begin(), grant->device_ids.end());
          std::erase_if(reuse, [&taken](const std::string& id) { return taken.count(id) > 0; });
        }
      }
    }
  }
  return OkStatus();
}

void PodWorker::StartSlot(Slot& s) {
  int attempt;
  {
    MutexLock g(&mu_);
    auto& rec = s.init ? status_.init_containers[s.index] : status_.containers[s.index];
    attempt = rec.restart_count;
  }
  if (Status made = MakeDirs(PodDir()); !made.ok()) {
    fprintf(stderr, "kubelet-sim: %s\n", made.ToString().c_str());
  }
  if (s.has_run) {
    std::error_code ec;
    std::filesystem::rename(s.log_path, s.previous_log_path, ec);
    if (!ec) {
      s.has_previous->store(true);
    }
  }
  s.has_run = true;
  const std::string id = ContainerRuntimeId(uid_, s.name, attempt);
  ContainerSpecInputs in;
  json pod = PodSnapshot();
  in.pod = &pod;
  in.container = &s.spec;
  in.allocations = s.allocations;
  in.runtime_id = id;
  in.log_path = s.log_path;
  in.volumes_dir = PodDir() + "/volumes";
  Result<BuiltContainerSpec> built = BuildContainerSpec(in);
  Status started = built.status();
  if (built.ok()) {
    for (const auto& w : built->warnings) {
      Event("Warning", "Unsupported", "container " + s.name + ": " + w);
    }
    for (const auto& dir : built->empty_dirs) {
      if (started.ok()) {
        started = MakeDirs(dir);
      }
    }
    if (started.ok()) {
      auto handle = ctx_.runtime->Start(built->spec);
      if (handle.ok()) {
        s.handle = std::move(*handle);
      } else {
        started = handle.status();
      }
    }
  }
  const std::string now = Now();
  MutexLock g(&mu_);
  auto& rec = s.init ? status_.init_containers[s.index] : status_.containers[s.index];
  rec.container_id = "sim://" + id;
  if (started.ok()) {
    rec.state = State::kRunning;
    rec.started_at = now;
    rec.terminated.reset();
    s.running->store(true);
  } else {
    // containerd reports a container whose process never ran as terminated, StartError, 128.
    rec.state = State::kTerminated;
    rec.terminated = Terminated{kStartErrorExitCode, "StartError", started.message(), now, now,
                                rec.container_id};
    s.needs_decision = true;
  }
}

bool PodWorker::Reap(Slot& s) {
  if (s.handle == nullptr) {
    return false;
  }
  std::optional<int> code = s.handle->ExitCode();
  if (!code.has_value()) {
    return false;
  }
  // Kill after exit is the runtime's cleanup (runc delete, poststop hooks, bundle removed).
  s.handle->Kill(std::chrono::milliseconds(0)).IgnoreError();
  s.handle.reset();
  s.running->store(false);
  s.needs_decision = true;
  const std::string now = Now();
  MutexLock g(&mu_);
  auto& rec = s.init ? status_.init_containers[s.index] : status_.containers[s.index];
  rec.state = State::kTerminated;
  rec.terminated = Terminated{
      *code, *code == 0 ? "Completed" : "Error", "", rec.started_at, now, rec.container_id};
  return true;
}

void PodWorker::ScheduleRestart(Slot& s) {
  int restarts;
  {
    MutexLock g(&mu_);
    auto& rec = s.init ? status_.init_containers[s.index] : status_.containers[s.index];
    restarts = rec.restart_count;
    rec.last_terminated = rec.terminated;
    rec.terminated.reset();
    rec.state = State::kWaiting;
    rec.waiting_reason = "CrashLoopBackOff";
    rec.restart_count += 1;
  }
  auto backoff = ctx_.initial_backoff;
  for (int i = 0; i < restarts && backoff < ctx_.max_backoff; ++i) {
    backoff *= 2;
  }
  backoff = std::min(backoff, ctx_.max_backoff);
  {
    MutexLock g(&mu_);
    auto& rec = s.init ? status_.init_containers[s.index] : status_.containers[s.index];
    rec.waiting_message =
        "back-off " + std::to_string(backoff.count()) + "ms restarting failed container " + s.name;
  }
  s.restart_at = ctx_.clock->Now() + backoff;
}

bool PodWorker::RunInitContainer(size_t i) {
  Slot& s = *init_slots_[i];
  while (true) {
    if (Interrupted()) {
      return false;
    }
    StartSlot(s);
    Publish();
    while (s.handle != nullptr && !Reap(s)) {
      if (Interrupted()) {
        return false;
      }
      WaitTick(std::nullopt);
    }
    s.needs_decision = false;
    int code;
    {
      MutexLock g(&mu_);
      code = status_.init_containers[s.index].terminated.value_or(Terminated{}).exit_code;
    }
    if (code == 0) {
      Publish();
      return true;
    }
    if (restart_policy_ == "Never") {
      MutexLock g(&mu_);
      status_.phase = "Failed";
      return false;
    }
    ScheduleRestart(s);
    Publish();
    Event("Warning", "BackOff", "Back-off restarting failed container " + s.name);
    while (ctx_.clock->Now() < *s.restart_at) {
      if (Interrupted()) {
        return false;
      }
      WaitTick(s.restart_at);
    }
    s.restart_at.reset();
  }
}

void PodWorker::RunAppContainers() {
  for (auto& s : app_slots_) {
    StartSlot(*s);
  }
  while (true) {
    std::optional<std::chrono::steady_clock::time_point> earliest;
    for (auto& s : app_slots_) {
      Reap(*s);
      if (s->needs_decision) {
        // One decision per finished run (exit or start error): restart or settle.
        s->needs_decision = false;
        int code;
        {
          MutexLock g(&mu_);
          code = status_.containers[s->index].terminated.value_or(Terminated{}).exit_code;
        }
        if (restart_policy_ == "Always" || (restart_policy_ == "OnFailure" && code != 0)) {
          ScheduleRestart(*s);
          Event("Warning", "BackOff", "Back-off restarting failed container " + s->name);
        }
      }
      if (s->restart_at.has_value() && ctx_.clock->Now() >= *s->restart_at) {
        s->restart_at.reset();
        StartSlot(*s);
      }
      if (s->restart_at.has_value() && (!earliest || *s->restart_at < *earliest)) {
        earliest = s->restart_at;
      }
    }
    bool terminal;
    {
      MutexLock g(&mu_);
      std::vector<bool> restarting;
      for (auto& s : app_slots_) {
        restarting.push_back(s->restart_at.has_value() || s->needs_decision);
      }
      status_.phase = PodPhaseOf(status_.containers, restarting);
      terminal = status_.phase == "Succeeded" || status_.phase == "Failed";
    }
    if (terminal) {
      return;  // Run() releases the devices first, then writes the terminal status
    }
    Publish();
    if (Interrupted()) {
      return;
    }
    WaitTick(earliest);
  }
}

void PodWorker::KillAll(std::chrono::milliseconds grace) {
  std::vector<std::thread> killers;
  for (const auto* slots : {&init_slots_, &app_slots_}) {
    for (const auto& s : *slots) {
      if (s->handle != nullptr) {
        Slot* raw = s.get();
        killers.emplace_back([raw, grace] { raw->handle->Kill(grace).IgnoreError(); });
      }
    }
  }
  for (auto& t : killers) {
    t.join();
  }
  bool any = false;
  for (const auto* slots : {&init_slots_, &app_slots_}) {
    for (const auto& s : *slots) {
      if (s->handle != nullptr) {
        any = true;
        if (!s->handle->ExitCode().has_value()) {
          s->handle->Wait(std::chrono::milliseconds(1000)).status().IgnoreError();
        }
        // Reap records the exit code (128+signal for a killed container).
        if (!Reap(*s)) {
          s->handle.reset();
          s->running->store(false);
        }
      }
      s->restart_at.reset();
    }
  }
  MutexLock g(&mu_);
  if (any || status_.phase == "Running") {
    std::vector<bool> none(status_.containers.size(), false);
    std::string phase = PodPhaseOf(status_.containers, none);
    status_.phase = phase == "Running" ? "Failed" : phase;
  }
}

void PodWorker::ReleaseDevices() {
  for (const auto* slots : {&init_slots_, &app_slots_}) {
    for (const auto& s : *slots) {
      ctx_.devices->Release(uid_ + "/" + s->name);
    }
  }
}

void PodWorker::Publish() {
  json status;
  std::string phase;
  {
    MutexLock g(&mu_);
    status_.UpdateConditions(Now());
    status = status_.ToJson();
    phase = status_.phase;
  }
  if (status == last_published_) {
    return;
  }
  auto patched =
      ctx_.client->Patch(kube::kPods, namespace_, name_, kube::PatchType::kMerge,
                         {{"status", status}}, {.subresource = "status", .resource_version = ""});
  if (!patched.ok()) {
    const std::string error = patched.status().ToString();
    if (!kube::IsNotFound(patched.status()) && error != last_error_) {
      fprintf(stderr, "kubelet-sim: status of pod %s: %s\n", key_.c_str(), error.c_str());
    }
    last_error_ = error;  // said once; retried at the next change or tick
    return;
  }
  last_error_.clear();
  last_published_ = status;
  if (phase != last_phase_) {
    last_phase_ = phase;
    if (ctx_.on_phase) {
      ctx_.on_phase(key_, phase);
    }
  }
}

void PodWorker::WaitTick(std::optional<std::chrono::steady_clock::time_point> due) {
  if (due.has_value()) {
    // Backoff waits go through the clock seam (a fake clock passes them at once), in slices so a
    // deletion is noticed promptly.
    auto remaining = *due - ctx_.clock->Now();
    if (remaining > std::chrono::nanoseconds(0)) {
      ctx_.clock->SleepFor(std::min<std::chrono::nanoseconds>(remaining, ctx_.poll_interval));
    }
    return;
  }
  MutexLock lock(&mu_);
  cv_.WaitFor(&mu_, ctx_.poll_interval, [this]() NPUSHARE_REQUIRES(mu_) {
    return deletion_requested_ || gone_ || shutdown_;
  });
}

void PodWorker::WaitForEnd() {
  MutexLock lock(&mu_);
  cv_.Wait(&mu_,
           [this]() NPUSHARE_REQUIRES(mu_) { return deletion_requested_ || gone_ || shutdown_; });
}

}  // namespace npushare::kubelet_sim
