#include "kube/node_lock_client.h"

#include <nlohmann/json.hpp>

#include "hami/types.h"
#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"

namespace npushare::kube {
namespace {

using nlohmann::json;

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// NodeLockRead: the node's lock annotation (nullopt when absent) and resourceVersion.
struct NodeLockRead {
  std::optional<std::string> value;
  std::string resource_version;
};

Result<NodeLockRead> ReadLock(KubeClient& client, std::string_view node) {
  NPUSHARE_ASSIGN_OR_RETURN(json obj, client.Get(kNodes, "", node));
  NPUSHARE_ASSIGN_OR_RETURN(ObjectMeta meta, ParseObjectMeta(obj));
  NodeLockRead read;
  read.resource_version = meta.resource_version;
  auto it = meta.annotations.find(hami::kNodeLockAnnotation);
  if (it != meta.annotations.end()) {
    read.value = it->second;
  }
  return read;
}

json LockPatch(const json& value) {
  return json{{"metadata", {{"annotations", {{hami::kNodeLockAnnotation, value}}}}}};
}

}  // namespace

bool IsLostResponse(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kUnknown:
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

NodeLockClient::NodeLockClient(KubeClient& client, Clock& clock, NodeLockOptions options)
    : client_(client), clock_(clock), options_(options), rng_(options.jitter_seed) {}

std::string NodeLockClient::LockValueFor(const hami::PodRef& pod,
                                         std::chrono::system_clock::time_point now) {
  return hami::FormatNodeLock(UnixSeconds(now), 0, pod.ns, pod.name);
}

Mutex& NodeLockClient::NodeMutex(std::string_view node) {
  MutexLock lock(&mu_);
  auto& slot = node_mutexes_[std::string(node)];
  if (!slot) {
    slot = std::make_unique<Mutex>();
  }
  return *slot;
}

void NodeLockClient::Backoff(int round) {
  const int shift = round < 20 ? round : 20;
  const auto base = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.initial_backoff) *
                    (int64_t{1} << shift);
  double factor = 1.0;
  {
    MutexLock lock(&mu_);
    factor += std::uniform_real_distribution<double>(0.0, 0.5)(rng_);
  }
  clock_.SleepFor(
      std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(base.count()) * factor)));
}

Status NodeLockClient::TryAcquire(std::string_view node, const hami::PodRef& pod, bool* retry) {
  *retry = false;
  NPUSHARE_ASSIGN_OR_RETURN(NodeLockRead read, ReadLock(client_, node));
  const auto now = clock_.WallNow();
  std::optional<std::string_view> existing;
  if (read.value) {
    existing = *read.value;
  }
  hami::LockAcquireDecision d =
      hami::DecideLockAcquire(existing, UnixSeconds(now), options_.timeout_seconds, pod, {}, node);
  if (d.action == hami::LockAcquireAction::kNeedHolderCheck) {
    Result<json> holder = client_.Get(kPods, d.holder.ns, d.holder.name);
    if (!holder.ok() && !IsNotFound(holder.status())) {
      return holder.status().WithContext("looking up lock holder " + d.holder.ns + "/" +
                                         d.holder.name);
    }
    d = hami::DecideLockAcquire(existing, UnixSeconds(now), options_.timeout_seconds, pod,
                                holder.ok(), node);
  }
  switch (d.action) {
    case hami::LockAcquireAction::kAlreadyHeld:
      return OkStatus();
    case hami::LockAcquireAction::kContention:
      return AbortedError(d.message);
    case hami::LockAcquireAction::kError:
      return InvalidArgumentError(d.message);
    case hami::LockAcquireAction::kSet:
    case hami::LockAcquireAction::kTakeOverAndSet:
      break;
    default:
      return InternalError("unexpected node lock decision");
  }
  PatchOptions po;
  po.resource_version = read.resource_version;
  Result<json> patched =
      client_.Patch(kNodes, "", node, PatchType::kMerge, LockPatch(LockValueFor(pod, now)), po);
  if (patched.ok()) {
    return OkStatus();
  }
  if (IsConflict(patched.status()) || IsLostResponse(patched.status())) {
    *retry = true;
  }
  return patched.status();
}

Status NodeLockClient::Acquire(std::string_view node, const hami::PodRef& pod) {
  if (pod.ns.empty() || pod.name.empty()) {
    return InvalidArgumentError("node lock owner needs a namespace and a name");
  }
  MutexLock node_lock(&NodeMutex(node));
  Status last;
  for (int round = 0; round < options_.max_attempts; ++round) {
    if (round > 0) {
      Backoff(round - 1);
    }
    bool retry = false;
    last = TryAcquire(node, pod, &retry);
    if (last.ok() || !retry) {
      return last;
    }
  }
  if (IsConflict(last)) {
    return AbortedError("node " + std::string(node) +
                        " lock: " + std::to_string(options_.max_attempts) +
                        " conflicting updates in a row: " + last.message());
  }
  return last.WithContext("acquiring the lock of node " + std::string(node));
}

Status NodeLockClient::TryRelease(std::string_view node, const hami::PodRef& pod, bool force,
                                  std::optional<std::string>* first_seen, bool* retry) {
  *retry = false;
  Result<NodeLockRead> read = ReadLock(client_, node);
  if (!read.ok()) {
    return IsNotFound(read.status()) ? OkStatus() : read.status();
  }
  std::optional<std::string_view> existing;
  if (read->value) {
    existing = *read->value;
  }
  if (hami::DecideLockRelease(existing, pod, force) == hami::LockReleaseAction::kNothing) {
    return OkStatus();
  }
  // Forced and legacy removals are decided without an owner match: only the value first
  // seen may go, never a lock someone took after it.
  const bool owner_matched = !force && read->value->find(',') != std::string::npos;
  if (!first_seen->has_value()) {
    *first_seen = *read->value;
  } else if (!owner_matched && **first_seen != *read->value) {
    return OkStatus();
  }
  PatchOptions po;
  po.resource_version = read->resource_version;
  Result<json> patched = client_.Patch(kNodes, "", node, PatchType::kMerge, LockPatch(nullptr), po);
  if (patched.ok() || IsNotFound(patched.status())) {
    return OkStatus();
  }
  if (IsConflict(patched.status()) || IsLostResponse(patched.status())) {
    *retry = true;
  }
  return patched.status();
}

Status NodeLockClient::Release(std::string_view node, const hami::PodRef& pod, bool force) {
  MutexLock node_lock(&NodeMutex(node));
  std::optional<std::string> first_seen;
  Status last;
  for (int round = 0; round < options_.max_attempts; ++round) {
    if (round > 0) {
      Backoff(round - 1);
    }
    bool retry = false;
    last = TryRelease(node, pod, force, &first_seen, &retry);
    if (last.ok() || !retry) {
      return last;
    }
  }
  if (IsConflict(last)) {
    return AbortedError("node " + std::string(node) +
                        " lock release: " + std::to_string(options_.max_attempts) +
                        " conflicting updates in a row: " + last.message());
  }
  return last.WithContext("releasing the lock of node " + std::string(node));
}

}  // namespace npushare::kube
