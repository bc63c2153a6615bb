#include "scheduler/service/cluster_cache.h"

#include <algorithm>
#include <array>
#include <deque>
#include <tuple>

#include "common/quantity.h"
#include "hami/handshake.h"
#include "kube/objects.h"
#include "scheduling/allocation_annotations.h"
#include "scheduling/pod_json.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;
using scheduling::PlacedPod;
using scheduling::PodSpec;

constexpr std::string_view kDevicesAllocatedSuffix = "-devices-allocated";
// At most this many pod shapes are remembered (ChooseAndAssume's verdict reuse).
constexpr size_t kMaxRememberedShapes = 4096;

bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// Keeps only what usage reconstruction reads (node, allocations, hami-core mode), so the
// cache holds little per pod.
bool UsageAnnotation(std::string_view key) {
  return key == hami::kAssignedNodeAnnotation || key == hami::kVnpuModeAnnotation ||
         (StartsWith(key, "hami.io/") && EndsWith(key, kDevicesAllocatedSuffix));
}

bool PositiveQuantity(const std::string& text) {
  auto q = Quantity::Parse(text);
  return q.ok() && !q->IsNegative() && !q->IsZero();
}

// SameRegistrationInputs: whether two annotation sets agree on everything DeriveNodeLocked
// reads: the register and handshake annotation of every configured chip, and hami-vnpu-core.
bool SameRegistrationInputs(const hami::Annotations& a, const hami::Annotations& b,
                            const config::DeviceConfig& config) {
  auto same = [&](const std::string& key) {
    auto x = a.find(key);
    auto y = b.find(key);
    if (x == a.end() || y == b.end()) {
      return (x == a.end()) == (y == b.end());
    }
    return x->second == y->second;
  };
  if (!same(hami::kHamiVnpuCoreNodeAnnotation)) {
    return false;
  }
  for (const auto& chip : config.chips) {
    if (!same(hami::NodeRegisterKey(chip.common_word)) ||
        !same(hami::NodeHandshakeKey(chip.common_word))) {
      return false;
    }
  }
  return true;
}

std::string NameOf(const json& obj) {
  return kube::StringField(kube::Field(obj, "metadata"), "name");
}

}  // namespace

struct ClusterCache::NodeEntry {
  std::string name;
  std::string resource_version;  // of the last object seen (NodeLockOf)
  hami::Annotations annotations;
  std::map<std::string, std::string, std::less<>> allocatable;
  std::set<std::string, std::less<>> dead;  // <cw> unregistered by the handshake
  std::map<std::string, std::string, std::less<>> logged_errors;  // <cw> -> annotation logged
  scheduling::NodeState state;                                    // live registered chip types only
  // Capacity + usage of `state`'s devices; nullopt when nothing is registered. Views
  // `state`'s strings: rebuilt whenever `state` changes.
  std::optional<scheduling::NodeDevices> usage;
  // SummarizeNode of `state` and `usage` under config_: set exactly when `usage` is.
  std::optional<scheduling::NodeSummary> summary;
  // Bumped whenever `state` or `usage` is rebuilt (RecomputeNodeLocked).
  uint64_t version = 0;
  // What Filter decided here for the last few pod shapes, valid while `version` is unchanged.
  struct RememberedVerdict {
    uint32_t shape = 0;  // 0: empty slot
    uint64_t version = 0;
    scheduling::NodeVerdict verdict;
  };
  std::array<RememberedVerdict, 4> verdicts;
  uint8_t next_verdict_slot = 0;
};

void ClusterCache::RememberVerdictLocked(NodeEntry& e, uint32_t shape,
                                         const scheduling::NodeVerdict& verdict) {
  NodeEntry::RememberedVerdict* slot = nullptr;
  for (auto& m : e.verdicts) {
    if (m.shape == shape) {
      slot = &m;
    }
  }
  if (slot == nullptr) {
    slot = &e.verdicts[e.next_verdict_slot];
    e.next_verdict_slot = static_cast<uint8_t>((e.next_verdict_slot + 1) % e.verdicts.size());
  }
  slot->shape = shape;
  slot->version = e.version;
  slot->verdict = verdict;
}

