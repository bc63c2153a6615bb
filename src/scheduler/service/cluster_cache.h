// File: scheduler/service/cluster_cache.h
//
// ClusterCache: what the scheduler knows about the cluster's NPUs, kept up to date by the
// node and pod informers' handlers and read by Filter. No I/O: handlers hand it objects,
// callers pass the time, and the handshake tick returns the patches to make.
//
// Nodes. Per node the NodeState the scheduling core needs, decoded when the node changes
// (never on the Filter path): hami.io/node-register-<cw> for every configured chip, and
// hami-vnpu-core. A garbled register annotation leaves that chip type out of the node (a log
// line says why); the rest of the node stays usable. The handshake (hami-protocol.md §2.2)
// decides per (node, <cw>) whether the plugin is alive: HandshakeTick() asks to stamp
// `Requesting_<now>` over a plugin's `Reported_`, and a `Requesting_` stamp older than 60 s on
// a node whose allocatable count is not positive unregisters that chip type. Deliberate fix
// over upstream: a chip type declared dead stays unregistered until the plugin writes a new
// `Reported_` stamp (upstream re-reads the stale register annotation after deleting the
// handshake, so a dead node's devices come back for ~60 s at a time).
//
// Pods. Usage comes from hami.io/<cw>-devices-allocated of pods that carry hami.io/vgpu-node
// and are not Succeeded/Failed, indexed by node, so a fresh cache (restart) rebuilds exact
// usage from a LIST. "Assumed" pods cover the gap between Filter and the watch: ChooseAndAssume
// picks a node and counts the allocation at once, under the same lock, so concurrent filters
// cannot both take the last slot. The assumed entry is replaced when the pod arrives carrying
// exactly the annotations that Filter wrote (stale events do not confirm it), dropped when
// the pod is deleted or terminates, dropped by Unassume (the annotation patch failed), and
// expired by ExpireAssumed after `assume_ttl`.
//
// Speed. Filter never decodes: node devices, their usage and a NodeSummary are rebuilt when a
// node or its pods change; the node list kube-scheduler sends is resolved once and reused; and
// per node the verdicts of the last few pod shapes are kept until the node changes
// (ClusterCacheOptions::reuse_verdicts), so a pod like the previous one evaluates only the
// nodes that changed since.
//
// Usage:
//   ClusterCache cache(config, {.assume_ttl = 60s}, log);
//   informer handlers: cache.UpsertNode(json) / DeleteNode(json) / UpsertPod(json) / ...
//   auto d = cache.ChooseAndAssume(pod, node_names, filter_options, now, now_unix);
//   if (d.outcome.chosen) { patch annotations; on failure cache.Unassume(pod key, d.token); }
//   every tick: for (auto& p : cache.HandshakeTick(now_civil)) patch node p.node;
//
// Thread safety: all methods are safe for concurrent use (one internal mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "config/device_config.h"
#include "scheduler/service/cached_node_lock.h"
#include "scheduling/node_usage.h"
#include "scheduling/pod_filter.h"
#include "scheduling/pod_spec.h"

namespace npushare::scheduler {

using SteadyTime = std::chrono::steady_clock::time_point;
using LogFn = std::function<void(const std::string&)>;

struct ClusterCacheOptions {
  // assume_ttl: an assumed allocation not confirmed by the watch within this time is dropped.
  // Default 60 s. Shorter risks dropping one whose confirmation is merely slow (a possible
  // overcommit); longer keeps capacity blocked after a lost annotation patch.
  std::chrono::seconds assume_ttl{60};
  // node_label_selector: nodes missing any of these labels are not registered (as HAMi's
  // --node-label-selector): Filter reports them "node unregistered", the handshake skips
  // them. Empty (default): every node.
  std::map<std::string, std::string> node_label_selector;

