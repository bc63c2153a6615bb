#include "sim/kube/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace npushare::kube_local {
namespace {

using nlohmann::json;

constexpr size_t kHeaderBytes = 8;
constexpr char kSegmentPrefix[] = "journal-";
constexpr char kSegmentSuffix[] = ".log";

std::string ErrnoText(const char* call, const std::string& path) {
  return std::string(call) + " " + path + ": " + std::strerror(errno);
}

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
}

uint32_t GetU32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
  }
  return v;
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return InternalError(ErrnoText("open", dir));
  }
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? OkStatus() : InternalError(ErrnoText("fsync", dir));
}

}  // namespace

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) {
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      }
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) {
    crc = kTable[(crc ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

std::string EncodeJournalRecord(const JournalRecord& record) {
  json payload = {{"rv", record.rv}, {"r", record.resource}, {"k", record.key}};
  if (!record.deleted) {
    payload["o"] = record.object;
  }
  std::string body = payload.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(kHeaderBytes + body.size());
  PutU32(out, static_cast<uint32_t>(body.size()));
  PutU32(out, Crc32(body));
  out += body;
  return out;
}

DecodedSegment DecodeJournalSegment(std::string_view bytes) {
  DecodedSegment seg;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < kHeaderBytes) {
      seg.torn = true;
      break;
    }
    uint32_t len = GetU32(bytes, at);
    uint32_t crc = GetU32(bytes, at + 4);
    if (len == 0 || len > Journal::kMaxRecordBytes || bytes.size() - at - kHeaderBytes < len) {
      seg.torn = true;
      break;
    }
    std::string_view body = bytes.substr(at + kHeaderBytes, len);
    if (Crc32(body) != crc) {
      seg.torn = true;
      break;
    }
    json payload = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!payload.is_object() || !payload.contains("rv") || !payload["rv"].is_number_integer() ||
        !payload.contains("r") || !payload["r"].is_string() || !payload.contains("k") ||
        !payload["k"].is_string() || (payload.contains("o") && !payload["o"].is_object())) {
      seg.torn = true;
      break;
    }
    JournalRecord rec;
    rec.rv = payload["rv"].get<int64_t>();
    rec.resource = payload["r"].get<std::string>();
    rec.key = payload["k"].get<std::string>();
    rec.deleted = !payload.contains("o");
    if (!rec.deleted) {
      rec.object = std::move(payload["o"]);
    }
    seg.records.push_back(std::move(rec));
    at += kHeaderBytes + len;
    seg.valid_bytes = at;
  }
  return seg;
}

Journal::~Journal() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);  // best effort: anything acknowledged was synced already
    ::close(fd_);
  }
}

std::string Journal::SegmentPath(const std::string& dir, int64_t start_rv) {
  char name[64];
  std::snprintf(name, sizeof(name), "%s%020lld%s", kSegmentPrefix, static_cast<long long>(start_rv),
                kSegmentSuffix);
  return dir + "/" + name;
}

Result<std::vector<std::pair<int64_t, std::string>>> Journal::ListSegments(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return FailedPreconditionError(ErrnoText("opendir", dir));
  }
  std::vector<std::pair<int64_t, std::string>> out;
  const size_t prefix = std::strlen(kSegmentPrefix);
  const size_t suffix = std::strlen(kSegmentSuffix);
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() != prefix + 20 + suffix || name.compare(0, prefix, kSegmentPrefix) != 0 ||
        name.compare(prefix + 20, suffix, kSegmentSuffix) != 0) {
      continue;
    }
    std::string digits = name.substr(prefix, 20);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    out.emplace_back(std::stoll(digits), dir + "/" + name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status Journal::Open(const std::string& dir, int64_t start_rv) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return FailedPreconditionError("persist directory " + dir + " does not exist (" +
                                   std::strerror(errno) + ")");
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("persist path " + dir + " is not a directory");
  }
  dir_ = dir;
  return OpenSegment(start_rv);
}

Status Journal::OpenSegment(int64_t start_rv) {
  std::string path = SegmentPath(dir_, start_rv);
  // O_APPEND: a write after a cut-back (Append's undo) still lands at the end.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EACCES || errno == EROFS || errno == EPERM || errno == ENOENT ||
        errno == ENOTDIR) {
      return FailedPreconditionError("persist directory " + dir_ +
                                     " is not writable: " + ErrnoText("open", path));
    }
    return InternalError(ErrnoText("open", path));
  }
  // A previous run may have left this very segment (same start revision, nothing appended
  // since its records were replayed): start it empty, the snapshot/older segments hold its data.
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    ::close(fd);
    return FailedPreconditionError("journal segment " + path + " already exists");
  }
  if (Status synced = FsyncDir(dir_); !synced.ok()) {
    ::close(fd);
    return synced;
  }
  fd_ = fd;
  segment_bytes_.store(0);
  return OkStatus();
}

Status Journal::Append(const JournalRecord& record) {
  if (broken_ || fd_ < 0) {
    return UnavailableError("the journal is unusable after an earlier write error");
  }
  std::string bytes = EncodeJournalRecord(record);
  if (bytes.size() - kHeaderBytes > kMaxRecordBytes) {
    return InvalidArgumentError("object too large for the journal");
  }
  off_t before = ::lseek(fd_, 0, SEEK_END);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      std::string why = ErrnoText("write", dir_);
      if (before < 0 || ::ftruncate(fd_, before) != 0) {
        broken_ = true;  // garbage may now sit after the last record: refuse further appends
      }
      return UnavailableError("cannot journal the write: " + why);
    }
    done += static_cast<size_t>(n);
  }
  appended_rv_ = record.rv;
  last_appended_.store(record.rv);
  segment_bytes_.fetch_add(bytes.size());
  return OkStatus();
}

Status Journal::SyncThrough(int64_t rv) {
  MutexLock lock(&sync_mu_);
  if (synced_rv_ >= rv) {
    return OkStatus();  // someone else's fdatasync covered it (group commit)
  }
  int64_t target = last_appended_.load();  // everything appended so far is in the file
  if (::fdatasync(fd_) != 0) {
    return UnavailableError(ErrnoText("fdatasync", dir_));
  }
  synced_rv_ = std::max(synced_rv_, target);
  return OkStatus();
}

Status Journal::Rotate(int64_t start_rv) {
  MutexLock lock(&sync_mu_);
  if (::fdatasync(fd_) != 0) {
    return UnavailableError(ErrnoText("fdatasync", dir_));
  }
  synced_rv_ = std::max(synced_rv_, appended_rv_);
  int old_fd = fd_;
  if (Status opened = OpenSegment(start_rv); !opened.ok()) {
    fd_ = old_fd;  // keep appending to the old segment
    return opened;
  }
  ::close(old_fd);
  return OkStatus();
}

}  // namespace npushare::kube_local
