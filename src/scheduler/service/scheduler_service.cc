#include "scheduler/service/scheduler_service.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <iostream>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/file_reader.h"
#include "common/thread_annotations.h"
#include "config/config_loader.h"
#include "hami/pod_devices.h"
#include "hami/scheduler_policy.h"
#include "kube/api_error.h"
#include "kube/informer.h"
#include "kube/node_lock_client.h"
#include "kube/objects.h"
#include "scheduler/service/annotation_writer.h"
#include "scheduler/service/cached_node_lock.h"
#include "scheduler/service/cluster_cache.h"
#include "scheduler/service/extender_json.h"
#include "scheduler/service/metrics_text.h"
#include "scheduling/pod_filter.h"
#include "scheduling/pod_json.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;

// How often the background loop wakes up (real time) to look at the clock.
constexpr std::chrono::milliseconds kLoopGranularity{50};
// How long Bind waits for the background write of its pod's filter annotations (a write is
// one API call; kube-scheduler's extender httpTimeout defaults to 30 s).
constexpr std::chrono::milliseconds kAnnotationWriteWait{10000};

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// CivilSeconds: unix seconds + the local zone's UTC offset (hami/handshake.h).
int64_t CivilSeconds(std::chrono::system_clock::time_point t) {
  const int64_t unix_s = UnixSeconds(t);
  const time_t tt = static_cast<time_t>(unix_s);
  struct tm local {};
  if (localtime_r(&tt, &local) == nullptr) {
    return unix_s;
  }
  return unix_s + local.tm_gmtoff;
}

#ifndef NPUSHARE_VERSION
#define NPUSHARE_VERSION "unknown"
#endif
#if defined(__aarch64__)
constexpr char kPlatform[] = "linux/arm64";
#else
constexpr char kPlatform[] = "linux/amd64";
#endif

bool ParsePolicy(const std::string& s, hami::NodePolicy& out) {
  if (s == "binpack") {
    out = hami::NodePolicy::kBinpack;
    return true;
  }
  if (s == "spread") {
    out = hami::NodePolicy::kSpread;
    return true;
  }
  return false;
}

enum FilterResultKind { kScheduled, kUnschedulable, kNoNpu, kFilterError, kFilterKinds };
constexpr const char* kFilterResultNames[] = {"scheduled", "unschedulable", "no_npu_request",
                                              "error"};
enum BindResultKind { kBound, kBindFailed, kNotLeader, kBindKinds };
constexpr const char* kBindResultNames[] = {"success", "error", "not_leader"};

}  // namespace

class SchedulerService::Impl {
 public:
  Impl(kube::KubeClient& client, kube::Clock& clock, SchedulerServiceOptions options,
       std::shared_ptr<const config::DeviceConfig> config, std::string config_text)
      : client_(client),
        clock_(clock),
        options_(std::move(options)),
        cache_(std::move(config), CacheOptions(options_), [this](const std::string& l) { Log(l); }),
        locks_(client, clock, LockOptions(options_)),
        writer_(
            [this](const PodAnnotationWrite& w) { return WriteAnnotations(w); },
            [this](const PodAnnotationWrite& w, const Status& s) {
              // The pod keeps no annotations, so it must not keep the capacity either.
              cache_.Unassume(w.key, w.token);
              Log("writing the filter annotations of pod " + w.key + " failed: " + s.ToString());
            }),
        config_text_(std::move(config_text)) {
    ParsePolicy(options_.node_policy, node_policy_);
  }

  ~Impl() { Stop(); }

  static ClusterCacheOptions CacheOptions(const SchedulerServiceOptions& o) {
    ClusterCacheOptions c;
    c.assume_ttl = o.assume_ttl;
    c.node_label_selector = o.node_label_selector;
    return c;
  }

  static kube::NodeLockOptions LockOptions(const SchedulerServiceOptions& o) {
    kube::NodeLockOptions l;
    l.timeout_seconds = o.node_lock_timeout.count();
    return l;
  }

  void Log(const std::string& line) const {
    if (options_.log) {
      options_.log(line);
    } else {
      std::cerr << "scheduler: " << line << "\n";
    }
  }