  // --- parameters that affect performance ---
  // reuse_verdicts: ChooseAndAssume remembers, per node, what Filter decided for the last few
  // pod shapes (scheduling::PodShapeKey) and reuses it while the node and its usage do not
  // change, so a stream of similar pods re-evaluates only the nodes that changed (the one the
  // previous pod went to) instead of every node. Default true; false evaluates every node
  // every time (same decisions, ~10x the work per pod at 1,000 nodes).
  bool reuse_verdicts = true;
};

// HandshakePatch: one node annotation to write (value) or remove (nullopt).
struct HandshakePatch {
  std::string node;
  std::string key;
  std::optional<std::string> value;
};

// FilterDecision: FilterPod's outcome plus what ChooseAndAssume did with it.
struct FilterDecision {
  scheduling::FilterOutcome outcome;
  std::vector<std::string> unknown_nodes;  // asked-for names the cache has no devices for
  hami::Annotations annotations;           // to write on the pod (chosen only)
  uint64_t token = 0;                      // identifies the assumed entry (chosen only)
};

// DeviceSnapshot / PodAllocationSnapshot: what the metrics report.
struct DeviceSnapshot {
  std::string node;
  std::string uuid;
  uint32_t index = 0;
  std::string type;
  bool health = false;
  int32_t count = 0;
  int32_t used = 0;
  int64_t totalmem = 0;
  int64_t usedmem = 0;
  int32_t totalcore = 0;
  int32_t usedcores = 0;
};
struct ContainerAllocationSnapshot {
  std::string ns;
  std::string pod;
  std::string node;
  size_t container_index = 0;
  std::string uuid;
  int64_t memory = 0;
  int32_t cores = 0;
};
// PodPlacement: where the cache counts a pod (confirmed or assumed), for Bind.
struct PodPlacement {
  std::string node;
  std::string uid;            // "" when unknown (assumed from a pod body without uid)
  bool uses_devices = false;  // some container (init included) holds a device
};

struct CacheCounts {
  size_t nodes = 0;                     // nodes with at least one registered chip type
  size_t pods_with_usage = 0;           // pods counted (confirmed or assumed)
  size_t assumed = 0;                   // assumed entries not yet confirmed
  uint64_t assume_expired = 0;          // total expired by ExpireAssumed
  uint64_t garbled_annotations = 0;     // total undecodable register/allocation annotations seen
  uint64_t handshake_unregistered = 0;  // total (node, <cw>) declared dead
};

class ClusterCache {
 public:
  // ClusterCache: `config` must not be null. `log` may be empty (no logging).
  ClusterCache(std::shared_ptr<const config::DeviceConfig> config, ClusterCacheOptions options,
               LogFn log);
  ~ClusterCache();
  ClusterCache(const ClusterCache&) = delete;
  ClusterCache& operator=(const ClusterCache&) = delete;

  // SetConfig: switches the device config and re-derives every node and pod from the facts
  // already seen (no re-list needed). Assumed entries are kept.
  void SetConfig(std::shared_ptr<const config::DeviceConfig> config) NPUSHARE_EXCLUDES(mu_);
  std::shared_ptr<const config::DeviceConfig> config() const NPUSHARE_EXCLUDES(mu_);

  // Node informer events. `now_civil` is the local civil time in seconds (hami/handshake.h).
  void UpsertNode(const nlohmann::json& node, int64_t now_civil);
  void DeleteNode(const nlohmann::json& node);
  // Pod informer events.
  void UpsertPod(const nlohmann::json& pod);
  void DeletePod(const nlohmann::json& pod);

  // ChooseAndAssume: FilterPod over the nodes named in `node_names`, in that order (names
  // without registered devices are also listed in unknown_nodes; FilterPod reports them
  // "node unregistered"), with the pod's own earlier usage set aside; when a node is chosen
  // its allocation is assumed at once and `annotations` holds what to patch onto the pod.
  // The outcome's NodeEvaluation::chosen lists are cleared (they would view cache strings).
  FilterDecision ChooseAndAssume(const scheduling::PodSpec& pod,
                                 const std::vector<std::string>& node_names,
                                 const scheduling::FilterOptions& options, SteadyTime now,
                                 int64_t now_unix);
  // Unassume: drops the assumed entry of `pod_key` if it is still the one `token` names.
  void Unassume(const std::string& pod_key, uint64_t token) NPUSHARE_EXCLUDES(mu_);
  // ExpireAssumed: drops assumed entries older than assume_ttl; returns how many.
  size_t ExpireAssumed(SteadyTime now) NPUSHARE_EXCLUDES(mu_);

  // HandshakeTick: one register pass over every node and registered <cw>: re-evaluates
  // liveness at `now_civil` (unregistering dead chip types) and returns the patches the
  // leader should make: Requesting_ stamps, and removal of the handshake of dead ones.
  std::vector<HandshakePatch> HandshakeTick(int64_t now_civil);

  // PlacementOf: the placement counted for `pod_key`, or nullopt when the pod holds nothing.
  std::optional<PodPlacement> PlacementOf(const std::string& pod_key) const NPUSHARE_EXCLUDES(mu_);
  // NodeLockOf: the node lock annotation (hami.io/mutex.lock) and resourceVersion of `node`
  // as the informer last delivered them (may be stale: a hint, cached_node_lock.h), or
  // nullopt for a node the cache does not hold.
  std::optional<NodeLockHint> NodeLockOf(const std::string& node) const NPUSHARE_EXCLUDES(mu_);

