// File: softslice/node/tenant_files.cc
#include "softslice/node/tenant_files.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/fs_error.h"
#include "softslice/arbiter/share_file.h"
#include "softslice/interceptor/config.h"
#include "softslice/shared_state.h"

namespace npushare::softslice {
namespace {

constexpr size_t kMaxTenantName = 128;

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}
bool AlnumChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// A tenant name becomes a file and a directory name: no '/', no "..", no leading dot.
Status ValidateTenantName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTenantName || !AlnumChar(name.front()) ||
      !AlnumChar(name.back())) {
    return Status(StatusCode::kInvalidArgument,
                  "tenant name must be 1-128 characters of [a-z0-9._-], starting and ending "
                  "with [a-z0-9]: \"" +
                      std::string(name.substr(0, kMaxTenantName)) + "\"");
  }
  for (char c : name) {
    if (!NameChar(c)) {
      return Status(
          StatusCode::kInvalidArgument,
          "tenant name has a character outside [a-z0-9._-]: \"" + std::string(name) + "\"");
    }
  }
  return OkStatus();
}

std::string Device(size_t d) {
  return "devices[" + std::to_string(d) + "]";
}

}  // namespace

Status ValidateTenantGrant(const TenantGrant& grant) {
  if (Status s = ValidateTenantName(grant.tenant); !s.ok()) {
    return s;
  }
  if (grant.devices.empty() || grant.devices.size() > VNPU_MAX_DEVICES) {
    return Status(StatusCode::kInvalidArgument,
                  "a tenant needs 1-" + std::to_string(VNPU_MAX_DEVICES) + " devices, got " +
                      std::to_string(grant.devices.size()));
  }
  uint64_t pinned = 0;
  for (size_t d = 0; d < grant.devices.size(); ++d) {
    const DeviceGrant& g = grant.devices[d];
    if (g.core_percent > 100) {
      return Status(StatusCode::kInvalidArgument, Device(d) + ".core_percent must be 0-100, got " +
                                                      std::to_string(g.core_percent));
    }
    if (g.hard_cap && g.core_percent == 0) {
      return Status(StatusCode::kInvalidArgument,
                    Device(d) + ".hard_cap needs a core_percent above 0");
    }
    if (g.chip < -1 || g.chip >= static_cast<int32_t>(VNPU_MAX_CHIPS)) {
      return Status(StatusCode::kInvalidArgument,
                    Device(d) + ".chip must be -1 (not pinned) or 0-" +
                        std::to_string(VNPU_MAX_CHIPS - 1) + ", got " + std::to_string(g.chip));
    }
    if (g.chip >= 0) {
      uint64_t bit = uint64_t{1} << g.chip;
      if ((pinned & bit) != 0) {
        return Status(StatusCode::kInvalidArgument, Device(d) + ".chip " + std::to_string(g.chip) +
                                                        " is already pinned by another device");
      }
      pinned |= bit;
    }
    if (g.memory_mb > vnpu::kMaxQuotaMb) {
      return Status(StatusCode::kInvalidArgument, Device(d) + ".memory_mb must be at most " +
                                                      std::to_string(vnpu::kMaxQuotaMb) + ", got " +
                                                      std::to_string(g.memory_mb));
    }
  }
  return OkStatus();
}

std::string RenderQuotaFile(const TenantGrant& grant) {
  std::string out;
  for (size_t d = 0; d < grant.devices.size(); ++d) {
    out += (d == 0 ? "" : ",") + std::to_string(grant.devices[d].memory_mb);
  }
  return out + "\n";
}

Status WriteTenantFiles(const TenantFilesOptions& options, const TenantGrant& grant) {
  if (Status s = ValidateTenantGrant(grant); !s.ok()) {
    return s;
  }
  std::string quota_dir = options.quota_root + "/" + grant.tenant;
  if (mkdir(quota_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return FileSystemError(errno, "cannot create " + quota_dir);
  }
  struct stat st;
  if (lstat(quota_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status(StatusCode::kFailedPrecondition, quota_dir + " is not a directory");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && chmod(quota_dir.c_str(), 0755) != 0) {
    return Status(StatusCode::kInternal, "cannot make " + quota_dir + " 0755");
  }
  // Quota first: a share without its quota is harmless, the reverse would let a container
  // start with compute but an env-only (cooperative) memory quota.
  if (Status s = WriteFileAtomically(quota_dir + "/quota", RenderQuotaFile(grant), 0644); !s.ok()) {
    return s;
  }
  ShareSpec spec;
  for (size_t d = 0; d < grant.devices.size(); ++d) {
    ShareSpec::Device& dev = spec.devices[d];
    dev.listed = true;
    dev.percent = grant.devices[d].core_percent;
    dev.hard_cap = grant.devices[d].hard_cap;
    dev.chip = grant.devices[d].chip;
  }
  return WriteFileAtomically(options.shares_dir + "/" + grant.tenant + ".share",
                             RenderShareFile(spec), 0644);
}

Status RemoveTenantFiles(const TenantFilesOptions& options, std::string_view tenant) {
  if (Status s = ValidateTenantName(tenant); !s.ok()) {
    return s;
  }
  std::string name(tenant);
  for (const std::string& path :
       {options.shares_dir + "/" + name + ".share", options.quota_root + "/" + name + "/quota"}) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return FileSystemError(errno, "cannot remove " + path);
    }
  }
  std::string dir = options.quota_root + "/" + name;
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    return FileSystemError(errno, "cannot remove " + dir);
  }
  return OkStatus();
}

}  // namespace npushare::softslice
