// File: sim/kube/persistence.h
//
// StorePersistence: makes an ObjectStore durable in a directory (kube-local --persist DIR):
// load at start (snapshot + journal replay, journal.h describes the files), a write-ahead
// journal attached to the store so an acknowledged write survives kill -9, and compaction
// (a new snapshot, older journal segments removed) once the current segment is big.
//
// Usage:
//   auto store = std::make_shared<ObjectStore>();
//   NPUSHARE_ASSIGN_OR_RETURN(auto persistence, StorePersistence::Open(dir, *store, {}));
//   ... serve; call persistence->MaybeCompact() now and then ...
//   persistence->Compact();   // at shutdown: the next start loads one snapshot
//   // REQUIRES: the store is not used after `persistence` is destroyed without detaching:
//   persistence.reset() detaches the journal first.
//
// Thread safety: MaybeCompact/Compact from one thread at a time; the store may be written
// concurrently (the journal is rotated under the store lock).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "sim/kube/journal.h"
#include "sim/kube/object_store.h"

namespace npushare::kube_local {

struct PersistenceOptions {
  // compact_bytes: MaybeCompact() snapshots once the current journal segment is this big.
  // Larger: fewer snapshot writes, a longer replay at start. Default 16 MiB.
  uint64_t compact_bytes = uint64_t{16} << 20;
};

// LoadStats: what Open() found (for the start-up log line).
struct LoadStats {
  bool snapshot = false;
  size_t segments = 0;
  size_t records_replayed = 0;
  bool torn_tail_dropped = false;
};

class StorePersistence {
 public:
  // Open: loads DIR into `store` (which must be empty) and attaches the journal.
  // @return kFailedPrecondition when DIR is missing, not a directory or not writable, or the
  //   snapshot cannot be read; kInvalidArgument for a malformed snapshot; kDataLoss for a
  //   corrupt journal (other than a torn last record).
  static Result<std::unique_ptr<StorePersistence>> Open(const std::string& dir, ObjectStore& store,
                                                        PersistenceOptions options);
  ~StorePersistence();
  StorePersistence(const StorePersistence&) = delete;
  StorePersistence& operator=(const StorePersistence&) = delete;

  // MaybeCompact: Compact() when the current segment exceeds options.compact_bytes.
  Status MaybeCompact();
  // Compact: rotates the journal, writes DIR/snapshot.json at that revision, removes the older
  // segments. On error the directory still loads to the same state.
  Status Compact();

  const LoadStats& load_stats() const { return stats_; }
  static std::string SnapshotPath(const std::string& dir) { return dir + "/snapshot.json"; }

 private:
  StorePersistence(std::string dir, ObjectStore& store, PersistenceOptions options)
      : dir_(std::move(dir)), store_(store), options_(options) {}

  const std::string dir_;
  ObjectStore& store_;
  const PersistenceOptions options_;
  Journal journal_;
  LoadStats stats_;
};

}  // namespace npushare::kube_local
