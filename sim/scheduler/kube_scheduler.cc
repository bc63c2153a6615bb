#include "sim/scheduler/kube_scheduler.h"

#include <algorithm>
#include <iostream>

#include "kube/objects.h"
#include "kube/resource.h"

namespace npushare::kube_scheduler_sim {
namespace {

using kube::Field;
using kube::StringField;
using nlohmann::json;

std::string NodeName(const json& pod) {
  return StringField(Field(pod, "spec"), "nodeName");
}

bool Terminal(const json& pod) {
  std::string phase = StringField(Field(pod, "status"), "phase");
  return phase == "Succeeded" || phase == "Failed";
}

// WithoutStatus: the pod minus what changes on every status write, to tell a user's change of
// an unschedulable pod (worth a retry) from our own condition update (not).
json WithoutStatus(json pod) {
  pod.erase("status");
  if (pod.contains("metadata") && pod["metadata"].is_object()) {
    pod["metadata"].erase("resourceVersion");
    pod["metadata"].erase("managedFields");
  }
  return pod;
}

// FitMessage: kube-scheduler's FitError text: "0/N nodes are available: <count> <reason>, …."
std::string FitMessage(size_t node_count,
                       const std::map<std::string, std::vector<std::string>>& reasons) {
  if (node_count == 0) {
    return "no nodes available to schedule pods";
  }
  std::map<std::string, int> histogram;
  for (const auto& [node, list] : reasons) {
    for (const auto& r : list) {
      ++histogram[r];
    }
  }
  std::vector<std::string> parts;
  for (const auto& [reason, count] : histogram) {
    parts.push_back(std::to_string(count) + " " + reason);
  }
  std::sort(parts.begin(), parts.end());
  std::string msg = "0/" + std::to_string(node_count) + " nodes are available";
  for (size_t i = 0; i < parts.size(); ++i) {
    msg += (i == 0 ? ": " : ", ") + parts[i];
  }
  return msg + ".";
}

}  // namespace

KubeScheduler::KubeScheduler(kube::KubeClient& client, SchedulerOptions options)
    : client_(client),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : kube::RealClock()) {
  if (!options_.http) {
    options_.http = kube_local::NewCurlOutboundHttp();
  }
  names_.insert(options_.config.scheduler_names.begin(), options_.config.scheduler_names.end());
  ignored_ = options_.config.IgnoredResources();
  for (const auto& x : options_.config.extenders) {
    extenders_.emplace_back(x, *options_.http);
  }
}

KubeScheduler::~KubeScheduler() {
  Stop();
}

Status KubeScheduler::Start(std::chrono::milliseconds sync_timeout) {
  if (started_) {
    return FailedPreconditionError("scheduler already started");
  }
  started_ = true;
  kube::InformerOptions io;
  io.compact = false;  // read on every cycle
  pods_ = std::make_unique<kube::Informer>(client_, kube::kPods, io);
  nodes_ = std::make_unique<kube::Informer>(client_, kube::kNodes, io);
  kube::InformerHandlers ph;
  ph.on_add = [this](const json& p) { OnPodAdd(p); };
  ph.on_update = [this](const json& o, const json& n) { OnPodUpdate(o, n); };
  ph.on_delete = [this](const json& p) { OnPodDelete(p); };
  pods_->AddHandlers(std::move(ph));
  kube::InformerHandlers nh;
  nh.on_add = [this](const json& n) { OnNode(n, false); };
  nh.on_update = [this](const json& o, const json& n) {
    if (o != n) {
      OnNode(n, false);
    }
  };
  nh.on_delete = [this](const json& n) { OnNode(n, true); };
  nodes_->AddHandlers(std::move(nh));
  nodes_->Start();
  pods_->Start();
  if (!nodes_->WaitForSync(sync_timeout) || !pods_->WaitForSync(sync_timeout)) {
    return Status(StatusCode::kDeadlineExceeded, "pod and node caches did not sync");
  }
  schedule_thread_ = std::thread([this] { ScheduleLoop(); });
  for (int i = 0; i < std::max(1, options_.bind_threads); ++i) {
    bind_threads_.emplace_back([this] { BindLoop(); });
  }
  return OkStatus();
}