struct ClusterCache::PodEntry {
  std::string key;
  std::string uid;
  PodSpec facts;                     // trimmed: usage annotations, phase, init container count
  std::optional<PlacedPod> placed;   // from the pod's annotations
  std::optional<PlacedPod> assumed;  // chosen by Filter, not confirmed yet
  hami::Annotations expected;        // what Filter wrote that confirms `assumed`
  SteadyTime assumed_at{};
  uint64_t token = 0;
  std::string indexed_node;  // where pods_by_node_ lists it ("" = nowhere)
};

ClusterCache::ClusterCache(std::shared_ptr<const config::DeviceConfig> config,
                           ClusterCacheOptions options, LogFn log)
    : options_(options), log_(std::move(log)), config_(std::move(config)) {}

ClusterCache::~ClusterCache() = default;

void ClusterCache::Log(const std::string& line) const {
  if (log_) {
    log_(line);
  }
}

std::shared_ptr<const config::DeviceConfig> ClusterCache::config() const {
  MutexLock lock(&mu_);
  return config_;
}

void ClusterCache::SetConfig(std::shared_ptr<const config::DeviceConfig> config) {
  MutexLock lock(&mu_);
  config_ = std::move(config);
  // IndexPodLocked may erase the entry it indexes: walk a copy of the keys.
  std::vector<std::string> keys;
  keys.reserve(pods_.size());
  for (const auto& [key, e] : pods_) {
    keys.push_back(key);
  }
  for (const auto& key : keys) {
    PodEntry& e = *pods_.at(key);
    DerivePodLocked(e, true);
    IndexPodLocked(key, e.indexed_node);
  }
  for (auto& [name, e] : nodes_) {
    // The civil time only matters for a node whose liveness changes right now; the next
    // handshake tick re-evaluates with the real time anyway.
    e->logged_errors.clear();
    DeriveNodeLocked(*e, INT64_MIN / 2, true);
  }
}

// ---------------------------------------------------------------------------- nodes

bool ClusterCache::LiveLocked(const NodeEntry& e, const std::string& cw, int64_t now_civil) const {
  if (e.dead.count(cw) != 0) {
    return false;
  }
  hami::HealthInput in;
  if (auto it = e.annotations.find(hami::NodeHandshakeKey(cw)); it != e.annotations.end()) {
    in.handshake = it->second;
  }
  in.now_civil_seconds = now_civil;
  if (const config::ChipConfig* chip = config_->FindByCommonWord(cw); chip != nullptr) {
    if (auto a = e.allocatable.find(chip->resource_name); a != e.allocatable.end()) {
      in.allocatable_positive = PositiveQuantity(a->second);
    }
  }
  return hami::CheckHealth(in).healthy;
}

void ClusterCache::DeriveNodeLocked(NodeEntry& e, int64_t now_civil, bool log_errors) {
  scheduling::NodeRegistration reg =
      scheduling::NodeStateFromAnnotations(e.name, e.annotations, *config_);
  for (const auto& [cw, err] : reg.errors) {
    const std::string& text = e.annotations[hami::NodeRegisterKey(cw)];
    auto logged = e.logged_errors.find(cw);
    if (logged == e.logged_errors.end() || logged->second != text) {
      ++garbled_;
      if (log_errors) {
        Log("node " + e.name + ": skipping " + cw + " devices: " + err.ToString());
      }
      e.logged_errors[cw] = text;
    }
  }
  for (auto it = e.logged_errors.begin(); it != e.logged_errors.end();) {
    it = reg.errors.count(it->first) == 0 ? e.logged_errors.erase(it) : std::next(it);
  }
  // A fresh plugin report revives a chip type the handshake declared dead.
  for (auto it = e.dead.begin(); it != e.dead.end();) {
    auto hs = e.annotations.find(hami::NodeHandshakeKey(*it));
    const bool reported = hs != e.annotations.end() && StartsWith(hs->second, "Reported");
    it = reported ? e.dead.erase(it) : std::next(it);
  }
  for (auto it = reg.state.registered.begin(); it != reg.state.registered.end();) {
    const std::string cw = it->first;
    if (e.dead.count(cw) == 0 && !LiveLocked(e, cw, now_civil)) {
      e.dead.insert(cw);
      ++unregistered_;
      Log("node " + e.name + ": " + cw +
          " unregistered: the device plugin stopped answering the handshake");
    }
    it = e.dead.count(cw) != 0 ? reg.state.registered.erase(it) : std::next(it);
  }
  e.state = std::move(reg.state);
  RecomputeNodeLocked(e.name);
}