  Status Start() {
    kube::InformerOptions node_opts;
    node_opts.page_size = options_.informer_page_size;
    node_opts.compact = true;
    nodes_ = std::make_unique<kube::Informer>(client_, kube::kNodes, node_opts);
    kube::InformerHandlers nh;
    nh.on_add = [this](const json& n) { cache_.UpsertNode(n, CivilSeconds(clock_.WallNow())); };
    nh.on_update = [this](const json&, const json& n) {
      cache_.UpsertNode(n, CivilSeconds(clock_.WallNow()));
    };
    nh.on_delete = [this](const json& n) { cache_.DeleteNode(n); };
    nodes_->AddHandlers(std::move(nh));

    kube::InformerOptions pod_opts;
    pod_opts.page_size = options_.informer_page_size;
    pod_opts.compact = true;
    pods_ = std::make_unique<kube::Informer>(client_, kube::kPods, pod_opts);
    kube::InformerHandlers ph;
    ph.on_add = [this](const json& p) { cache_.UpsertPod(p); };
    ph.on_update = [this](const json&, const json& p) { cache_.UpsertPod(p); };
    ph.on_delete = [this](const json& p) { cache_.DeletePod(p); };
    pods_->AddHandlers(std::move(ph));

    // Pods first: usage is indexed by node name, so nodes arriving later find it.
    pods_->Start();
    nodes_->Start();
    writer_.Start();
    loop_ = std::thread([this] { Loop(); });
    const auto deadline = std::chrono::steady_clock::now() + options_.sync_timeout;
    const auto remaining = [&deadline] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
    };
    if (!pods_->WaitForSync(options_.sync_timeout) || !nodes_->WaitForSync(remaining())) {
      return Status(StatusCode::kDeadlineExceeded, "informers not synced within the sync timeout");
    }
    return OkStatus();
  }

  void Stop() {
    {
      MutexLock lock(&loop_mu_);
      if (stopping_) {
        return;
      }
      stopping_ = true;
    }
    loop_cv_.NotifyAll();
    if (loop_.joinable()) {
      loop_.join();
    }
    writer_.Stop();  // finishes queued writes: a pod already answered gets its annotations
    if (nodes_) {
      nodes_->Stop();
    }
    if (pods_) {
      pods_->Stop();
    }
  }

  bool Stopped() {
    MutexLock lock(&loop_mu_);
    return stopping_;
  }

  // Ready: both informers synced. HasSynced turns true only after the handlers have seen the
  // first list, so the cache built by them is complete (no under-counted usage).
  bool Ready() const { return nodes_ && pods_ && nodes_->HasSynced() && pods_->HasSynced(); }

  // ------------------------------------------------------------------ background loop

  void Loop() {
    auto next_tick = clock_.Now();
    auto next_config = clock_.Now() + options_.config_poll_period;
    MutexLock lock(&loop_mu_);
    while (!stopping_) {
      const bool forced = std::exchange(tick_now_, false);
      lock.Unlock();
      const auto now = clock_.Now();
      if ((forced || now >= next_tick) && Ready()) {
        RunHandshake();
        next_tick = now + options_.register_tick;
      }
      cache_.ExpireAssumed(now);
      if (now >= next_config) {
        ReloadConfig().IgnoreError();  // logged and recorded inside
        next_config = now + options_.config_poll_period;
      }
      lock.Lock();
      loop_cv_.WaitFor(&loop_mu_, kLoopGranularity,
                       [this]() NPUSHARE_REQUIRES(loop_mu_) { return stopping_ || tick_now_; });
    }
  }

  void RunHandshake() {
    std::vector<HandshakePatch> patches = cache_.HandshakeTick(CivilSeconds(clock_.WallNow()));
    if (!leader_.load()) {
      return;  // the leader stamps; followers only judge liveness from what it wrote
    }
    for (const auto& p : patches) {
      json value = p.value ? json(*p.value) : json(nullptr);
      json patch = {{"metadata", {{"annotations", {{p.key, value}}}}}};
      auto r = client_.Patch(kube::kNodes, "", p.node, kube::PatchType::kMerge, patch);
      if (!r.ok()) {
        Log("node " + p.node + ": handshake patch of " + p.key +
            " failed: " + r.status().ToString());
      }
    }
  }

  // ------------------------------------------------------------------ config

  Status ReloadConfig() {
    MutexLock lock(&config_mu_);
    auto text = ReadFileLimited(options_.device_config_file, config::kMaxConfigFileBytes);
    if (text.ok() && *text == config_text_) {
      return OkStatus();
    }
    Result<config::DeviceConfig> loaded =
        text.ok() ? config::ParseDeviceConfig(*text, options_.device_config_file, nullptr)
                  : Result<config::DeviceConfig>(text.status());
    if (!loaded.ok()) {
      config_reload_failures_.fetch_add(1);
      // Report each bad version once, not on every poll.
      const std::string fingerprint = text.ok() ? *text : loaded.status().ToString();
      if (fingerprint != last_bad_config_) {
        last_bad_config_ = fingerprint;
        const std::string msg =
            "device config " + options_.device_config_file +
            " rejected, keeping the last good one: " + loaded.status().ToString();
        Log(msg);
        RecordConfigEvent(msg);
      }
      return loaded.status();
    }
    auto config = std::make_shared<config::DeviceConfig>(std::move(*loaded));
    config->hami_vnpu_core = config->hami_vnpu_core || options_.hami_vnpu_core_global;
    cache_.SetConfig(std::move(config));
    config_text_ = std::move(*text);
    last_bad_config_.clear();
    config_reloads_.fetch_add(1);
    Log("device config " + options_.device_config_file + " reloaded");
    return OkStatus();
  }

  void RecordConfigEvent(const std::string& message) {
    json involved;
    if (!options_.pod_name.empty()) {
      involved = {
          {"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", options_.pod_name}, {"namespace", options_.event_namespace}}}};
    } else {
      std::string name = options_.device_config_file;
      name = name.substr(name.find_last_of('/') + 1);
      std::replace_if(
          name.begin(), name.end(),
          [](char c) { return !(std::isalnum(static_cast<unsigned char>(c)) || c == '-'); }, '-');
      involved = {{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata",
                   {{"name", name.empty() ? "device-config" : name},
                    {"namespace", options_.event_namespace}}}};
    }
    auto r = client_.RecordEvent(involved, "Warning", "DeviceConfigInvalid", message,
                                 options_.scheduler_name);
    if (!r.ok()) {
      Log("could not record the config event: " + r.status().ToString());
    }
  }

  // ------------------------------------------------------------------ filter

  Result<json> Filter(const json& body) {
    const auto start = clock_.Now();
    NPUSHARE_ASSIGN_OR_RETURN(FilterArgs args, ParseFilterArgs(body));
    json result = FilterParsed(args);
    filter_latency_.Observe(clock_.Now() - start);
    return result;
  }

  // FilterSplit: the HTTP layer's split args; NodeNames go straight to FilterParsed. A body
  // with only Nodes (not nodeCacheCapable) takes the JSON path, which reads Nodes.items.
  Result<json> FilterSplit(ExtenderFilterArgs split) {
    if (!split.node_names) {
      json body = json::object();
      body["Pod"] = std::move(split.pod);
      body["Nodes"] = std::move(split.nodes);
      body["NodeNames"] = nullptr;
      return Filter(body);
    }
    const auto start = clock_.Now();
    if (!split.pod.is_object()) {
      return InvalidArgumentError("ExtenderArgs.Pod must be a Pod object");
    }
    FilterArgs args;
    args.pod = &split.pod;
    args.node_names = std::move(split.node_names);
    json result = FilterParsed(args);
    filter_latency_.Observe(clock_.Now() - start);
    return result;
  }

  json FilterError(const std::string& error) {
    filter_results_[kFilterError].fetch_add(1);
    return FilterResultJson(std::vector<std::string>{}, {}, error);
  }

  json FilterParsed(const FilterArgs& args) {
    if (Stopped()) {
      return FilterError("npushare-scheduler is shutting down");
    }
    if (!Ready()) {
      // Usage not rebuilt yet: answering could overcommit a chip. kube-scheduler retries.
      return FilterError("npushare-scheduler caches are not synced yet");
    }
    auto pod = scheduling::PodSpecFromJson(*args.pod);
    if (!pod.ok()) {
      return FilterError("invalid pod: " + pod.status().ToString());
    }
    static const std::vector<std::string> kNoNames;
    const std::vector<std::string>& names = args.node_names ? *args.node_names : kNoNames;
    scheduling::FilterOptions fo;
    fo.node_policy = node_policy_;
    fo.device_policy = options_.device_policy;
    fo.hami_vnpu_core_global = cache_.config()->hami_vnpu_core || options_.hami_vnpu_core_global;
    const auto wall = clock_.WallNow();
    FilterDecision d = cache_.ChooseAndAssume(*pod, names, fo, clock_.Now(), UnixSeconds(wall));
    if (!d.outcome.error.ok()) {
      return FilterError(d.outcome.error.ToString());
    }
    if (!d.outcome.requests_devices) {
      filter_results_[kNoNpu].fetch_add(1);
      return FilterResultJson(args.node_names, {}, "");
    }
    std::map<std::string, std::string> failed;
    for (const auto& n : d.outcome.nodes) {
      if (!n.fit) {
        failed[n.node] = n.reason;
      }
    }
    if (!d.outcome.chosen) {
      filter_results_[kUnschedulable].fetch_add(1);
      std::string summary = d.outcome.Summary();
      for (const auto& w : d.outcome.requests.invalid) {
        summary += " (request ignored: " + w + ")";
      }
      if (ShouldRecordUnschedulable(pod->Key(), summary)) {
        RecordPodEvent(*pod, "Warning", "FilteringFailed", summary);
      }
      return FilterResultJson(std::vector<std::string>{}, failed, "");
    }
    const std::string node = d.outcome.nodes[*d.outcome.chosen].node;
    json ann = json::object();
    for (const auto& [k, v] : d.annotations) {
      ann[k] = v;
    }
    PodAnnotationWrite write;
    write.key = pod->Key();
    write.ns = pod->ns;
    write.name = pod->name;
    write.patch = {
        {"metadata", {{"annotations", ann}, {"labels", {{hami::kAssignedNodeAnnotation, node}}}}}};
    write.token = d.token;
    // The leader, which binds, writes in the background and its Bind waits for the write
    // (annotation_writer.h). A follower writes before answering: the leader's Bind reads the
    // annotations from the API server.
    if (!leader_.load() || !writer_.Submit(std::move(write))) {
      Status written = WriteAnnotations(write);
      if (!written.ok()) {
        cache_.Unassume(write.key, write.token);
        return FilterError("patch pod annotations: " + written.ToString());
      }
    }
    filter_results_[kScheduled].fetch_add(1);
    return FilterResultJson(std::vector<std::string>{node}, failed, "");
  }

  Status WriteAnnotations(const PodAnnotationWrite& w) {
    return client_.Patch(kube::kPods, w.ns, w.name, kube::PatchType::kMerge, w.patch).status();
  }

  // ShouldRecordUnschedulable: one Event per pod and summary per minute; kube-scheduler
  // retries an unschedulable pod often, and an Event per retry would flood the namespace.
  bool ShouldRecordUnschedulable(const std::string& key, const std::string& summary) {
    constexpr auto kRepeatAfter = std::chrono::seconds(60);
    constexpr size_t kMaxRemembered = 10000;
    const auto now = clock_.Now();
    MutexLock lock(&events_mu_);
    auto it = last_event_.find(key);
    if (it != last_event_.end() && it->second.first == summary &&
        now - it->second.second < kRepeatAfter) {
      return false;
    }
    if (last_event_.size() >= kMaxRemembered) {
      last_event_.clear();  // bounded memory; at worst a repeated Event
    }
    last_event_[key] = {summary, now};
    return true;
  }

  void RecordPodEvent(const scheduling::PodSpec& pod, const char* type, const char* reason,
                      const std::string& message) {
    json involved = {{"apiVersion", "v1"},
                     {"kind", "Pod"},
                     {"metadata", {{"name", pod.name}, {"namespace", pod.ns}, {"uid", pod.uid}}}};
    auto r = client_.RecordEvent(involved, type, reason, message, options_.scheduler_name);
    if (!r.ok()) {
      Log("could not record an event on pod " + pod.Key() + ": " + r.status().ToString());
    }
  }

  // ------------------------------------------------------------------ bind

  Result<json> Bind(const json& body) {
    const auto start = clock_.Now();
    NPUSHARE_ASSIGN_OR_RETURN(BindArgs args, ParseBindArgs(body));
    std::string error;
    BindResultKind kind = kBound;
    if (!leader_.load()) {
      kind = kNotLeader;
      error = "npushare-scheduler replica is not the leader; only the leader binds";
    } else if (Stopped()) {
      kind = kBindFailed;
      error = "npushare-scheduler is shutting down";
    } else {
      Status s = BindPod(args);
      if (!s.ok()) {
        kind = kBindFailed;
        error = s.ToString();
        Log("bind " + args.pod_namespace + "/" + args.pod_name + " to " + args.node +
            " failed: " + error);
      }
    }
    bind_results_[kind].fetch_add(1);
    bind_latency_.Observe(clock_.Now() - start);
    return BindResultJson(error);
  }

  Status BindPod(const BindArgs& args) {
    const std::string key = args.pod_namespace + "/" + args.pod_name;
    // The filter annotations must be on the pod before it is bound (the device plugin reads
    // them in Allocate).
    NPUSHARE_RETURN_IF_ERROR(
        writer_.Wait(key, kAnnotationWriteWait).WithContext("filter annotations"));
    // Where the pod was filtered to, and whether it holds devices (init containers included:
    // deliberate fix of upstream, which locks only for regular containers). From the cache
    // when it knows this very pod (saves a GET per bind), else from the pod itself.
    std::optional<PodPlacement> placement = cache_.PlacementOf(key);
    if (placement && !args.pod_uid.empty() && !placement->uid.empty() &&
        placement->uid != args.pod_uid) {
      placement.reset();
    }
    if (!placement) {
      NPUSHARE_ASSIGN_OR_RETURN(placement, PlacementFromApi(args));
    }
    const hami::PodRef ref{args.pod_namespace, args.pod_name};
    const bool uses_npu = placement && placement->uses_devices;
    if (uses_npu && placement->node != args.node) {
      return FailedPreconditionError("pod " + key + " was filtered for node " + placement->node +
                                     ", not " + args.node);
    }
    if (uses_npu) {
      // One lock key per node (hami-protocol.md §2.4): upstream's per-chip-type calls after the
      // first are re-entrant no-ops, so one Acquire covers every chip type.
      // The informer's copy of the node saves the GET when it is current; a stale copy only
      // costs a refused patch before the full protocol (cached_node_lock.h).
      LockHintOutcome how = LockHintOutcome::kNoHint;
      Status locked =
          AcquireNodeLockWithHint(client_, locks_, clock_, options_.node_lock_timeout.count(),
                                  args.node, ref, cache_.NodeLockOf(args.node), &how);
      lock_hint_outcomes_[static_cast<size_t>(how)].fetch_add(1);
      NPUSHARE_RETURN_IF_ERROR(locked.WithContext("node lock"));
    }
    // bind-phase/bind-time travel in the Binding, which the API server merges into the pod
    // atomically with spec.nodeName (k8s-apis.md §4.8): upstream patches them first, leaving
    // "allocating" behind on a pod whose binding then fails; the result on success is the same.
    const std::map<std::string, std::string> annotations = {
        {hami::kBindPhaseAnnotation, "allocating"},
        {hami::kBindTimeAnnotation, std::to_string(UnixSeconds(clock_.WallNow()))}};
    Status bound =
        client_.Bind(args.pod_namespace, args.pod_name, args.node,
                     uses_npu ? annotations : std::map<std::string, std::string>{}, args.pod_uid);
    if (!bound.ok()) {
      if (uses_npu) {
        Status r = locks_.Release(args.node, ref);
        if (!r.ok()) {
          Log("release node lock of " + args.node + " for " + key + " failed: " + r.ToString());
        }
      }
      return bound.WithContext("binding");
    }
    return OkStatus();
  }

  // PlacementFromApi: GET the pod and read its filter annotations; nullopt when it holds no
  // device of a configured chip.
  Result<std::optional<PodPlacement>> PlacementFromApi(const BindArgs& args) {
    NPUSHARE_ASSIGN_OR_RETURN(json pod_obj,
                              client_.Get(kube::kPods, args.pod_namespace, args.pod_name));
    NPUSHARE_ASSIGN_OR_RETURN(scheduling::PodSpec pod, scheduling::PodSpecFromJson(pod_obj));
    if (!args.pod_uid.empty() && !pod.uid.empty() && pod.uid != args.pod_uid) {
      return AbortedError("pod " + pod.Key() + " has uid " + pod.uid + ", not " + args.pod_uid);
    }
    PodPlacement p;
    p.uid = pod.uid;
    auto config = cache_.config();
    for (const auto& chip : config->chips) {
      auto it = pod.annotations.find(hami::DevicesAllocatedKey(chip.common_word));
      if (it == pod.annotations.end()) {
        continue;
      }
      auto devices = hami::DecodePodDevices(it->second);
      if (!devices.ok()) {
        return devices.status().WithContext("pod " + pod.Key() + " " + it->first);
      }
      for (const auto& c : *devices) {
        p.uses_devices = p.uses_devices || !c.empty();
      }
    }
    if (!p.uses_devices) {
      // A pod that asks for a configured chip went through Filter, which allocates devices
      // for it: without the annotations (written by another replica that has not finished,
      // or removed) binding it would start it without its devices.
      if (!scheduling::BuildPodRequests(*config, pod).Empty()) {
        return FailedPreconditionError("pod " + pod.Key() +
                                       " asks for NPUs but carries no device allocation; it "
                                       "must be filtered again");
      }
      return std::optional<PodPlacement>();
    }
    auto assigned = pod.annotations.find(hami::kAssignedNodeAnnotation);
    p.node = assigned == pod.annotations.end() ? args.node : assigned->second;
    return std::optional<PodPlacement>(std::move(p));
  }

  // ------------------------------------------------------------------ metrics

  std::string MetricsText() const {
    MetricsWriter w;
    // As HAMi's: constant 1, no zone label. There is no Go toolchain: go_version is empty.
    w.Family("hami_build_info", "gauge", "Build information of the scheduler.");
    w.Sample("hami_build_info",
             {{"version", NPUSHARE_VERSION},
              {"revision", ""},
              {"build_date", ""},
              {"go_version", ""},
              {"compiler", "gcc " __VERSION__},
              {"platform", kPlatform}},
             1);
    auto with = [&](Labels l) {
      l.emplace_back("zone", "vGPU");
      return l;
    };
    const std::vector<DeviceSnapshot> devices = cache_.Devices();
    constexpr double kMiB = 1048576.0;
    w.Family("hami_gpu_memory_limit_bytes", "gauge", "Device schedulable memory (devmem).");
    for (const auto& d : devices) {
      w.Sample("hami_gpu_memory_limit_bytes",
               with({{"node", d.node},
                     {"device_uuid", d.uuid},
                     {"device_index", std::to_string(d.index)},
                     {"device_type", d.type}}),
               static_cast<double>(d.totalmem) * kMiB);
    }
    w.Family("hami_gpu_core_limit_ratio", "gauge", "Device cores (devcore).");
    for (const auto& d : devices) {
      w.Sample("hami_gpu_core_limit_ratio",
               with({{"node", d.node},
                     {"device_uuid", d.uuid},
                     {"device_index", std::to_string(d.index)},
                     {"device_type", d.type}}),
               d.totalcore);
    }
    w.Family("hami_gpu_memory_allocated_bytes", "gauge", "Memory allocated on the device.");
    for (const auto& d : devices) {
      w.Sample("hami_gpu_memory_allocated_bytes",
               with({{"node", d.node},
                     {"device_uuid", d.uuid},
                     {"device_index", std::to_string(d.index)},
                     {"device_cores", std::to_string(d.totalcore)},
                     {"device_type", d.type}}),
               static_cast<double>(d.usedmem) * kMiB);
    }
    w.Family("hami_gpu_shared_count", "gauge", "Container allocations on the device.");
    for (const auto& d : devices) {
      w.Sample("hami_gpu_shared_count",
               with({{"node", d.node},
                     {"device_uuid", d.uuid},
                     {"device_index", std::to_string(d.index)},
                     {"device_type", d.type}}),
               d.used);
    }
    w.Family("hami_gpu_core_allocated_ratio", "gauge", "Cores allocated on the device.");
    for (const auto& d : devices) {
      w.Sample("hami_gpu_core_allocated_ratio",
               with({{"node", d.node},
                     {"device_uuid", d.uuid},
                     {"device_index", std::to_string(d.index)},
                     {"device_type", d.type}}),
               d.usedcores);
    }
    w.Family("hami_node_gpu_overview", "gauge",
             "Allocated memory of the device, with its cores and memory limit as labels.");
    for (const auto& d : devices) {
      w.Sample("hami_node_gpu_overview",
               with({{"node", d.node},
                     {"device_uuid", d.uuid},
                     {"device_index", std::to_string(d.index)},
                     {"device_cores", std::to_string(d.totalcore)},
                     {"device_memory_limit", std::to_string(d.totalmem * 1048576)},
                     {"device_type", d.type}}),
               static_cast<double>(d.usedmem) * kMiB);
    }
    w.Family("hami_node_gpu_memory_allocated_ratio", "gauge",
             "Allocated / schedulable device memory, 0-1.");
    for (const auto& d : devices) {
      w.Sample(
          "hami_node_gpu_memory_allocated_ratio",
          with({{"node", d.node},
                {"device_uuid", d.uuid},
                {"device_index", std::to_string(d.index)},
                {"device_type", d.type}}),
          d.totalmem > 0 ? static_cast<double>(d.usedmem) / static_cast<double>(d.totalmem) : 0.0);
    }
    const auto allocations = cache_.Allocations();
    w.Family("hami_vgpu_memory_allocated_bytes", "gauge", "Memory allocated per container.");
    for (const auto& a : allocations) {
      w.Sample("hami_vgpu_memory_allocated_bytes",
               with({{"namespace", a.ns},
                     {"node", a.node},
                     {"pod", a.pod},
                     {"container_index", std::to_string(a.container_index)},
                     {"device_uuid", a.uuid}}),
               static_cast<double>(a.memory) * kMiB);
    }
    w.Family("hami_vgpu_core_allocated_ratio", "gauge", "Cores allocated per container.");
    for (const auto& a : allocations) {
      w.Sample("hami_vgpu_core_allocated_ratio",
               with({{"namespace", a.ns},
                     {"node", a.node},
                     {"pod", a.pod},
                     {"container_index", std::to_string(a.container_index)},
                     {"device_uuid", a.uuid}}),
               a.cores);
    }

    // Per node and chip type: allocated vs capacity.
    struct NodeSum {
      int64_t slots = 0, slots_used = 0, mem = 0, mem_used = 0, cores = 0, cores_used = 0;
    };
    std::map<std::pair<std::string, std::string>, NodeSum> per_node;
    for (const auto& d : devices) {
      NodeSum& s = per_node[{d.node, d.type}];
      s.slots += d.count;
      s.slots_used += d.used;
      s.mem += d.totalmem;
      s.mem_used += d.usedmem;
      s.cores += d.totalcore;
      s.cores_used += d.usedcores;
    }
    auto node_family = [&](const char* name, const char* help, auto field, double scale) {
      w.Family(name, "gauge", help);
      for (const auto& [k, s] : per_node) {
        w.Sample(name, {{"node", k.first}, {"device_type", k.second}},
                 static_cast<double>(field(s)) * scale);
      }
    };
    node_family(
        "npushare_scheduler_node_npu_slots_capacity", "Allocation slots on the node.",
        [](const NodeSum& s) { return s.slots; }, 1);
    node_family(
        "npushare_scheduler_node_npu_slots_allocated", "Allocation slots in use.",
        [](const NodeSum& s) { return s.slots_used; }, 1);
    node_family(
        "npushare_scheduler_node_npu_memory_capacity_bytes", "NPU memory on the node.",
        [](const NodeSum& s) { return s.mem; }, kMiB);
    node_family(
        "npushare_scheduler_node_npu_memory_allocated_bytes", "NPU memory allocated.",
        [](const NodeSum& s) { return s.mem_used; }, kMiB);
    node_family(
        "npushare_scheduler_node_npu_cores_capacity", "Sum of devcore on the node.",
        [](const NodeSum& s) { return s.cores; }, 1);
    node_family(
        "npushare_scheduler_node_npu_cores_allocated", "Sum of allocated cores.",
        [](const NodeSum& s) { return s.cores_used; }, 1);

    w.Family("npushare_scheduler_filter_duration_seconds", "histogram",
             "Time to answer one extender filter call.");
    filter_latency_.Write(w, "npushare_scheduler_filter_duration_seconds", {});
    w.Family("npushare_scheduler_bind_duration_seconds", "histogram",
             "Time to answer one extender bind call (node lock, patch, binding).");
    bind_latency_.Write(w, "npushare_scheduler_bind_duration_seconds", {});
    w.Family("npushare_scheduler_filter_total", "counter", "Filter calls by result.");
    for (int i = 0; i < kFilterKinds; ++i) {
      w.Sample("npushare_scheduler_filter_total", {{"result", kFilterResultNames[i]}},
               static_cast<double>(filter_results_[i].load()));
    }
    w.Family("npushare_scheduler_bind_total", "counter", "Bind calls by result.");
    for (int i = 0; i < kBindKinds; ++i) {
      w.Sample("npushare_scheduler_bind_total", {{"result", kBindResultNames[i]}},
               static_cast<double>(bind_results_[i].load()));
    }
    const CacheCounts c = cache_.Counts();
    w.Family("npushare_scheduler_nodes", "gauge", "Nodes with registered NPUs in the cache.");
    w.Sample("npushare_scheduler_nodes", {}, static_cast<double>(c.nodes));
    w.Family("npushare_scheduler_pods_with_usage", "gauge", "Pods whose NPU usage is counted.");
    w.Sample("npushare_scheduler_pods_with_usage", {}, static_cast<double>(c.pods_with_usage));
    w.Family("npushare_scheduler_assumed_pods", "gauge",
             "Pods chosen by Filter whose annotations have not come back through the watch.");
    w.Sample("npushare_scheduler_assumed_pods", {}, static_cast<double>(c.assumed));
    w.Family("npushare_scheduler_assume_expired_total", "counter",
             "Assumed allocations dropped because the pod never showed its annotations.");
    w.Sample("npushare_scheduler_assume_expired_total", {}, static_cast<double>(c.assume_expired));
    w.Family("npushare_scheduler_garbled_annotations_total", "counter",
             "Undecodable node registration or pod allocation annotations (skipped).");
    w.Sample("npushare_scheduler_garbled_annotations_total", {},
             static_cast<double>(c.garbled_annotations));
    w.Family("npushare_scheduler_handshake_unregistered_total", "counter",
             "Node chip types unregistered because the device plugin stopped reporting.");
    w.Sample("npushare_scheduler_handshake_unregistered_total", {},
             static_cast<double>(c.handshake_unregistered));
    w.Family("npushare_scheduler_config_reloads_total", "counter", "Device config reloads.");
    w.Sample("npushare_scheduler_config_reloads_total", {{"result", "success"}},
             static_cast<double>(config_reloads_.load()));
    w.Sample("npushare_scheduler_config_reloads_total", {{"result", "rejected"}},
             static_cast<double>(config_reload_failures_.load()));
    w.Family("npushare_scheduler_annotation_writes_pending", "gauge",
             "Filter annotation writes queued for the background writer.");
    w.Sample("npushare_scheduler_annotation_writes_pending", {},
             static_cast<double>(writer_.Pending()));
    w.Family("npushare_scheduler_annotation_write_failures_total", "counter",
             "Filter annotation writes that failed (the pod's assumed allocation is dropped).");
    w.Sample("npushare_scheduler_annotation_write_failures_total", {},
             static_cast<double>(writer_.Failures()));
    w.Family("npushare_scheduler_node_lock_cache_total", "counter",
             "Node lock acquisitions by how the informer's copy of the node served: hit (one "
             "conditional patch), stale (patch refused, full protocol), not_free / no_copy "
             "(full protocol).");
    constexpr const char* kHintNames[] = {"no_copy", "not_free", "hit", "stale"};
    for (size_t i = 0; i < lock_hint_outcomes_.size(); ++i) {
      w.Sample("npushare_scheduler_node_lock_cache_total", {{"result", kHintNames[i]}},
               static_cast<double>(lock_hint_outcomes_[i].load()));
    }
    w.Family("npushare_scheduler_leader", "gauge", "1 when this replica is the leader.");
    w.Sample("npushare_scheduler_leader", {}, leader_.load() ? 1 : 0);
    return w.Take();
  }

  void SetLeader(bool leader) {
    const bool was = leader_.exchange(leader);
    if (leader && !was) {
      // Upstream runs a register pass on becoming leader.
      MutexLock lock(&loop_mu_);
      tick_now_ = true;
      loop_cv_.NotifyAll();
    }
  }
  bool IsLeader() const { return leader_.load(); }

  std::shared_ptr<const config::DeviceConfig> CurrentDeviceConfig() const {
    return cache_.config();
  }

  const ClusterCache& Cache() const { return cache_; }
  kube::Informer::ObjectPtr CachedNode(const std::string& name) const {
    return nodes_ ? nodes_->Get(name) : nullptr;
  }
  kube::Informer::ObjectPtr CachedPod(const std::string& key) const {
    return pods_ ? pods_->Get(key) : nullptr;
  }
  std::map<std::string, std::string> Unschedulable() const {
    MutexLock lock(&events_mu_);
    std::map<std::string, std::string> out;
    for (const auto& [key, last] : last_event_) {
      out.emplace(key, last.first);
    }
    return out;
  }

 private:
  kube::KubeClient& client_;
  kube::Clock& clock_;
  const SchedulerServiceOptions options_;
  hami::NodePolicy node_policy_ = hami::NodePolicy::kBinpack;
  ClusterCache cache_;
  kube::NodeLockClient locks_;
  AnnotationWriter writer_;  // after cache_: its failure callback unassumes in the cache
  std::unique_ptr<kube::Informer> nodes_;
  std::unique_ptr<kube::Informer> pods_;
  std::atomic<bool> leader_{false};

  Mutex loop_mu_;
  CondVar loop_cv_;
  bool stopping_ NPUSHARE_GUARDED_BY(loop_mu_) = false;
  bool tick_now_ NPUSHARE_GUARDED_BY(loop_mu_) = false;  // run a handshake pass now (new leader)
  std::thread loop_;

  Mutex config_mu_;
  std::string config_text_ NPUSHARE_GUARDED_BY(config_mu_);  // the text of the config in use
  std::string last_bad_config_ NPUSHARE_GUARDED_BY(config_mu_);
  std::atomic<uint64_t> config_reloads_{0};
  std::atomic<uint64_t> config_reload_failures_{0};

  mutable Mutex events_mu_;
  // pod key -> (summary, when) of the last unschedulable Event; guarded by events_mu_.
  std::unordered_map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>>
      last_event_ NPUSHARE_GUARDED_BY(events_mu_);

  LatencyHistogram filter_latency_;
  LatencyHistogram bind_latency_;
  std::array<std::atomic<uint64_t>, kFilterKinds> filter_results_{};
  std::array<std::atomic<uint64_t>, kBindKinds> bind_results_{};
  // Indexed by LockHintOutcome.
  std::array<std::atomic<uint64_t>, 4> lock_hint_outcomes_{};
};

