// File: softslice/arbiter/tenant_registry.cc
#include "softslice/arbiter/tenant_registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "softslice/interceptor/compute_pages.h"

namespace npushare::softslice {
namespace {

bool ReadPage(int fd, VnpuTenantPage* page) {
  ssize_t n = pread(fd, page, sizeof(*page), 0);
  return n == static_cast<ssize_t>(sizeof(*page)) && vnpu::ValidTenantHeader(page);
}

}  // namespace

TenantRegistry::TenantRegistry(std::string tenants_dir, std::string shares_dir)
    : dir_(std::move(tenants_dir)), shares_dir_(std::move(shares_dir)) {}

void TenantRegistry::LoadShare(Entry* e, const Status& dir_status) {
  if (shares_dir_.empty()) {
    return;
  }
  Result<ShareSpec> share = dir_status.ok() ? ReadShareFile(shares_dir_ + "/" + e->name + ".share")
                                            : Result<ShareSpec>(dir_status);
  StatusCode code = share.ok() ? StatusCode::kOk : share.status().code();
  if (code != e->share_code && !share.ok()) {
    // Not silent: a tenant that lost its share runs best effort until the node side fixes it.
    fprintf(stderr, "npushare-arbiter: tenant %s runs best effort: %s\n", e->name.c_str(),
            share.status().ToString().c_str());
  }
  e->share_code = code;
  e->share = share.ok() ? *share : ShareSpec();
}

TenantRegistry::~TenantRegistry() {
  for (Entry& e : entries_) {
    if (e.fd >= 0) {
      close(e.fd);
    }
  }
}

void TenantRegistry::Rescan(std::vector<int32_t>* added, std::vector<int32_t>* removed) {
  // Drop tenants whose page is gone or was replaced by another file.
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    Entry& e = entries_[i];
    if (e.fd < 0) {
      continue;
    }
    struct stat st;
    std::string path = dir_ + "/" + e.name + "/" VNPU_TENANT_FILE_NAME;
    if (stat(path.c_str(), &st) != 0 || st.st_ino != e.inode) {
      close(e.fd);
      e = Entry();
      removed->push_back(static_cast<int32_t>(i));
    }
  }
  DIR* d = opendir(dir_.c_str());
  if (d == nullptr) {
    ReloadShares();
    return;
  }
  while (dirent* de = readdir(d)) {
    std::string name = de->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    bool known = std::any_of(entries_.begin(), entries_.end(),
                             [&](const Entry& e) { return e.fd >= 0 && e.name == name; });
    if (known) {
      continue;
    }
    std::string path = dir_ + "/" + name + "/" VNPU_TENANT_FILE_NAME;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
      continue;
    }
    struct stat st;
    VnpuTenantPage page;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !ReadPage(fd, &page)) {
      close(fd);  // not (yet) a valid page: retried at the next scan
      continue;
    }
    bool duplicate = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
      return e.fd >= 0 && e.tenant_id == page.tenant_id;
    });
    auto free_slot =
        std::find_if(entries_.begin(), entries_.end(), [](const Entry& e) { return e.fd < 0; });
    if (duplicate || free_slot == entries_.end()) {
      close(fd);
      continue;
    }
    free_slot->fd = fd;
    free_slot->tenant_id = page.tenant_id;
    free_slot->inode = st.st_ino;
    free_slot->name = name;
    added->push_back(static_cast<int32_t>(free_slot - entries_.begin()));
  }
  closedir(d);
  ReloadShares();
}

void TenantRegistry::ReloadShares() {
  if (shares_dir_.empty()) {
    return;
  }
  Status dir_status = CheckShareDir(shares_dir_);
  if (dir_status.code() != shares_dir_code_ && !dir_status.ok()) {
    fprintf(stderr, "npushare-arbiter: refusing every share file: %s\n",
            dir_status.ToString().c_str());
  }
  shares_dir_code_ = dir_status.code();
  for (Entry& e : entries_) {
    if (e.fd >= 0) {
      LoadShare(&e, dir_status);
    }
  }
}

std::array<uint8_t, VNPU_MAX_DEVICES> TenantRegistry::PinnedChipsPlus1(int32_t index) const {
  std::array<uint8_t, VNPU_MAX_DEVICES> pins{};
  if (index < 0 || static_cast<uint32_t>(index) >= VNPU_MAX_TENANTS || entries_[index].fd < 0 ||
      shares_dir_.empty()) {
    return pins;
  }
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    int32_t chip = entries_[index].share.devices[d].chip;
    pins[d] = chip >= 0 ? static_cast<uint8_t>(chip + 1) : 0;
  }
  return pins;
}

bool TenantRegistry::Read(int32_t index, uint64_t now_ns, uint64_t demand_window_ns,
                          TenantSnapshot* out) const {
  if (index < 0 || static_cast<uint32_t>(index) >= VNPU_MAX_TENANTS || entries_[index].fd < 0) {
    return false;
  }
  VnpuTenantPage page;
  if (!ReadPage(entries_[index].fd, &page) || page.tenant_id != entries_[index].tenant_id) {
    return false;
  }
  out->tenant_id = page.tenant_id;
  for (uint32_t d = 0; d < VNPU_MAX_DEVICES; ++d) {
    const VnpuTenantDevice& in = page.devices[d];
    TenantSnapshot::Device& dev = out->devices[d];
    bool recent = in.last_demand_ns <= now_ns && now_ns - in.last_demand_ns < demand_window_ns;
    dev.demand = in.waiters > 0 || in.syncing > 0 || recent;
    dev.chip = in.chip >= 0 && static_cast<uint32_t>(in.chip) < VNPU_MAX_CHIPS ? in.chip : -1;
    if (shares_dir_.empty()) {
      dev.weight = std::clamp<uint32_t>(in.core_percent, 1, 100);
      dev.hard_cap = (in.flags & VNPU_TENANT_FLAG_HARD_CAP) != 0;
    } else {
      const ShareSpec::Device& share = entries_[index].share.devices[d];
      dev.weight = std::clamp<uint32_t>(share.percent, 1, 100);
      dev.hard_cap = share.hard_cap;
      if (share.chip >= 0) {
        // The node's pin wins; the page only says whether the device is in use.
        dev.chip = in.chip >= 0 || dev.demand ? share.chip : -1;
      }
    }
    dev.overrun_ns = in.overrun_ns;
    dev.device_ns = std::min(in.device_ns, now_ns);
  }
  return true;
}

std::vector<int32_t> TenantRegistry::Indices() const {
  std::vector<int32_t> v;
  for (uint32_t i = 0; i < VNPU_MAX_TENANTS; ++i) {
    if (entries_[i].fd >= 0) {
      v.push_back(static_cast<int32_t>(i));
    }
  }
  return v;
}

uint64_t TenantRegistry::tenant_id(int32_t index) const {
  return index >= 0 && static_cast<uint32_t>(index) < VNPU_MAX_TENANTS ? entries_[index].tenant_id
                                                                       : 0;
}

const std::string& TenantRegistry::name(int32_t index) const {
  static const std::string kEmpty;
  return index >= 0 && static_cast<uint32_t>(index) < VNPU_MAX_TENANTS ? entries_[index].name
                                                                       : kEmpty;
}

}  // namespace npushare::softslice
