#include "sim/kube/persistence.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/file_reader.h"

namespace npushare::kube_local {
namespace {

// A segment grows to about compact_bytes before it is compacted; anything far larger than the
// limit below is not a journal we wrote.
constexpr size_t kMaxSegmentBytes = size_t{2} << 30;

}  // namespace

Result<std::unique_ptr<StorePersistence>> StorePersistence::Open(const std::string& dir,
                                                                 ObjectStore& store,
                                                                 PersistenceOptions options) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return FailedPreconditionError("persist directory " + dir + " does not exist (" +
                                   std::strerror(errno) + "); create it first");
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("persist path " + dir + " is not a directory");
  }
  std::unique_ptr<StorePersistence> p(new StorePersistence(dir, store, options));
  const std::string snapshot = SnapshotPath(dir);
  if (::stat(snapshot.c_str(), &st) == 0) {
    NPUSHARE_RETURN_IF_ERROR(store.Load(snapshot));
    p->stats_.snapshot = true;
  }
  NPUSHARE_ASSIGN_OR_RETURN(auto segments, Journal::ListSegments(dir));
  p->stats_.segments = segments.size();
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& path = segments[i].second;
    Result<std::string> bytes = ReadFileLimited(path, kMaxSegmentBytes);
    if (!bytes.ok()) {
      return FailedPreconditionError("cannot read journal " + path + ": " +
                                     bytes.status().message());
    }
    DecodedSegment seg = DecodeJournalSegment(*bytes);
    for (const JournalRecord& rec : seg.records) {
      if (rec.rv <= store.CurrentRv()) {
        continue;  // already in the snapshot
      }
      Status replayed = store.Replay(rec);
      if (!replayed.ok()) {
        return Status(StatusCode::kDataLoss, path + ": " + replayed.message());
      }
      ++p->stats_.records_replayed;
    }
    if (seg.torn) {
      if (i + 1 != segments.size()) {
        return Status(StatusCode::kDataLoss, "journal " + path + " is corrupt at byte " +
                                                 std::to_string(seg.valid_bytes) +
                                                 " and is not the last segment");
      }
      // The last append of a killed process, never acknowledged: cut it off so later records
      // follow valid ones.
      if (::truncate(path.c_str(), static_cast<off_t>(seg.valid_bytes)) != 0) {
        return FailedPreconditionError("persist directory " + dir + " is not writable: truncate " +
                                       path + ": " + std::strerror(errno));
      }
      p->stats_.torn_tail_dropped = true;
    }
  }
  NPUSHARE_RETURN_IF_ERROR(p->journal_.Open(dir, store.CurrentRv() + 1));
  store.SetJournal(&p->journal_);
  return p;
}

StorePersistence::~StorePersistence() {
  store_.SetJournal(nullptr);
}

Status StorePersistence::MaybeCompact() {
  if (journal_.segment_bytes() < options_.compact_bytes) {
    return OkStatus();
  }
  return Compact();
}

Status StorePersistence::Compact() {
  if (journal_.segment_bytes() == 0 && stats_.snapshot) {
    return OkStatus();  // nothing journaled since the snapshot this directory already has
  }
  NPUSHARE_ASSIGN_OR_RETURN(auto contents, store_.Capture([this](int64_t rv) {
    return journal_.Rotate(rv + 1);  // later writes go to the new segment
  }));
  NPUSHARE_RETURN_IF_ERROR(ObjectStore::SaveContents(contents, SnapshotPath(dir_)));
  stats_.snapshot = true;
  NPUSHARE_ASSIGN_OR_RETURN(auto segments, Journal::ListSegments(dir_));
  for (const auto& [start, path] : segments) {
    if (start <= contents.rv) {
      ::unlink(path.c_str());  // covered by the snapshot; a leftover is skipped at load anyway
    }
  }
  return OkStatus();
}

}  // namespace npushare::kube_local