// ------------------------------------------------------------------ SchedulerService

Result<std::unique_ptr<SchedulerService>> SchedulerService::Create(
    kube::KubeClient& client, kube::Clock& clock, SchedulerServiceOptions options) {
  if (options.device_config_file.empty()) {
    return InvalidArgumentError("the scheduler needs a device config file (--device-config-file)");
  }
  hami::NodePolicy p;
  if (!ParsePolicy(options.node_policy, p)) {
    return InvalidArgumentError("node scheduler policy must be binpack or spread, got '" +
                                options.node_policy + "'");
  }
  if (options.device_policy.empty()) {
    return InvalidArgumentError("device scheduler policy must not be empty");
  }
  if (options.node_lock_timeout.count() <= 0 || options.register_tick.count() <= 0 ||
      options.assume_ttl.count() <= 0 || options.config_poll_period.count() <= 0) {
    return InvalidArgumentError(
        "node lock timeout, register tick, assume ttl and config poll period must be positive");
  }
  NPUSHARE_ASSIGN_OR_RETURN(
      std::string text, ReadFileLimited(options.device_config_file, config::kMaxConfigFileBytes));
  NPUSHARE_ASSIGN_OR_RETURN(config::DeviceConfig config,
                            config::ParseDeviceConfig(text, options.device_config_file, nullptr));
  config.hami_vnpu_core = config.hami_vnpu_core || options.hami_vnpu_core_global;
  auto impl = std::make_unique<Impl>(client, clock, std::move(options),
                                     std::make_shared<config::DeviceConfig>(std::move(config)),
                                     std::move(text));
  return std::unique_ptr<SchedulerService>(new SchedulerService(std::move(impl)));
}