void KubeScheduler::Stop() {
  if (!started_) {
    return;
  }
  // Informers first: their handlers take mu_ and must not run once the loops are gone.
  if (pods_) {
    pods_->Stop();
  }
  if (nodes_) {
    nodes_->Stop();
  }
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (schedule_thread_.joinable()) {
    schedule_thread_.join();
  }
  for (auto& t : bind_threads_) {
    t.join();
  }
  bind_threads_.clear();
  started_ = false;
}

SchedulerStats KubeScheduler::Stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

bool KubeScheduler::IsOurPending(const json& pod) const {
  const json& spec = Field(pod, "spec");
  return NodeName(pod).empty() && !Terminal(pod) &&
         StringField(Field(pod, "metadata"), "deletionTimestamp").empty() &&
         names_.count(StringField(spec, "schedulerName", "default-scheduler")) != 0;
}

void KubeScheduler::OnNode(const json& node, bool deleted) {
  std::string name = StringField(Field(node, "metadata"), "name");
  {
    MutexLock lock(&mu_);
    if (deleted) {
      node_index_.erase(name);
    } else {
      node_index_[name] = {std::make_shared<const json>(node), NodeAllocatable(node)};
    }
  }
  if (!deleted) {
    OnClusterChange();
  }
}

void KubeScheduler::AddUsageLocked(const std::string& node, const ResourceList& requests,
                                   int sign) {
  NodeUsage& u = usage_[node];
  u.pods += sign;
  for (const auto& [name, v] : requests) {
    u.requested[name] += sign * v;
  }
}

void KubeScheduler::TrackPodLocked(const std::string& key, const json* pod) {
  if (auto it = placed_.find(key); it != placed_.end()) {
    AddUsageLocked(it->second.node, it->second.requests, -1);
    placed_.erase(it);
  }
  bool bound = pod != nullptr && !NodeName(*pod).empty();
  if (bound || pod == nullptr) {
    if (auto it = assumed_.find(key); it != assumed_.end()) {
      AddUsageLocked(it->second.node, it->second.requests, -1);
      assumed_.erase(it);
    }
  }
  if (bound && !Terminal(*pod)) {
    auto req = PodRequests(*pod);
    Placement p{NodeName(*pod), req.ok() ? *req : ResourceList{}};
    AddUsageLocked(p.node, p.requests, +1);
    placed_[key] = std::move(p);
  }
}

void KubeScheduler::OnPodAdd(const json& pod) {
  std::string key = kube::ObjectKey(pod);
  {
    MutexLock lock(&mu_);
    TrackPodLocked(key, &pod);
  }
  if (!IsOurPending(pod)) {
    return;
  }
  {
    MutexLock lock(&mu_);
    if (in_flight_.count(key) == 0 && in_active_.insert(key).second) {
      active_.push_back(key);
    }
  }
  cv_.NotifyAll();
}

void KubeScheduler::OnPodUpdate(const json& old_pod, const json& new_pod) {
  std::string key = kube::ObjectKey(new_pod);
  bool was_bound = !NodeName(old_pod).empty();
  bool bound = !NodeName(new_pod).empty();
  {
    MutexLock lock(&mu_);
    TrackPodLocked(key, &new_pod);
  }
  if (bound) {
    bool freed = !Terminal(old_pod) && Terminal(new_pod);
    {
      MutexLock lock(&mu_);
      if (!was_bound) {
        unschedulable_.erase(key);
        backoff_.erase(key);
        attempts_.erase(key);
        reported_.erase(key);
      }
    }
    if (freed) {
      OnClusterChange();
    }
    return;
  }
  if (!IsOurPending(new_pod)) {
    return;
  }
  if (WithoutStatus(old_pod) == WithoutStatus(new_pod)) {
    return;  // only the status changed (e.g. our own condition): nothing new to try
  }
  {
    MutexLock lock(&mu_);
    ++event_seq_;
    auto it = unschedulable_.find(key);
    if (it != unschedulable_.end()) {
      if (it->second.backoff_until <= clock_.Now()) {
        if (in_active_.insert(key).second) {
          active_.push_back(key);
        }
      } else {
        backoff_[key] = it->second.backoff_until;
      }
      unschedulable_.erase(it);
    } else if (in_flight_.count(key) == 0 && backoff_.count(key) == 0 &&
               in_active_.insert(key).second) {
      active_.push_back(key);
    }
  }
  cv_.NotifyAll();
}