void ClusterCache::UpsertNode(const json& node, int64_t now_civil) {
  auto meta = kube::ParseObjectMeta(node);
  if (!meta.ok() || meta->name.empty()) {
    Log("ignoring a node object: " +
        (meta.ok() ? std::string("no metadata.name") : meta.status().ToString()));
    return;
  }
  MutexLock lock(&mu_);
  for (const auto& [k, v] : options_.node_label_selector) {
    auto l = meta->labels.find(k);
    if (l == meta->labels.end() || l->second != v) {
      // Not ours to schedule to (any longer): forget it, as if deleted.
      if (auto it = nodes_.find(meta->name); it != nodes_.end()) {
        registered_nodes_ -= it->second->usage ? 1 : 0;
        nodes_.erase(it);
        ++nodes_generation_;
      }
      return;
    }
  }
  auto& slot = nodes_[meta->name];
  const bool fresh = !slot;
  if (fresh) {
    slot = std::make_unique<NodeEntry>();
    slot->name = meta->name;
    ++nodes_generation_;
  }
  slot->resource_version = meta->resource_version;
  hami::Annotations annotations(meta->annotations.begin(), meta->annotations.end());
  std::map<std::string, std::string, std::less<>> allocatable;
  const json& alloc = kube::Field(kube::Field(node, "status"), "allocatable");
  if (alloc.is_object()) {
    for (auto it = alloc.begin(); it != alloc.end(); ++it) {
      if (it->is_string()) {
        allocatable[it.key()] = it->get<std::string>();
      }
    }
  }
  // Most node updates touch nothing the scheduler derives (the node lock changes twice per
  // bound pod, kubelet heartbeats): keep the decoded devices and their usage then.
  const bool same_inputs = !fresh && allocatable == slot->allocatable &&
                           SameRegistrationInputs(slot->annotations, annotations, *config_);
  slot->annotations = std::move(annotations);
  slot->allocatable = std::move(allocatable);
  if (same_inputs) {
    bool all_live = true;
    for (const auto& [cw, _] : slot->state.registered) {
      all_live = all_live && LiveLocked(*slot, cw, now_civil);
    }
    if (all_live) {
      slot->state.annotations = slot->annotations;
      return;
    }
  }
  DeriveNodeLocked(*slot, now_civil, true);
}

void ClusterCache::DeleteNode(const json& node) {
  const std::string name = NameOf(node);
  MutexLock lock(&mu_);
  auto it = nodes_.find(name);
  if (it != nodes_.end()) {
    registered_nodes_ -= it->second->usage ? 1 : 0;
    nodes_.erase(it);
    ++nodes_generation_;  // resolved_entries_ may point at it
  }
}