  // Introspection for metrics and tests.
  std::vector<DeviceSnapshot> Devices() const NPUSHARE_EXCLUDES(mu_);
  std::vector<ContainerAllocationSnapshot> Allocations() const NPUSHARE_EXCLUDES(mu_);
  CacheCounts Counts() const NPUSHARE_EXCLUDES(mu_);
  // NodeState of `node` as Filter sees it (registered chip types only), or nullopt.
  std::optional<scheduling::NodeState> NodeForTest(const std::string& node) const
      NPUSHARE_EXCLUDES(mu_);
  // HasPodUsage: whether `pod_key` currently counts (confirmed or assumed), and where.
  std::optional<std::string> PodNodeForTest(const std::string& pod_key) const
      NPUSHARE_EXCLUDES(mu_);

 private:
  struct NodeEntry;
  struct PodEntry;

  void Log(const std::string& line) const;
  void DeriveNodeLocked(NodeEntry& e, int64_t now_civil, bool log_errors) NPUSHARE_REQUIRES(mu_);
  void DerivePodLocked(PodEntry& e, bool log_errors) NPUSHARE_REQUIRES(mu_);
  bool LiveLocked(const NodeEntry& e, const std::string& cw, int64_t now_civil) const
      NPUSHARE_REQUIRES(mu_);
  const scheduling::PlacedPod* EffectiveLocked(const PodEntry& e) const NPUSHARE_REQUIRES(mu_);
  // DropAssumedLocked: forgets e's assumed allocation (and its place in assumed_by_token_).
  void DropAssumedLocked(PodEntry& e) NPUSHARE_REQUIRES(mu_);
  // RememberVerdictLocked: stores what Filter decided on `e` for pod shape `shape`.
  void RememberVerdictLocked(NodeEntry& e, uint32_t shape, const scheduling::NodeVerdict& verdict)
      NPUSHARE_REQUIRES(mu_);
  void IndexPodLocked(const std::string& key, const std::string& old_node) NPUSHARE_REQUIRES(mu_);
  void RecomputeNodeLocked(const std::string& node) NPUSHARE_REQUIRES(mu_);

  const ClusterCacheOptions options_;
  const LogFn log_;

  mutable Mutex mu_;
  std::shared_ptr<const config::DeviceConfig> config_ NPUSHARE_GUARDED_BY(mu_);
  // Hashed: Filter looks up every candidate name (1,000s per call).
  std::unordered_map<std::string, std::unique_ptr<NodeEntry>> nodes_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<PodEntry>, std::less<>> pods_ NPUSHARE_GUARDED_BY(mu_);
  // node -> keys of pods whose effective usage is on it (the node may be unknown yet).
  std::map<std::string, std::set<std::string>, std::less<>> pods_by_node_ NPUSHARE_GUARDED_BY(mu_);
  // token -> pod key of every assumed entry, oldest first (ExpireAssumed walks it).
  std::map<uint64_t, std::string> assumed_by_token_ NPUSHARE_GUARDED_BY(mu_);
  SteadyTime last_assumed_at_ NPUSHARE_GUARDED_BY(mu_){};
  // PodShapeKey -> id (ids start at 1 and are never reused), for NodeEntry::verdicts.
  std::unordered_map<std::string, uint32_t> shape_ids_ NPUSHARE_GUARDED_BY(mu_);
  uint32_t next_shape_id_ NPUSHARE_GUARDED_BY(mu_) = 1;
  uint64_t next_version_ NPUSHARE_GUARDED_BY(mu_) = 1;
  // The node list of the last ChooseAndAssume resolved to entries (null: not cached), valid
  // while nodes_generation_ (bumped when an entry is added or erased) is unchanged.
  uint64_t nodes_generation_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t resolved_generation_ NPUSHARE_GUARDED_BY(mu_) = UINT64_MAX;
  std::vector<std::string> resolved_names_ NPUSHARE_GUARDED_BY(mu_);
  std::vector<NodeEntry*> resolved_entries_ NPUSHARE_GUARDED_BY(mu_);
  size_t registered_nodes_ NPUSHARE_GUARDED_BY(mu_) = 0;  // entries whose usage is set
  uint64_t next_token_ NPUSHARE_GUARDED_BY(mu_) = 1;
  uint64_t assume_expired_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t garbled_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t unregistered_ NPUSHARE_GUARDED_BY(mu_) = 0;
};

}  // namespace npushare::scheduler
