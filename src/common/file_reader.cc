#include "common/file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/fs_error.h"

namespace npushare {
namespace {

// Fd: closes on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not hang waiting for a writer (it is refused below).
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    const int err = errno;
    return FileSystemError(err, "cannot open " + path);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    const int err = errno;
    return FileSystemError(err, "cannot stat " + path);
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgumentError(path + ": not a regular file");
  }
  // Read in chunks up to one byte past the limit: the limit is a ceiling (callers pass tens
  // of MiB), so allocating and zeroing it up front would cost that much for every small file.
  constexpr size_t kChunk = size_t{64} << 10;
  std::string data;
  while (data.size() <= max_bytes) {
    const size_t have = data.size();
    const size_t want = std::min(kChunk, max_bytes + 1 - have);
    data.resize(have + want);
    const ssize_t n = read(fd.get(), data.data() + have, want);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) {
        data.resize(have);
        continue;
      }
      return FileSystemError(err, "cannot read " + path);
    }
    data.resize(have + static_cast<size_t>(n));
    if (n == 0) {
      break;
    }
  }
  if (data.size() > max_bytes) {
    return OutOfRangeError(path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  return data;
}

}  // namespace npushare