SchedulerService::SchedulerService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SchedulerService::~SchedulerService() = default;

Status SchedulerService::Start() {
  return impl_->Start();
}
void SchedulerService::Stop() {
  impl_->Stop();
}
void SchedulerService::SetLeader(bool leader) {
  impl_->SetLeader(leader);
}
bool SchedulerService::IsLeader() const {
  return impl_->IsLeader();
}
Result<nlohmann::json> SchedulerService::Filter(const nlohmann::json& extender_args) {
  return impl_->Filter(extender_args);
}
Result<nlohmann::json> SchedulerService::FilterSplit(ExtenderFilterArgs args) {
  return impl_->FilterSplit(std::move(args));
}
Result<nlohmann::json> SchedulerService::Bind(const nlohmann::json& binding_args) {
  return impl_->Bind(binding_args);
}
bool SchedulerService::Ready() const {
  return impl_->Ready();
}
Status SchedulerService::ReloadConfig() {
  return impl_->ReloadConfig();
}
std::string SchedulerService::MetricsText() const {
  return impl_->MetricsText();
}
std::shared_ptr<const config::DeviceConfig> SchedulerService::CurrentDeviceConfig() const {
  return impl_->CurrentDeviceConfig();
}

const ClusterCache& SchedulerService::Cache() const {
  return impl_->Cache();
}

std::shared_ptr<const nlohmann::json> SchedulerService::CachedNode(const std::string& name) const {
  return impl_->CachedNode(name);
}

std::shared_ptr<const nlohmann::json> SchedulerService::CachedPod(const std::string& key) const {
  return impl_->CachedPod(key);
}

std::map<std::string, std::string> SchedulerService::Unschedulable() const {
  return impl_->Unschedulable();
}

}  // namespace npushare::scheduler