void KubeScheduler::OnPodDelete(const json& pod) {
  std::string key = kube::ObjectKey(pod);
  {
    MutexLock lock(&mu_);
    TrackPodLocked(key, nullptr);
    unschedulable_.erase(key);
    backoff_.erase(key);
    attempts_.erase(key);
    reported_.erase(key);
  }
  if (!NodeName(pod).empty()) {
    OnClusterChange();  // its resources are free again
  }
}

void KubeScheduler::OnClusterChange() {
  {
    MutexLock lock(&mu_);
    ++event_seq_;
    auto now = clock_.Now();
    for (const auto& [key, u] : unschedulable_) {
      if (u.backoff_until <= now) {
        if (in_active_.insert(key).second) {
          active_.push_back(key);
        }
      } else {
        backoff_[key] = u.backoff_until;
      }
    }
    unschedulable_.clear();
  }
  cv_.NotifyAll();
}

std::chrono::steady_clock::duration KubeScheduler::BackoffFor(int attempts) const {
  std::chrono::steady_clock::duration d = options_.config.pod_initial_backoff;
  for (int i = 1; i < attempts && d < options_.config.pod_max_backoff; ++i) {
    d *= 2;
  }
  return std::min<std::chrono::steady_clock::duration>(d, options_.config.pod_max_backoff);
}

void KubeScheduler::ScheduleLoop() {
  MutexLock lock(&mu_);
  while (!stopping_) {
    auto now = clock_.Now();
    auto next = now + std::chrono::seconds(1);
    for (auto it = backoff_.begin(); it != backoff_.end();) {
      if (it->second <= now) {
        if (in_flight_.count(it->first) == 0 && in_active_.insert(it->first).second) {
          active_.push_back(it->first);
        }
        it = backoff_.erase(it);
      } else {
        next = std::min(next, it->second);
        ++it;
      }
    }
    for (auto it = unschedulable_.begin(); it != unschedulable_.end();) {
      auto flush_at = it->second.since + options_.unschedulable_flush;
      if (flush_at <= now) {
        if (in_active_.insert(it->first).second) {
          active_.push_back(it->first);
        }
        it = unschedulable_.erase(it);
      } else {
        next = std::min(next, flush_at);
        ++it;
      }
    }
    if (active_.empty()) {
      // Real time bounded by the next deadline on `clock_` (at most 1 s, so a fake clock
      // that jumps is noticed).
      cv_.WaitFor(&mu_, std::max<std::chrono::steady_clock::duration>(
                            next - now, std::chrono::milliseconds(1)));
      continue;
    }
    std::string key = active_.front();
    active_.pop_front();
    in_active_.erase(key);
    if (in_flight_.count(key) != 0) {
      continue;
    }
    in_flight_.insert(key);
    uint64_t seq = event_seq_;
    ++stats_.attempts;
    lock.Unlock();
    std::string message;
    Outcome outcome = ScheduleOne(key, &message);
    lock.Lock();
    if (outcome == Outcome::kDone) {
      in_flight_.erase(key);
    } else if (outcome == Outcome::kUnschedulable || outcome == Outcome::kError) {
      lock.Unlock();
      Requeue(key, outcome, seq);
      lock.Lock();
    }
  }
}

void KubeScheduler::Requeue(const std::string& key, Outcome outcome, uint64_t cycle_event_seq) {
  MutexLock lock(&mu_);
  in_flight_.erase(key);
  if (stopping_) {
    return;
  }
  int attempts = ++attempts_[key];
  auto now = clock_.Now();
  auto until = now + BackoffFor(attempts);
  if (outcome == Outcome::kUnschedulable) {
    ++stats_.unschedulable;
  } else {
    ++stats_.errors;
  }
  if (outcome == Outcome::kError || event_seq_ != cycle_event_seq) {
    backoff_[key] = until;  // an error, or the cluster changed meanwhile: retry after backoff
  } else {
    unschedulable_[key] = {until, now};
  }
  cv_.NotifyAll();
}

