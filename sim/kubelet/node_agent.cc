#include "sim/kubelet/node_agent.h"

#include <cstdio>

#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"

namespace npushare::kubelet_sim {

using kube::Field;
using kube::StringField;
using nlohmann::json;

namespace {

using DeviceCounts = std::map<std::string, std::pair<size_t, size_t>>;  // capacity, allocatable

DeviceCounts CountsOf(const KubeletState& state) {
  DeviceCounts out;
  for (const auto& [name, r] : state.resources) {
    out[name] = {r.capacity(), r.allocatable()};
  }
  return out;
}

constexpr auto kHeartbeatSlice = std::chrono::milliseconds(200);

}  // namespace

NodeAgent::NodeAgent(kube::KubeClient& client, KubeletSim& devices,
                     container_sim::ContainerRuntime& runtime, NodeAgentOptions options,
                     kube::Clock& clock)
    : client_(client),
      devices_(devices),
      runtime_(runtime),
      options_(std::move(options)),
      clock_(clock) {}

NodeAgent::~NodeAgent() {
  Stop();
}

Status NodeAgent::Start() {
  if (options_.node_name.empty() || options_.root_dir.empty()) {
    return InvalidArgumentError("the node agent needs a node name and a root directory");
  }
  logs_ = std::make_unique<ContainerLogsServer>([this](const LogKey& key) { return FindLog(key); });
  NPUSHARE_ASSIGN_OR_RETURN(port_, logs_->Start(options_.logs_address, options_.logs_port));
  if (Status s = RegisterNode(); !s.ok()) {
    logs_->Stop();
    return s.WithContext("register node " + options_.node_name);
  }
  started_.store(true);
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });

  kube::InformerOptions io;
  io.field_selector = "spec.nodeName=" + options_.node_name;
  io.compact = false;  // one node's pods: few objects, read often
  pods_ = std::make_unique<kube::Informer>(client_, kube::kPods, io);
  kube::InformerHandlers handlers;
  handlers.on_add = [this](const json& pod) { OnPod(pod); };
  handlers.on_update = [this](const json&, const json& pod) { OnPod(pod); };
  handlers.on_delete = [this](const json& pod) { OnPodGone(pod); };
  pods_->AddHandlers(std::move(handlers));
  pods_->Start();
  return OkStatus();
}