std::vector<HandshakePatch> ClusterCache::HandshakeTick(int64_t now_civil) {
  std::vector<HandshakePatch> out;
  MutexLock lock(&mu_);
  for (auto& [name, e] : nodes_) {
    bool changed = false;
    for (const auto& chip : config_->chips) {
      const std::string& cw = chip.common_word;
      if (e->annotations.count(hami::NodeRegisterKey(cw)) == 0) {
        continue;  // not an Ascend node for this chip: no stamp (upstream stamps every node)
      }
      const std::string hs_key = hami::NodeHandshakeKey(cw);
      auto hs = e->annotations.find(hs_key);
      if (e->dead.count(cw) != 0) {
        if (hs != e->annotations.end() && hs->second.find("Requesting") != std::string::npos) {
          out.push_back({name, hs_key, std::nullopt});
        }
        continue;
      }
      hami::HealthInput in;
      if (hs != e->annotations.end()) {
        in.handshake = hs->second;
      }
      in.now_civil_seconds = now_civil;
      if (auto a = e->allocatable.find(chip.resource_name); a != e->allocatable.end()) {
        in.allocatable_positive = PositiveQuantity(a->second);
      }
      hami::HealthDecision d = hami::CheckHealth(in);
      if (!d.healthy) {
        changed = true;  // DeriveNodeLocked declares it dead and logs
        out.push_back({name, hs_key, std::nullopt});
      } else if (d.action == hami::HandshakeAction::kPatchRequesting) {
        out.push_back({name, hs_key, d.patch_value});
      }
    }
    if (changed) {
      DeriveNodeLocked(*e, now_civil, true);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------- pods

void ClusterCache::DropAssumedLocked(PodEntry& e) {
  if (!e.assumed) {
    return;
  }
  assumed_by_token_.erase(e.token);
  e.assumed.reset();
  e.expected.clear();
}

void ClusterCache::DerivePodLocked(PodEntry& e, bool log_errors) {
  auto placed = scheduling::PlacedPodOf(e.facts, *config_);
  if (!placed.ok()) {
    ++garbled_;
    if (log_errors) {
      Log("pod " + e.key + ": usage not counted: " + placed.status().ToString());
    }
    e.placed.reset();
    return;
  }
  e.placed = std::move(*placed);
}

const PlacedPod* ClusterCache::EffectiveLocked(const PodEntry& e) const {
  if (e.assumed) {
    return &*e.assumed;
  }
  if (e.placed) {
    return &*e.placed;
  }
  return nullptr;
}

void ClusterCache::IndexPodLocked(const std::string& key, const std::string& old_node) {
  auto it = pods_.find(key);
  std::string new_node;
  if (it != pods_.end()) {
    if (const PlacedPod* p = EffectiveLocked(*it->second)) {
      new_node = p->node;
    }
  }
  if (!old_node.empty()) {
    auto s = pods_by_node_.find(old_node);
    if (s != pods_by_node_.end()) {
      s->second.erase(key);
      if (s->second.empty()) {
        pods_by_node_.erase(s);
      }
    }
  }
  if (!new_node.empty()) {
    pods_by_node_[new_node].insert(key);
  }
  if (it != pods_.end()) {
    it->second->indexed_node = new_node;
    if (new_node.empty()) {
      pods_.erase(it);  // holds nothing: not worth remembering
    }
  }
  if (!old_node.empty()) {
    RecomputeNodeLocked(old_node);
  }
  if (!new_node.empty() && new_node != old_node) {
    RecomputeNodeLocked(new_node);
  }
}

void ClusterCache::RecomputeNodeLocked(const std::string& node) {
  auto n = nodes_.find(node);
  if (n == nodes_.end()) {
    return;  // pods indexed under an unknown node count once it shows up
  }
  NodeEntry& e = *n->second;
  registered_nodes_ -= e.usage ? 1 : 0;
  e.version = next_version_++;  // every verdict about the node is stale from here on
  e.usage.reset();
  e.summary.reset();
  if (e.state.registered.empty()) {
    return;
  }
  scheduling::NodeDevices devices = scheduling::CapacityOf(e.state);
  if (auto s = pods_by_node_.find(node); s != pods_by_node_.end()) {
    for (const auto& key : s->second) {
      auto p = pods_.find(key);
      if (p == pods_.end()) {
        continue;
      }
      if (const PlacedPod* placed = EffectiveLocked(*p->second)) {
        scheduling::AddPodUsage(devices, *placed, *config_);
      }
    }
  }
  e.usage = std::move(devices);
  e.summary = scheduling::SummarizeNode(*config_, e.state, *e.usage);
  ++registered_nodes_;
}

void ClusterCache::UpsertPod(const json& obj) {
  auto parsed = scheduling::PodSpecFromJson(obj);
  if (!parsed.ok()) {
    Log("ignoring a pod object: " + parsed.status().ToString());
    return;
  }
  PodSpec& pod = *parsed;
  const std::string key = pod.Key();
  MutexLock lock(&mu_);
  auto it = pods_.find(key);
  const bool terminated =
      pod.phase == scheduling::PodPhase::kSucceeded || pod.phase == scheduling::PodPhase::kFailed;
  bool has_usage_annotation = pod.annotations.count(hami::kAssignedNodeAnnotation) != 0;
  if (it == pods_.end() && (terminated || !has_usage_annotation)) {
    return;  // nothing to count, nothing to forget
  }
  if (it == pods_.end()) {
    auto e = std::make_unique<PodEntry>();
    e->key = key;
    it = pods_.emplace(key, std::move(e)).first;
  }
  PodEntry& e = *it->second;
  const std::string old_node = e.indexed_node;
  if (terminated || (!e.uid.empty() && !pod.uid.empty() && e.uid != pod.uid)) {
    // A terminated pod frees its devices; a new pod under the same name is not the one
    // Filter assumed.
    DropAssumedLocked(e);
  }
  e.uid = pod.uid;
  e.facts = PodSpec{};
  e.facts.ns = pod.ns;
  e.facts.name = pod.name;
  e.facts.uid = pod.uid;
  e.facts.phase = pod.phase;
  e.facts.init_containers.resize(pod.init_containers.size());
  for (auto& [k, v] : pod.annotations) {
    if (UsageAnnotation(k)) {
      e.facts.annotations.emplace(k, v);
    }
  }
  DerivePodLocked(e, true);
  if (e.assumed && e.placed) {
    bool confirmed = true;
    for (const auto& [k, v] : e.expected) {
      auto a = e.facts.annotations.find(k);
      confirmed = confirmed && a != e.facts.annotations.end() && a->second == v;
    }
    if (confirmed) {
      DropAssumedLocked(e);
    }
  }
  IndexPodLocked(key, old_node);
}

void ClusterCache::DeletePod(const json& obj) {
  const json& meta = kube::Field(obj, "metadata");
  const std::string key =
      kube::StringField(meta, "namespace", "default") + "/" + kube::StringField(meta, "name");
  MutexLock lock(&mu_);
  auto it = pods_.find(key);
  if (it == pods_.end()) {
    return;
  }
  const std::string old_node = it->second->indexed_node;
  DropAssumedLocked(*it->second);
  pods_.erase(it);
  IndexPodLocked(key, old_node);
}

FilterDecision ClusterCache::ChooseAndAssume(const PodSpec& pod,
                                             const std::vector<std::string>& node_names,
                                             const scheduling::FilterOptions& options,
                                             SteadyTime now, int64_t now_unix) {
  FilterDecision d;
  const std::string key = pod.Key();
  MutexLock lock(&mu_);
  // A pod filtered again (a retry) must not compete with its own earlier allocation.
  std::string set_aside;
  if (auto it = pods_.find(key); it != pods_.end() && !it->second->indexed_node.empty()) {
    set_aside = it->second->indexed_node;
    pods_by_node_[set_aside].erase(key);
    RecomputeNodeLocked(set_aside);
  }
  // Verdicts of earlier pods of the same shape stand for nodes that have not changed since:
  // only those that did (typically the one the previous pod went to) are evaluated again.
  scheduling::FilterOptions filter_options = options;
  filter_options.collect_verdicts = options_.reuse_verdicts;
  uint32_t shape = 0;
  if (options_.reuse_verdicts) {
    std::string shape_key = scheduling::PodShapeKey(pod, options);
    auto [it, inserted] = shape_ids_.try_emplace(std::move(shape_key), next_shape_id_);
    if (inserted) {
      ++next_shape_id_;  // never reused, so a forgotten id cannot alias a new shape
    }
    shape = it->second;
    if (shape_ids_.size() > kMaxRememberedShapes) {
      shape_ids_.clear();  // bounded; the verdicts of forgotten shapes just go unused
    }
  }
  std::vector<scheduling::NodeCandidate> candidates;
  candidates.reserve(node_names.size());
  std::vector<NodeEntry*> entries;  // per candidate; null for unknown nodes
  entries.reserve(node_names.size());
  std::deque<scheduling::NodeState> unknown;  // stable addresses for the candidates
  // kube-scheduler sends the same node list pod after pod: resolve it by name only when it
  // or the set of cached nodes changed.
  if (resolved_generation_ != nodes_generation_ || node_names != resolved_names_) {
    resolved_names_ = node_names;
    resolved_entries_.clear();
    resolved_entries_.reserve(node_names.size());
    for (const auto& name : node_names) {
      auto n = nodes_.find(name);
      resolved_entries_.push_back(n == nodes_.end() ? nullptr : n->second.get());
    }
    resolved_generation_ = nodes_generation_;
  }
  for (size_t i = 0; i < node_names.size(); ++i) {
    const std::string& name = node_names[i];
    NodeEntry* resolved = resolved_entries_[i];
    if (resolved == nullptr || !resolved->usage) {
      d.unknown_nodes.push_back(name);
      unknown.emplace_back().name = name;
      candidates.push_back({&unknown.back(), nullptr});  // FilterPod: "node unregistered"
      entries.push_back(nullptr);
      continue;
    }
    NodeEntry& e = *resolved;
    const scheduling::NodeVerdict* verdict = nullptr;
    if (shape != 0) {
      for (const auto& m : e.verdicts) {
        if (m.shape == shape && m.version == e.version) {
          verdict = &m.verdict;
        }
      }
    }
    candidates.push_back({&e.state, &*e.usage, &*e.summary, verdict});
    entries.push_back(&e);
  }
  d.outcome = scheduling::FilterPod(*config_, pod, candidates, filter_options);
  if (shape != 0 && d.outcome.error.ok() && d.outcome.verdicts.size() == candidates.size()) {
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (entries[i] != nullptr && candidates[i].verdict == nullptr) {
        RememberVerdictLocked(*entries[i], shape, d.outcome.verdicts[i]);
      }
    }
  }
  d.outcome.verdicts.clear();
  // `chosen` views cache strings that may change once the lock is released.
  for (auto& n : d.outcome.nodes) {
    n.chosen.clear();
  }
  if (!d.outcome.error.ok() || !d.outcome.chosen) {
    if (!set_aside.empty()) {
      pods_by_node_[set_aside].insert(key);
      RecomputeNodeLocked(set_aside);
    }
    return d;
  }
  const scheduling::NodeEvaluation& chosen = d.outcome.nodes[*d.outcome.chosen];
  d.annotations = scheduling::FilterAnnotations(*config_, pod.IsHamiCore(), chosen.node,
                                                chosen.allocation, now_unix);
  auto& slot = pods_[key];
  if (!slot) {
    slot = std::make_unique<PodEntry>();
    slot->key = key;
    slot->facts.ns = pod.ns;
    slot->facts.name = pod.name;
  }
  PodEntry& e = *slot;
  e.uid = pod.uid;
  DropAssumedLocked(e);
  PlacedPod assumed;
  assumed.key = key;
  assumed.node = chosen.node;
  assumed.init_containers = pod.init_containers.size();
  assumed.allocation = chosen.allocation;
  assumed.hami_core = pod.IsHamiCore();
  e.assumed = std::move(assumed);
  e.expected.clear();
  for (const auto& [k, v] : d.annotations) {
    if (UsageAnnotation(k)) {
      e.expected.emplace(k, v);
    }
  }
  // Never earlier than an older assumption, so assumed_by_token_ (token order) is also the
  // order of assumed_at, which ExpireAssumed relies on.
  last_assumed_at_ = std::max(last_assumed_at_, now);
  e.assumed_at = last_assumed_at_;
  e.token = next_token_++;
  d.token = e.token;
  assumed_by_token_.emplace(e.token, key);
  // set_aside was already taken out of the index; index from scratch.
  e.indexed_node.clear();
  IndexPodLocked(key, {});
  if (!set_aside.empty() && set_aside != chosen.node) {
    RecomputeNodeLocked(set_aside);
  }
  return d;
}

void ClusterCache::Unassume(const std::string& pod_key, uint64_t token) {
  MutexLock lock(&mu_);
  auto it = pods_.find(pod_key);
  if (it == pods_.end() || !it->second->assumed || it->second->token != token) {
    return;
  }
  const std::string old_node = it->second->indexed_node;
  DropAssumedLocked(*it->second);
  IndexPodLocked(pod_key, old_node);
}

size_t ClusterCache::ExpireAssumed(SteadyTime now) {
  MutexLock lock(&mu_);
  std::vector<std::pair<std::string, std::string>> expired;
  // Oldest first; stops at the first assumption still young (this runs every 50 ms under the
  // lock Filter takes, so it must not walk every pod).
  while (!assumed_by_token_.empty()) {
    auto oldest = assumed_by_token_.begin();
    auto it = pods_.find(oldest->second);
    if (it == pods_.end() || !it->second->assumed || it->second->token != oldest->first) {
      assumed_by_token_.erase(oldest);  // defensive: every drop erases its token
      continue;
    }
    PodEntry& e = *it->second;
    if (now - e.assumed_at <= options_.assume_ttl) {
      break;
    }
    DropAssumedLocked(e);
    expired.emplace_back(e.key, e.indexed_node);
  }
  for (const auto& [key, node] : expired) {
    Log("pod " + key + ": assumed allocation on " + node +
        " expired (its annotations never came back through the watch)");
    IndexPodLocked(key, node);
  }
  assume_expired_ += expired.size();
  return expired.size();
}

// ---------------------------------------------------------------------------- introspection

std::vector<DeviceSnapshot> ClusterCache::Devices() const {
  MutexLock lock(&mu_);
  std::vector<DeviceSnapshot> out;
  for (const auto& [node, e] : nodes_) {
    if (!e->usage) {
      continue;
    }
    for (const auto& [cw, list] : *e->usage) {
      for (const auto& d : list) {
        DeviceSnapshot s;
        s.node = node;
        s.uuid = std::string(d.id);
        s.index = d.index;
        s.type = cw;
        s.health = d.health;
        s.count = d.count;
        s.used = d.used;
        s.totalmem = d.totalmem;
        s.usedmem = d.usedmem;
        s.totalcore = d.totalcore;
        s.usedcores = d.usedcores;
        out.push_back(std::move(s));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const DeviceSnapshot& a, const DeviceSnapshot& b) {
    return std::tie(a.node, a.type, a.index, a.uuid) < std::tie(b.node, b.type, b.index, b.uuid);
  });
  return out;
}

std::vector<ContainerAllocationSnapshot> ClusterCache::Allocations() const {
  MutexLock lock(&mu_);
  std::vector<ContainerAllocationSnapshot> out;
  for (const auto& [key, e] : pods_) {
    const PlacedPod* p = EffectiveLocked(*e);
    if (p == nullptr) {
      continue;
    }
    for (const auto& [cw, containers] : p->allocation) {
      for (size_t i = 0; i < containers.size(); ++i) {
        for (const auto& dev : containers[i]) {
          ContainerAllocationSnapshot s;
          s.ns = e->facts.ns;
          s.pod = e->facts.name;
          s.node = p->node;
          s.container_index = i;
          s.uuid = dev.uuid;
          s.memory = dev.usedmem;
          s.cores = dev.usedcores;
          out.push_back(std::move(s));
        }
      }
    }
  }
  return out;
}

CacheCounts ClusterCache::Counts() const {
  MutexLock lock(&mu_);
  CacheCounts c;
  c.nodes = registered_nodes_;
  for (const auto& [key, e] : pods_) {
    c.pods_with_usage += EffectiveLocked(*e) != nullptr ? 1 : 0;
    c.assumed += e->assumed ? 1 : 0;
  }
  c.assume_expired = assume_expired_;
  c.garbled_annotations = garbled_;
  c.handshake_unregistered = unregistered_;
  return c;
}

std::optional<PodPlacement> ClusterCache::PlacementOf(const std::string& pod_key) const {
  MutexLock lock(&mu_);
  auto it = pods_.find(pod_key);
  if (it == pods_.end()) {
    return std::nullopt;
  }
  const PlacedPod* p = EffectiveLocked(*it->second);
  if (p == nullptr) {
    return std::nullopt;
  }
  PodPlacement out;
  out.node = p->node;
  out.uid = it->second->uid;
  for (const auto& [cw, containers] : p->allocation) {
    for (const auto& c : containers) {
      out.uses_devices = out.uses_devices || !c.empty();
    }
  }
  return out;
}

std::optional<NodeLockHint> ClusterCache::NodeLockOf(const std::string& node) const {
  MutexLock lock(&mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) {
    return std::nullopt;
  }
  NodeLockHint hint;
  hint.resource_version = it->second->resource_version;
  auto a = it->second->annotations.find(hami::kNodeLockAnnotation);
  if (a != it->second->annotations.end()) {
    hint.value = a->second;
  }
  return hint;
}

std::optional<scheduling::NodeState> ClusterCache::NodeForTest(const std::string& node) const {
  MutexLock lock(&mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end() || it->second->state.registered.empty()) {
    return std::nullopt;
  }
  return it->second->state;
}

std::optional<std::string> ClusterCache::PodNodeForTest(const std::string& pod_key) const {
  MutexLock lock(&mu_);
  auto it = pods_.find(pod_key);
  if (it == pods_.end() || it->second->indexed_node.empty()) {
    return std::nullopt;
  }
  return it->second->indexed_node;
}

}  // namespace npushare::scheduler