KubeScheduler::Outcome KubeScheduler::ScheduleOne(const std::string& key, std::string* message) {
  auto cached = pods_->Get(key);
  if (!cached || !IsOurPending(*cached)) {
    return Outcome::kDone;
  }
  const json& pod = *cached;
  auto requests = PodRequests(pod);
  if (!requests.ok()) {
    *message = requests.status().message();
    ReportFailure(pod, "Unschedulable", *message);
    return Outcome::kUnschedulable;
  }
  // In-tree filters under the lock, over the indexed nodes and usage (no copies, no parsing);
  // extender calls happen after it is released.
  std::map<std::string, std::vector<std::string>> reasons;
  std::vector<std::shared_ptr<const json>> candidates;
  std::map<std::string, int64_t> score;  // in-tree (least-allocated) score of feasible nodes
  size_t node_count = 0;
  {
    MutexLock lock(&mu_);
    if (assumed_.count(key) != 0) {
      return Outcome::kDone;  // bound a moment ago; the informer has not caught up
    }
    node_count = node_index_.size();
    static const NodeUsage kIdle;
    for (const auto& [name, entry] : node_index_) {
      auto u = usage_.find(name);
      const NodeUsage& usage = u != usage_.end() ? u->second : kIdle;
      auto why = CheckNodeFit(pod, *requests, *entry.node, entry.allocatable, usage, ignored_);
      if (why.empty()) {
        candidates.push_back(entry.node);
        score[name] = LeastAllocatedScore(*requests, entry.allocatable, usage);
      } else {
        reasons[name] = std::move(why);
      }
    }
  }
  std::vector<const json*> feasible;
  for (const auto& n : candidates) {
    feasible.push_back(n.get());
  }
  for (const auto& ext : extenders_) {
    if (feasible.empty()) {
      break;
    }
    if (!ext.IsFilter()) {
      continue;
    }
    if (!ext.IsInterested(pod)) {
      MutexLock lock(&mu_);
      ++stats_.extender_skipped;
      continue;
    }
    {
      MutexLock lock(&mu_);
      ++stats_.extender_filter_calls;
    }
    auto result = ext.Filter(pod, feasible);
    if (!result.ok()) {
      if (ext.config().ignorable) {
        std::cerr << "kube-scheduler-sim: skipping ignorable extender " << ext.name() << ": "
                  << result.status().ToString() << "\n";
        continue;
      }
      *message = "extender " + ext.name() + ": " + result.status().message();
      ReportFailure(pod, "SchedulerError", *message);
      return Outcome::kError;
    }
    std::set<std::string> passed(result->node_names.begin(), result->node_names.end());
    std::vector<const json*> next;
    for (const json* node : feasible) {
      std::string name = StringField(Field(*node, "metadata"), "name");
      if (passed.count(name) != 0) {
        next.push_back(node);
        continue;
      }
      std::string why = result->unresolvable.count(name) ? result->unresolvable[name]
                        : result->failed.count(name)     ? result->failed[name]
                                                         : "node(s) were filtered out by an "
                                                           "extender";
      reasons[name].push_back(why);
    }
    feasible = std::move(next);
  }
  if (feasible.empty()) {
    *message = FitMessage(node_count, reasons);
    ReportFailure(pod, "Unschedulable", *message);
    return Outcome::kUnschedulable;
  }
  std::string chosen = StringField(Field(*feasible[0], "metadata"), "name");
  if (feasible.size() > 1) {
    for (const auto& ext : extenders_) {
      if (!ext.IsPrioritizer() || !ext.IsInterested(pod)) {
        continue;
      }
      auto scores = ext.Prioritize(pod, feasible);
      if (!scores.ok()) {
        continue;  // prioritize errors are ignored, as upstream
      }
      for (const auto& [host, s] : *scores) {
        if (score.count(host) != 0) {
          score[host] += s * ext.config().weight * 10;
        }
      }
    }
    int64_t best = -1;
    for (const json* node : feasible) {  // name order: the first of equals wins
      std::string name = StringField(Field(*node, "metadata"), "name");
      if (score[name] > best) {
        best = score[name];
        chosen = name;
      }
    }
  }
  BindTask task;
  task.key = key;
  task.pod = pod;
  task.node = chosen;
  for (const auto& ext : extenders_) {
    if (ext.IsBinder() && ext.IsInterested(pod)) {
      task.binder = &ext;
      break;
    }
  }
  {
    MutexLock lock(&mu_);
    assumed_[key] = {chosen, *requests};
    AddUsageLocked(chosen, *requests, +1);
    bind_queue_.push_back(std::move(task));
  }
  cv_.NotifyAll();
  return Outcome::kBinding;
}

