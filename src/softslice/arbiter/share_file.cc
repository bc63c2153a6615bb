// File: softslice/arbiter/share_file.cc
#include "softslice/arbiter/share_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <vector>

namespace npushare::softslice {
namespace {

Status Invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

// Fields: `line` split on spaces and tabs.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t start = line.find_first_not_of(" \t\r", pos);
    if (start == std::string_view::npos) {
      break;
    }
    size_t end = line.find_first_of(" \t\r", start);
    if (end == std::string_view::npos) {
      end = line.size();
    }
    out.push_back(line.substr(start, end - start));
    pos = end;
  }
  return out;
}

// ParseBounded: a decimal integer in [0, max]. Signed parsing so that "-1" is reported as out of
// range rather than as a malformed token.
Result<uint32_t> ParseBounded(std::string_view s, int64_t max, const char* what) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) {
    return Status(StatusCode::kOutOfRange, std::string(what) + " out of range");
  }
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return Invalid(std::string("malformed ") + what);
  }
  if (v < 0 || v > max) {
    return Status(StatusCode::kOutOfRange, std::string(what) + " out of range");
  }
  return static_cast<uint32_t>(v);
}

}  // namespace

Result<ShareSpec> ParseShareFile(std::string_view text) {
  if (text.size() > kMaxShareFileBytes) {
    return Invalid("share file too long");
  }
  ShareSpec spec;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    std::vector<std::string_view> f = Fields(line);
    if (f.empty() || f[0][0] == '#') {
      continue;
    }
    if (f.size() < 2 || f.size() > 3 || (f.size() == 3 && f[2] != "cap")) {
      return Invalid("share line is not '<device> <percent> [cap]'");
    }
    auto dev = ParseBounded(f[0], VNPU_MAX_DEVICES - 1, "device");
    if (!dev.ok()) {
      return dev.status();
    }
    auto pct = ParseBounded(f[1], 100, "percent");
    if (!pct.ok()) {
      return pct.status();
    }
    ShareSpec::Device& d = spec.devices[*dev];
    if (d.listed) {
      return Invalid("device listed twice");
    }
    d.listed = true;
    d.percent = *pct;
    d.hard_cap = f.size() == 3;
    if (d.hard_cap && d.percent == 0) {
      return Invalid("cap needs a percent above 0");
    }
  }
  return spec;
}

Result<ShareSpec> ReadShareFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    return errno == ENOENT ? Status(StatusCode::kNotFound, "no share file " + path)
                           : Status(StatusCode::kFailedPrecondition, "cannot open " + path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Status(StatusCode::kFailedPrecondition, "not a regular file: " + path);
  }
  // One byte more than allowed, so that an over-long file is reported rather than truncated.
  std::string buf(kMaxShareFileBytes + 1, '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      close(fd);
      return Status(StatusCode::kFailedPrecondition, "cannot read " + path);
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  close(fd);
  buf.resize(got);
  return ParseShareFile(buf);
}

}  // namespace npushare::softslice
