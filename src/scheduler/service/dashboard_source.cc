#include "scheduler/service/dashboard_source.h"

#include <chrono>
#include <set>
#include <utility>

#include "hami/types.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;
constexpr int64_t kMiB = 1048576;

// StringAt: obj[a][b] when it is a string, else "".
std::string StringAt(const json& obj, const char* a, const char* b) {
  if (!obj.is_object()) {
    return "";
  }
  auto ia = obj.find(a);
  if (ia == obj.end() || !ia->is_object()) {
    return "";
  }
  auto ib = ia->find(b);
  return ib != ia->end() && ib->is_string() ? ib->get<std::string>() : "";
}

// Annotation: metadata.annotations[key], nullopt when absent or not a string.
std::optional<std::string> Annotation(const json& obj, const std::string& key) {
  if (!obj.is_object()) {
    return std::nullopt;
  }
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) {
    return std::nullopt;
  }
  auto an = md->find("annotations");
  if (an == md->end() || !an->is_object()) {
    return std::nullopt;
  }
  auto v = an->find(key);
  if (v == an->end() || !v->is_string()) {
    return std::nullopt;
  }
  return v->get<std::string>();
}

bool Terminated(const json& pod) {
  const std::string phase = StringAt(pod, "status", "phase");
  return phase == "Succeeded" || phase == "Failed";
}

const config::ChipConfig* ChipFor(const config::DeviceConfig& cfg, const std::string& type) {
  const config::ChipConfig* c = cfg.FindByCommonWord(type);
  return c != nullptr ? c : cfg.FindByChipName(type);
}

// TemplateByMemory: the hard template holding exactly `memory_mb` (what Filter chose), or null.
const config::VnpuTemplate* TemplateByMemory(const config::ChipConfig* chip, int64_t memory_mb) {
  if (chip == nullptr) {
    return nullptr;
  }
  for (const auto& t : chip->templates) {
    if (t.memory_mb == memory_mb) {
      return &t;
    }
  }
  return nullptr;
}

int64_t UnixMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string ExpandMetricsUrl(const std::string& url_template, const std::string& node_name,
                             const std::string& pod_ip) {
  std::string out;
  size_t i = 0;
  while (i < url_template.size()) {
    if (url_template.compare(i, 7, "{podIP}") == 0) {
      if (pod_ip.empty()) {
        return "";
      }
      out += pod_ip.find(':') != std::string::npos ? "[" + pod_ip + "]" : pod_ip;  // IPv6
      i += 7;
    } else if (url_template.compare(i, 10, "{nodeName}") == 0) {
      out += node_name;
      i += 10;
    } else {
      out += url_template[i++];
    }
  }
  return out;
}

DashboardSource::DashboardSource(kube::KubeClient& client, const SchedulerService& service,
                                 DashboardSourceOptions options)
    : service_(service), options_(std::move(options)) {
  if (options_.metrics_url_template.find("{podIP}") != std::string::npos) {
    kube::InformerOptions o;
    o.label_selector = options_.plugin_pod_selector;
    o.compact = false;  // a handful of pods, read every refresh
    plugin_pods_ = std::make_unique<kube::Informer>(client, kube::kPods, o);
  }
}

DashboardSource::~DashboardSource() {
  Stop();
}

void DashboardSource::Start() {
  if (plugin_pods_) {
    plugin_pods_->Start();
  }
}

void DashboardSource::Stop() {
  if (plugin_pods_) {
    plugin_pods_->Stop();
  }
}

std::map<std::string, std::string> DashboardSource::PluginPodIpByNode() const {
  std::map<std::string, std::string> out;
  if (!plugin_pods_) {
    return out;
  }
  for (const auto& pod : plugin_pods_->List()) {
    if (pod == nullptr || Terminated(*pod)) {
      continue;
    }
    const std::string node = StringAt(*pod, "spec", "nodeName");
    const std::string ip = StringAt(*pod, "status", "podIP");
    if (!node.empty() && !ip.empty()) {
      out[node] = ip;
    }
  }
  return out;
}

std::vector<std::string> DashboardSource::ContainerNames(const std::string& pod_key) {
  {
    MutexLock lock(&mu_);
    auto it = names_.find(pod_key);
    if (it != names_.end()) {
      return it->second;
    }
  }
  std::vector<std::string> names;
  auto pod = service_.CachedPod(pod_key);
  if (pod == nullptr) {
    return names;  // not remembered: the pod may show up in the informer later
  }
  auto spec = pod->find("spec");
  if (spec != pod->end() && spec->is_object()) {
    auto cs = spec->find("containers");
    if (cs != spec->end() && cs->is_array()) {
      for (const auto& c : *cs) {
        auto n = c.is_object() ? c.find("name") : c.end();
        names.push_back(c.is_object() && n != c.end() && n->is_string() ? n->get<std::string>()
                                                                        : "");
      }
    }
  }
  MutexLock lock(&mu_);
  names_[pod_key] = names;
  return names;
}

