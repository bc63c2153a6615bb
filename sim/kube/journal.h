// File: sim/kube/journal.h
//
// Journal: kube-local's write-ahead log, the reason an acknowledged write survives kill -9
// (etcd's WAL, in miniature). The store appends one record per committed change while it holds
// its lock (so records are in revision order), and the HTTP answer is sent only after
// SyncThrough(rv) has made that record durable with fdatasync. Concurrent writers share one
// fdatasync (group commit): whoever syncs covers every record appended before the call.
//
// On-disk layout (a persist directory DIR):
//   DIR/snapshot.json              the store at some revision S (ObjectStore::Save's format)
//   DIR/journal-<20-digit R>.log   a segment; its first record has revision >= R
// A segment is a sequence of records:
//   u32 little-endian  payload length (1 .. kMaxRecordBytes)
//   u32 little-endian  CRC-32 (IEEE, as zlib's crc32) of the payload
//   payload            JSON {"rv":<int>,"r":"<resource>","k":"<key>","o":<object>}
//                      ("o" absent: the key was deleted at revision rv)
// Loading = snapshot, then every segment in R order, records with rv <= S skipped. Compaction
// rotates to a new segment (the old one is fdatasync'ed first), writes the snapshot atomically,
// then removes the older segments; a crash at any point leaves a loadable directory.
// Torn tail: a record cut short or failing its CRC at the end of the LAST segment is what a
// crash during an unacknowledged append leaves; it is dropped (and cut off the file). The same
// in an earlier segment, or a record out of revision order, is corruption: kDataLoss.
//
// Thread safety: Append/Rotate must be serialized by the caller (the store lock); SyncThrough
// may run concurrently with them and with itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace npushare::kube_local {

// JournalRecord: one change, as replayed at load.
struct JournalRecord {
  int64_t rv = 0;
  std::string resource;
  std::string key;
  bool deleted = false;
  nlohmann::json object;  // the stored object (null when deleted)
};

// EncodeJournalRecord: the bytes of one record (header + payload).
std::string EncodeJournalRecord(const JournalRecord& record);

// JournalSegment: a segment file's decoded records and where the valid prefix ends.
struct DecodedSegment {
  std::vector<JournalRecord> records;
  size_t valid_bytes = 0;  // bytes covered by `records`
  bool torn = false;       // bytes after valid_bytes did not form a record
};
// DecodeJournalSegment: parses `bytes` up to the first record that is cut short or corrupt.
DecodedSegment DecodeJournalSegment(std::string_view bytes);

// Crc32: CRC-32/IEEE of `data` (the checksum zlib's crc32() computes).
uint32_t Crc32(std::string_view data);

class Journal {
 public:
  static constexpr uint32_t kMaxRecordBytes = 64u << 20;

  Journal() = default;
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Open: starts a new segment DIR/journal-<start_rv>.log (created 0600; the directory entry is
  // fsync'ed). @return kFailedPrecondition when DIR is missing, not a directory or not
  // writable (the message says which); kInternal for other I/O errors.
  Status Open(const std::string& dir, int64_t start_rv);

  // Append: writes one record. A failed or short write is undone (the file is cut back) so no
  // garbage sits between records; if even that fails the journal refuses every later append.
  // @return kUnavailable when the record could not be written; kInvalidArgument when it is
  //   larger than kMaxRecordBytes. REQUIRES: Open() succeeded; serialized with Rotate().
  Status Append(const JournalRecord& record);

  // SyncThrough: returns once every record with revision <= rv is on disk (fdatasync).
  // @return kUnavailable when fdatasync fails.
  Status SyncThrough(int64_t rv) NPUSHARE_EXCLUDES(sync_mu_);

  // Rotate: syncs the current segment and starts journal-<start_rv>.log; on failure the
  // current segment stays in use. REQUIRES: serialized with Append().
  Status Rotate(int64_t start_rv) NPUSHARE_EXCLUDES(sync_mu_);

  // segment_bytes: bytes appended to the current segment (drives compaction).
  uint64_t segment_bytes() const { return segment_bytes_.load(); }
  const std::string& dir() const { return dir_; }

  // SegmentPath: DIR/journal-<20-digit rv>.log.
  static std::string SegmentPath(const std::string& dir, int64_t start_rv);
  // ListSegments: the segment files in DIR, oldest first, with their start revisions.
  static Result<std::vector<std::pair<int64_t, std::string>>> ListSegments(const std::string& dir);

 private:
  Status OpenSegment(int64_t start_rv);

  std::string dir_;
  Mutex sync_mu_;            // serializes fdatasync and fd switches
  int fd_ = -1;              // written under the caller's lock; switched under sync_mu_ too
  int64_t appended_rv_ = 0;  // guarded by the caller's lock (read under sync_mu_ in Rotate)
  std::atomic<int64_t> last_appended_{0};
  int64_t synced_rv_ NPUSHARE_GUARDED_BY(sync_mu_) = 0;
  bool broken_ = false;  // guarded by the caller's lock
  std::atomic<uint64_t> segment_bytes_{0};
};

}  // namespace npushare::kube_local
