// File: sim/kube/object_store.h
//
// ObjectStore: the in-memory "etcd" of the local API server. Objects are immutable JSON values
// shared by pointer; every write bumps one global resourceVersion counter (like etcd's
// revision) and appends an event to that resource's bounded history, from which watches are
// served. A watch that asks for events older than the retained history is "gone" (HTTP 410).
//
// Keys: a resource is named by "<plural>" or "<plural>.<group>" ("pods",
// "leases.coordination.k8s.io"); an object key is "<namespace>/<name>" or "<name>". Keys are
// kept sorted so paged LISTs can continue after a key.
//
// Persistence format (Save/Load): one JSON document
//   {"resourceVersion": <int>, "resources": {"<resource>": [<object>, ...], ...}}
// replaced atomically (common/atomic_file.h: a temporary file beside it, fsync, rename). History
// is not persisted: after Load every watch from an older RV is gone and clients relist.
// Durability: with a Journal attached (SetJournal, see journal.h and persistence.h) every
// change is journaled under the lock and Write/Remove return only once it is on disk; watches
// see a change only once it is durable, so no client observes a revision a crash could undo.
//
// Thread safety: safe for concurrent use without external synchronization.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "sim/kube/journal.h"

namespace npushare::kube_local {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

enum class EventType { kAdded, kModified, kDeleted };

// StoredEvent: one change. `prev` is the object before the change (null for kAdded).
struct StoredEvent {
  int64_t rv = 0;
  EventType type = EventType::kAdded;
  ObjectPtr object;
  ObjectPtr prev;
};

struct StoreOptions {
  // history_limit: events kept per resource for watches; older watches get 410. Default 100000.
  size_t history_limit = 100000;
};

class ObjectStore {
 public:
  explicit ObjectStore(StoreOptions options = {});
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // Mutator: given the current object (null when absent) returns the object to store, or an
  // error that aborts the write. The store then sets metadata.resourceVersion. Returning the
  // current pointer unchanged means "no-op" (no new RV, no event).
  using Mutator = std::function<Result<ObjectPtr>(const ObjectPtr& current)>;

  // Write: runs `mutate` under the store lock and commits its result.
  // @return the stored object (with its new RV), or the mutator's error.
  Result<ObjectPtr> Write(const std::string& resource, const std::string& key,
                          const Mutator& mutate) NPUSHARE_EXCLUDES(mu_);

  // Remove: deletes the object if `precondition` (may be empty) accepts it.
  // @return the last state (with the deletion's RV); kNotFound when absent.
  Result<ObjectPtr> Remove(const std::string& resource, const std::string& key,
                           const std::function<Status(const nlohmann::json&)>& precondition);

  // Get: the object or null.
  ObjectPtr Get(const std::string& resource, const std::string& key) const NPUSHARE_EXCLUDES(mu_);

  // ListPage: objects whose key starts with `prefix`, strictly after `after_key`, accepted by
  // `filter`, at most `limit` (0 = all). `more` is set when a further matching object exists.
  struct Page {
    std::vector<ObjectPtr> items;
    int64_t rv = 0;
    bool more = false;
    std::string last_key;
  };
  Page ListPage(const std::string& resource, const std::string& prefix,
                const std::string& after_key, size_t limit,
                const std::function<bool(const nlohmann::json&)>& filter) const;

  // WatchBatch: events of one resource with rv > after_rv, and the RV through which the
  // resource's history has been fully delivered (`through_rv`). `gone` when after_rv is older
  // than the retained history or newer than the current RV.
  struct WatchBatch {
    std::vector<StoredEvent> events;
    int64_t through_rv = 0;
    bool gone = false;
  };
  // WaitEvents: returns as soon as events exist, or at `deadline`, or when `*stop` is set and
  // NotifyAll() was called.
  WatchBatch WaitEvents(const std::string& resource, int64_t after_rv,
                        std::chrono::steady_clock::time_point deadline,
                        const std::atomic<bool>* stop) const;
  // IsGone: whether a watch from after_rv can no longer be served.
  bool IsGone(const std::string& resource, int64_t after_rv) const NPUSHARE_EXCLUDES(mu_);

