// File: softslice/arbiter/share_file.cc
#include "softslice/arbiter/share_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <vector>

#include "common/fs_error.h"

namespace npushare::softslice {
namespace {

constexpr std::string_view kChipPrefix = "chip=";

// Trusted: owned by us or root, not group/world-writable (only the node side writes shares).
bool Trusted(const struct stat& st) {
  return (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 && (st.st_uid == geteuid() || st.st_uid == 0);
}

Status Invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

// Failed: the system call named in `what` failed with errno `err` (read by the caller before
// building `what`, which allocates); closes `fd`, if any.
Status Failed(int err, const std::string& what, int fd = -1) {
  if (fd >= 0) {
    close(fd);
  }
  return FileSystemError(err, what);
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
  uint64_t pinned = 0;  // chips already pinned by a device of this file
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    std::vector<std::string_view> f = Fields(line);
    if (f.empty() || f[0][0] == '#') {
      continue;
    }
    if (f.size() < 2 || f.size() > 4) {
      return Invalid("share line is not '<device> <percent> [cap] [chip=N]'");
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
    for (size_t k = 2; k < f.size(); ++k) {
      if (f[k] == "cap" && !d.hard_cap) {
        d.hard_cap = true;
      } else if (f[k].starts_with(kChipPrefix) && d.chip < 0) {
        auto chip = ParseBounded(f[k].substr(kChipPrefix.size()), VNPU_MAX_CHIPS - 1, "chip");
        if (!chip.ok()) {
          return chip.status();
        }
        if ((pinned & (uint64_t{1} << *chip)) != 0) {
          return Invalid("chip pinned by two devices");
        }
        pinned |= uint64_t{1} << *chip;
        d.chip = static_cast<int32_t>(*chip);
      } else {
        return Invalid("unknown or repeated token in share line");
      }
    }
    if (d.hard_cap && d.percent == 0) {
      return Invalid("cap needs a percent above 0");
    }
  }
  return spec;
}

std::string RenderShareFile(const ShareSpec& spec) {
  std::string out = "# npushare share file: <device> <percent> [cap] [chip=N]\n";
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    const ShareSpec::Device& dev = spec.devices[d];
    if (!dev.listed) {
      continue;
    }
    out += std::to_string(d) + " " + std::to_string(dev.percent);
    if (dev.hard_cap) {
      out += " cap";
    }
    if (dev.chip >= 0) {
      out += " chip=" + std::to_string(dev.chip);
    }
    out += "\n";
  }
  return out;
}

Result<ShareSpec> ReadShareFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    return Failed(err, "share file " + path);  // ELOOP (a symlink): kFailedPrecondition
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    return Failed(err, "stat share file " + path, fd);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return Status(StatusCode::kFailedPrecondition, "not a regular file: " + path);
  }
  if (!Trusted(st)) {
    close(fd);
    return Status(StatusCode::kFailedPrecondition,
                  path + " is group/world-writable or owned by another user");
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
      const int err = errno;
      return Failed(err, "read share file " + path, fd);
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

Status CheckShareDir(const std::string& dir) {
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    const int err = errno;
    return Failed(err, "shares directory " + dir);
  }
  if (!S_ISDIR(st.st_mode) || !Trusted(st)) {
    return Status(StatusCode::kFailedPrecondition,
                  dir + " must be a directory owned by us or root and not group/world-writable");
  }
  return Status();
}

}  // namespace npushare::softslice