void NodeAgent::Stop() {
  {
    MutexLock g(&mu_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
  }
  if (pods_ != nullptr) {
    pods_->Stop();  // no handler runs after this
  }
  stop_heartbeat_.store(true);
  if (heartbeat_.joinable()) {
    heartbeat_.join();
  }
  std::map<std::string, std::unique_ptr<PodWorker>> workers;
  {
    MutexLock g(&mu_);
    workers.swap(workers_);
  }
  for (auto& [uid, w] : workers) {
    w->Shutdown();  // all at once, then join each in the destructor
  }
  workers.clear();
  if (logs_ != nullptr) {
    logs_->Stop();
  }
}

std::optional<LogTarget> NodeAgent::FindLog(const LogKey& key) const {
  const std::string wanted = key.namespace_name + "/" + key.pod;
  MutexLock g(&mu_);
  const PodWorker* best = nullptr;
  for (const auto& [uid, w] : workers_) {
    if (w->key() == wanted && (best == nullptr || !w->Finished())) {
      best = w.get();
    }
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  return best->FindLog(key.container, key.previous);
}

NodeAgentStats NodeAgent::Stats() const {
  MutexLock g(&mu_);
  return stats_;
}

Status NodeAgent::RegisterNode() {
  std::map<std::string, std::string> labels = options_.labels;
  labels["kubernetes.io/hostname"] = options_.node_name;
  labels["kubernetes.io/os"] = "linux";
  labels["kubernetes.io/arch"] = "amd64";
  json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", options_.node_name}, {"labels", labels}}},
               {"spec", json::object()}};
  auto created = client_.Create(kube::kNodes, "", node);
  if (!created.ok()) {
    if (!kube::IsAlreadyExists(created.status())) {
      return created.status();
    }
    // A Node left by an earlier run: take it over, as a restarted kubelet does.
    NPUSHARE_RETURN_IF_ERROR(client_
                                 .Patch(kube::kNodes, "", options_.node_name,
                                        kube::PatchType::kMerge,
                                        {{"metadata", {{"labels", labels}}}})
                                 .status());
  }
  ready_since_ = kube::FormatRfc3339(clock_.WallNow(), false);
  return WriteNodeStatus(CountsOf(devices_.State()));
}

Status NodeAgent::WriteNodeStatus(const DeviceCounts& devices) {
  json capacity = {{"cpu", options_.cpu}, {"memory", options_.memory}, {"pods", options_.pods}};
  json allocatable = capacity;
  for (const auto& [name, counts] : devices) {
    capacity[name] = std::to_string(counts.first);
    allocatable[name] = std::to_string(counts.second);
  }
  const std::string now = kube::FormatRfc3339(clock_.WallNow(), false);
  json status = {
      {"capacity", capacity},
      {"allocatable", allocatable},
      {"conditions", json::array({{{"type", "Ready"},
                                   {"status", "True"},
                                   {"reason", "KubeletReady"},
                                   {"message", "kubelet-sim is posting ready status"},
                                   {"lastHeartbeatTime", now},
                                   {"lastTransitionTime", ready_since_}}})},
      {"addresses", json::array({{{"type", "InternalIP"}, {"address", "127.0.0.1"}},
                                 {{"type", "Hostname"}, {"address", options_.node_name}}})},
      {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", port_}}}}},
      {"nodeInfo",
       {{"kubeletVersion", "v1.29.0-npushare-sim"},
        {"containerRuntimeVersion", options_.container_runtime_version},
        {"operatingSystem", "linux"},
        {"architecture", "amd64"}}}};
  NPUSHARE_RETURN_IF_ERROR(client_
                               .Patch(kube::kNodes, "", options_.node_name, kube::PatchType::kMerge,
                                      {{"status", status}},
                                      {.subresource = "status", .resource_version = ""})
                               .status());
  const auto written_at = clock_.Now();
  MutexLock g(&mu_);
  ++stats_.node_status_writes;
  written_devices_ = devices;
  written_at_ = written_at;
  return OkStatus();
}

void NodeAgent::HeartbeatLoop() {
  // Start from what registration wrote and when, not from the state and time this thread
  // starts at: a change or a period passing in between must still be written.
  DeviceCounts published;
  std::chrono::steady_clock::time_point next;
  {
    MutexLock g(&mu_);
    published = written_devices_;
    next = written_at_ + options_.heartbeat_interval;
  }
  while (!stop_heartbeat_.load()) {
    DeviceCounts now;
    // Wakes on every KubeletSim change (a ListAndWatch update) or after a short slice.
    devices_.WaitFor(
        [&](const KubeletState& st) {
          now = CountsOf(st);
          return now != published || stop_heartbeat_.load();
        },
        kHeartbeatSlice);
    if (stop_heartbeat_.load()) {
      break;
    }
    if (now != published || clock_.Now() >= next) {
      Status s = WriteNodeStatus(now);
      if (s.ok()) {
        published = now;
        next = clock_.Now() + options_.heartbeat_interval;
      } else {
        fprintf(stderr, "kubelet-sim: node status: %s\n", s.ToString().c_str());
      }
    }
  }
}

void NodeAgent::OnPod(const json& pod) {
  if (StringField(Field(pod, "spec"), "nodeName") != options_.node_name) {
    return;
  }
  const std::string uid = StringField(Field(pod, "metadata"), "uid");
  if (uid.empty()) {
    return;
  }
  MutexLock g(&mu_);
  if (stopping_) {
    return;
  }
  ReapFinishedLocked();
  auto it = workers_.find(uid);
  if (it != workers_.end()) {
    it->second->Update(pod);
    return;
  }
  PodWorkerContext ctx;
  ctx.client = &client_;
  ctx.devices = &devices_;
  ctx.runtime = &runtime_;
  ctx.clock = &clock_;
  ctx.admission_mu = &admission_mu_;
  ctx.root_dir = options_.root_dir;
  ctx.poll_interval = options_.poll_interval;
  ctx.initial_backoff = options_.initial_backoff;
  ctx.max_backoff = options_.max_backoff;
  ctx.max_grace = options_.max_grace;
  ctx.on_phase = options_.on_phase;
  auto worker = std::make_unique<PodWorker>(ctx, pod);
  worker->Start();
  workers_[uid] = std::move(worker);
  ++stats_.pods_seen;
}

void NodeAgent::OnPodGone(const json& pod) {
  const std::string uid = StringField(Field(pod, "metadata"), "uid");
  MutexLock g(&mu_);
  auto it = workers_.find(uid);
  if (it != workers_.end()) {
    it->second->Gone();
  }
  ReapFinishedLocked();
}

void NodeAgent::ReapFinishedLocked() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->second->Finished()) {
      it = workers_.erase(it);  // the thread has returned: the join is immediate
    } else {
      ++it;
    }
  }
}

}  // namespace npushare::kubelet_sim
