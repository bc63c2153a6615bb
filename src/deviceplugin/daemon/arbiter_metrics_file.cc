#include "deviceplugin/daemon/arbiter_metrics_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/fs_error.h"
#include "deviceplugin/allocate/container_response.h"

namespace npushare::deviceplugin::daemon {
namespace {

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Fields: the line's key=value tokens; false when a token has no '=' or a key repeats.
bool SplitFields(std::string_view line, std::map<std::string_view, std::string_view>* fields) {
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && line[pos] == ' ') {
      ++pos;
    }
    if (pos == line.size()) {
      break;
    }
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) {
      end = line.size();
    }
    std::string_view token = line.substr(pos, end - pos);
    pos = end;
    const size_t eq = token.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return false;
    }
    if (!fields->emplace(token.substr(0, eq), token.substr(eq + 1)).second) {
      return false;
    }
  }
  return true;
}

// ParseLine: applies one line to `by_tenant`; false when it is not well-formed.
bool ParseLine(std::string_view line, std::map<std::string, ArbiterContainer>* by_tenant) {
  std::map<std::string_view, std::string_view> f;
  if (!SplitFields(line, &f)) {
    return false;
  }
  auto tenant = f.find("tenant");
  if (tenant == f.end() || tenant->second.empty() || tenant->second.size() > 253) {
    return false;
  }
  auto get = [&](std::string_view key, uint64_t* out) {
    auto it = f.find(key);
    return it != f.end() && ParseU64(it->second, out);
  };
  ArbiterDevice parsed;
  uint64_t dev = 0;
  bool memory = false;
  if (f.count("mem_dev") != 0) {
    memory = true;
    if (!get("mem_dev", &dev) || !get("quota_bytes", &parsed.quota_bytes) ||
        !get("used_bytes", &parsed.used_bytes)) {
      return false;
    }
  } else {
    uint64_t chip = 0;
    if (!get("dev", &dev) || !get("chip", &chip) || chip > 1024 || !get("weight", &parsed.weight) ||
        parsed.weight > 100 || !get("granted_ns", &parsed.granted_ns) ||
        !get("charged_ns", &parsed.charged_ns) || !get("device_ns", &parsed.device_ns)) {
      return false;
    }
    parsed.chip = static_cast<int32_t>(chip);
  }
  if (dev >= kMaxArbiterDevices) {
    return false;
  }
  const std::string name(tenant->second);
  auto it = by_tenant->find(name);
  if (it == by_tenant->end()) {
    if (by_tenant->size() >= kMaxArbiterTenants) {
      return false;
    }
    ArbiterContainer c;
    c.tenant = name;
    c.pod_uid = allocate::PodUidOfTenant(name);
    if (!c.pod_uid.empty()) {
      c.container = name.substr(c.pod_uid.size() + 1);
    }
    it = by_tenant->emplace(name, std::move(c)).first;
  }
  ArbiterDevice& d = it->second.devices[static_cast<uint32_t>(dev)];
  if (memory) {
    d.has_memory = true;
    d.quota_bytes = parsed.quota_bytes;
    d.used_bytes = parsed.used_bytes;
  } else {
    d.has_core = true;
    d.chip = parsed.chip;
    d.weight = parsed.weight;
    d.granted_ns = parsed.granted_ns;
    d.charged_ns = parsed.charged_ns;
    d.device_ns = parsed.device_ns;
  }
  return true;
}

}  // namespace

Result<ArbiterMetrics> ParseArbiterMetrics(std::string_view text) {
  if (text.size() > kMaxArbiterMetricsBytes) {
    return InvalidArgumentError("arbiter metrics text of " + std::to_string(text.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(kMaxArbiterMetricsBytes));
  }
  ArbiterMetrics out;
  std::map<std::string, ArbiterContainer> by_tenant;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(' ') == std::string_view::npos) {
      continue;
    }
    if (!ParseLine(line, &by_tenant)) {
      ++out.skipped_lines;
    }
  }
  for (auto& [name, c] : by_tenant) {
    out.containers.push_back(std::move(c));
  }
  return out;
}

Result<ArbiterMetrics> ReadArbiterMetricsFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    return FileSystemError(err, "cannot open arbiter metrics file " + path);
  }
  struct stat st {};
  std::string text;
  Status status = OkStatus();
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    status = FailedPreconditionError("arbiter metrics file " + path + " is not a regular file");
  } else {
    // Read one byte past the limit to tell "too large" from "exactly the limit".
    text.resize(kMaxArbiterMetricsBytes + 1);
    size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        const int err = errno;
        status = FileSystemError(err, "cannot read arbiter metrics file " + path);
        break;
      }
      if (n == 0) {
        break;
      }
      got += static_cast<size_t>(n);
    }
    text.resize(got);
    if (status.ok() && got > kMaxArbiterMetricsBytes) {
      status = FailedPreconditionError("arbiter metrics file " + path + " exceeds " +
                                       std::to_string(kMaxArbiterMetricsBytes) + " bytes");
    }
  }
  close(fd);
  NPUSHARE_RETURN_IF_ERROR(status);
  return ParseArbiterMetrics(text);
}

}  // namespace npushare::deviceplugin::daemon