  // NotifyAll: wakes every WaitEvents() (used when a server stops).
  void NotifyAll() const;

  int64_t CurrentRv() const;
  size_t Count(const std::string& resource) const NPUSHARE_EXCLUDES(mu_);

  // CompactForTest: drops all retained history (every older watch becomes gone).
  void CompactForTest() NPUSHARE_EXCLUDES(mu_);

  // SetJournal: every later change is appended to `journal` under the store lock (a failed
  // append aborts the write with the journal's error) and Write/Remove return only after
  // Journal::SyncThrough covered it (an fdatasync failure is returned as kUnavailable; the
  // change then stays in memory). REQUIRES: before concurrent use; `journal` outlives its use.
  void SetJournal(Journal* journal) NPUSHARE_EXCLUDES(mu_);
  // Replay: applies one journaled change while loading (no history, no journal). Records must
  // come in increasing revision order. @return kDataLoss for a record not after CurrentRv().
  Status Replay(const JournalRecord& record) NPUSHARE_EXCLUDES(mu_);

  // Contents: the objects and the revision they are at.
  struct Contents {
    int64_t rv = 0;
    std::map<std::string, std::map<std::string, ObjectPtr>> objects;
  };
  // Capture: the current contents; `while_locked(rv)` (may be empty) runs under the store
  // lock, so no write falls between the capture and it (the journal rotates there). Its error
  // is returned.
  Result<Contents> Capture(const std::function<Status(int64_t rv)>& while_locked) const;
  // SaveContents: writes `contents` to `path` in the Save() format, atomically.
  static Status SaveContents(const Contents& contents, const std::string& path);

  // Save / Load: see the format above. Load replaces the contents; it reads at most
  // `max_bytes` (a store file larger than that is refused, not slurped).
  // @return Save: WriteFileAtomically's errors (kFailedPrecondition when the directory is
  //   missing or not writable, kInternal for other I/O errors), and dirty() stays set;
  //   Load: kFailedPrecondition when the file cannot be read or is too large,
  //   kInvalidArgument when malformed.
  static constexpr size_t kMaxStoreFileBytes = size_t{512} << 20;
  Status Save(const std::string& path) const;
  Status Load(const std::string& path, size_t max_bytes = kMaxStoreFileBytes);
  // dirty: a write happened since the last Save().
  bool dirty() const { return dirty_.load(); }

 private:
  struct History {
    std::deque<StoredEvent> events;
    int64_t compacted_rv = 0;  // events with rv <= compacted_rv may be missing
  };
  void AppendLocked(const std::string& resource, StoredEvent ev) NPUSHARE_REQUIRES(mu_);
  bool IsGoneLocked(const std::string& resource, int64_t after_rv) const NPUSHARE_REQUIRES(mu_);
  // JournalLocked: appends the change at revision rv (object null: deleted).
  Status JournalLocked(const std::string& resource, const std::string& key, int64_t rv,
                       const ObjectPtr& object) NPUSHARE_REQUIRES(mu_);
  // MakeDurable: waits for the journal to cover rv, then lets watches see it.
  Status MakeDurable(int64_t rv);

  const StoreOptions options_;
  mutable Mutex mu_;
  mutable CondVar cv_;
  std::map<std::string, std::map<std::string, ObjectPtr>> objects_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, History> history_ NPUSHARE_GUARDED_BY(mu_);
  int64_t rv_ NPUSHARE_GUARDED_BY(mu_) = 1;
  int64_t base_rv_ NPUSHARE_GUARDED_BY(mu_) = 0;     // RV at Load (older watches are gone)
  int64_t durable_rv_ NPUSHARE_GUARDED_BY(mu_) = 1;  // watches see events up to here
  Journal* journal_ = nullptr;
  mutable std::atomic<bool> dirty_{false};
};

}  // namespace npushare::kube_local