void KubeScheduler::BindLoop() {
  MutexLock lock(&mu_);
  while (true) {
    cv_.Wait(&mu_, [this]() NPUSHARE_REQUIRES(mu_) { return stopping_ || !bind_queue_.empty(); });
    if (stopping_) {
      return;
    }
    BindTask task = std::move(bind_queue_.front());
    bind_queue_.pop_front();
    lock.Unlock();
    Bind(std::move(task));
    lock.Lock();
  }
}

void KubeScheduler::Bind(BindTask task) {
  const json& meta = Field(task.pod, "metadata");
  std::string ns = StringField(meta, "namespace");
  std::string name = StringField(meta, "name");
  std::string uid = StringField(meta, "uid");
  Status bound = OkStatus();
  bool done = false;
  if (task.binder != nullptr) {
    {
      MutexLock lock(&mu_);
      ++stats_.extender_bind_calls;
    }
    bound = task.binder->Bind(ns, name, uid, task.node);
    done = bound.ok() || !task.binder->config().ignorable;
    if (!bound.ok() && !done) {
      std::cerr << "kube-scheduler-sim: ignorable extender " << task.binder->name()
                << " failed to bind " << task.key << ": " << bound.ToString()
                << "; binding directly\n";
    }
  }
  if (!done) {
    bound = client_.Bind(ns, name, task.node, {}, uid);
  }
  if (!bound.ok()) {
    {
      MutexLock lock(&mu_);
      if (auto it = assumed_.find(task.key); it != assumed_.end()) {
        AddUsageLocked(it->second.node, it->second.requests, -1);
        assumed_.erase(it);
      }
    }
    ReportFailure(task.pod, "SchedulerError", "binding rejected: " + bound.message());
    Requeue(task.key, Outcome::kError, 0);
    return;
  }
  {
    MutexLock lock(&mu_);
    in_flight_.erase(task.key);
    attempts_.erase(task.key);
    reported_.erase(task.key);
    ++stats_.scheduled;
  }
  std::string component =
      StringField(Field(task.pod, "spec"), "schedulerName", "default-scheduler");
  client_
      .RecordEvent(task.pod, "Normal", "Scheduled",
                   "Successfully assigned " + ns + "/" + name + " to " + task.node, component)
      .status()
      .IgnoreError();  // an event is best effort, as in kube-scheduler
}

void KubeScheduler::ReportFailure(const json& pod, const std::string& reason,
                                  const std::string& message) {
  std::string key = kube::ObjectKey(pod);
  {
    MutexLock lock(&mu_);
    auto& last = reported_[key];
    if (last == reason + "\n" + message) {
      return;  // condition and event already say so
    }
    last = reason + "\n" + message;
  }
  const json& meta = Field(pod, "metadata");
  std::string ns = StringField(meta, "namespace");
  std::string name = StringField(meta, "name");
  json condition = {{"type", "PodScheduled"},
                    {"status", "False"},
                    {"reason", reason},
                    {"message", message},
                    {"lastProbeTime", nullptr},
                    {"lastTransitionTime", kube::FormatRfc3339(clock_.WallNow(), false)}};
  kube::PatchOptions po;
  po.subresource = "status";
  auto patched = client_.Patch(kube::kPods, ns, name, kube::PatchType::kStrategicMerge,
                               {{"status", {{"conditions", {condition}}}}}, po);
  if (!patched.ok() && patched.status().code() != StatusCode::kNotFound) {
    std::cerr << "kube-scheduler-sim: cannot update condition of " << key << ": "
              << patched.status().ToString() << "\n";
  }
  std::string component = StringField(Field(pod, "spec"), "schedulerName", "default-scheduler");
  client_.RecordEvent(pod, "Warning", "FailedScheduling", message, component)
      .status()
      .IgnoreError();  // best effort
}

}  // namespace npushare::kube_scheduler_sim