Result<dashboard::ClusterSnapshot> DashboardSource::Snapshot() {
  if (!service_.Ready()) {
    return Status(StatusCode::kUnavailable, "the scheduler's caches are not synced yet");
  }
  dashboard::ClusterSnapshot snap;
  snap.time_unix_ms = UnixMs(std::chrono::system_clock::now());
  const auto cfg = service_.CurrentDeviceConfig();
  const bool soft_default = cfg->hami_vnpu_core || options_.hami_vnpu_core_global;
  const auto plugin_ips = PluginPodIpByNode();

  // Nodes and chips, in the cache's order grouped by node name.
  std::map<std::string, dashboard::NodeView> nodes;
  std::map<std::pair<std::string, std::string>, dashboard::ChipView*> chip_by_uuid;
  std::map<std::string, bool> soft_nodes;
  for (const auto& d : service_.Cache().Devices()) {
    auto [it, added] = nodes.try_emplace(d.node);
    dashboard::NodeView& node = it->second;
    if (added) {
      // One parse of the node per refresh (the informer keeps it as text).
      node.name = d.node;
      const auto obj = service_.CachedNode(d.node);
      std::optional<std::string> url;
      bool soft = soft_default;
      if (obj != nullptr) {
        url = Annotation(*obj, kMetricsUrlNodeAnnotation);
        if (auto a = Annotation(*obj, hami::kHamiVnpuCoreNodeAnnotation)) {
          soft = *a == "true";
        }
      }
      soft_nodes[d.node] = soft;
      if (url && url->rfind("http://", 0) == 0) {
        node.metrics_url = *url;
      } else {
        auto ip = plugin_ips.find(d.node);
        node.metrics_url = ExpandMetricsUrl(options_.metrics_url_template, d.node,
                                            ip != plugin_ips.end() ? ip->second : "");
      }
    }
    const bool soft = soft_nodes[d.node];
    dashboard::ChipView chip;
    chip.index = d.index;
    chip.uuid = d.uuid;
    chip.type = d.type;
    chip.memory_total_bytes = d.totalmem * kMiB;
    chip.cores = d.totalcore;
    chip.healthy = d.health;
    chip.mode = soft ? dashboard::ChipMode::kSoft : dashboard::ChipMode::kHard;
    node.chips.push_back(std::move(chip));
  }
  // Pointers only once every node's chip vector is complete.
  for (auto& [name, node] : nodes) {
    for (auto& chip : node.chips) {
      chip_by_uuid[{name, chip.uuid}] = &chip;
    }
  }

  std::set<std::string> allocated;
  for (const auto& a : service_.Cache().Allocations()) {
    auto it = chip_by_uuid.find({a.node, a.uuid});
    if (it == chip_by_uuid.end()) {
      continue;  // a chip no longer registered
    }
    dashboard::ChipView& chip = *it->second;
    const std::string key = a.ns + "/" + a.pod;
    allocated.insert(key);
    dashboard::SliceView s;
    s.pod_namespace = a.ns;
    s.pod_name = a.pod;
    s.container_index = static_cast<uint32_t>(a.container_index);
    const auto names = ContainerNames(key);
    if (a.container_index < names.size()) {
      s.container = names[a.container_index];
    }
    s.memory_quota_bytes = a.memory * kMiB;
    if (chip.mode == dashboard::ChipMode::kSoft) {
      s.core_percent = a.cores;
    } else {
      // Hard allocations record no cores (HAMi writes 0): the template says how many.
      const config::VnpuTemplate* t = TemplateByMemory(ChipFor(*cfg, chip.type), a.memory);
      const int64_t cores = a.cores > 0 ? a.cores : (t != nullptr ? t->ai_core : 0);
      s.core_percent = chip.cores > 0 ? static_cast<int32_t>(cores * 100 / chip.cores) : 0;
      s.template_name = t != nullptr ? t->name : "";
    }
    chip.slices.push_back(std::move(s));
  }
  {
    MutexLock lock(&mu_);
    for (auto it = names_.begin(); it != names_.end();) {
      it = allocated.count(it->first) != 0 ? std::next(it) : names_.erase(it);
    }
  }
  for (auto& [name, node] : nodes) {
    snap.nodes.push_back(std::move(node));
  }

  std::map<std::string, int64_t> since;
  for (const auto& [key, summary] : service_.Unschedulable()) {
    auto pod = service_.CachedPod(key);
    if (pod == nullptr || Terminated(*pod) || !StringAt(*pod, "spec", "nodeName").empty()) {
      continue;
    }
    dashboard::PendingPodView p;
    const size_t slash = key.find('/');
    p.pod_namespace = slash == std::string::npos ? "" : key.substr(0, slash);
    p.pod_name = slash == std::string::npos ? key : key.substr(slash + 1);
    p.reason = summary;
    since[key] = snap.time_unix_ms;
    snap.pending.push_back(std::move(p));
  }
  {
    // First refresh that saw the pod pending (kept while it stays pending).
    MutexLock lock(&mu_);
    for (auto& [key, t] : since) {
      auto it = pending_since_.find(key);
      if (it != pending_since_.end()) {
        t = it->second;
      }
    }
    pending_since_ = since;
  }
  for (auto& p : snap.pending) {
    p.since_unix_ms = since[p.pod_namespace + "/" + p.pod_name];
  }
  return snap;
}

}  // namespace npushare::scheduler
