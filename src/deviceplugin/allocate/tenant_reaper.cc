#include "deviceplugin/allocate/tenant_reaper.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "deviceplugin/allocate/container_response.h"
#include "deviceplugin/allocate/soft_slice_files.h"
#include "hami/node_lock.h"
#include "hami/types.h"
#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"

namespace npushare::deviceplugin::allocate {
namespace {

namespace fs = std::filesystem;

constexpr char kShareSuffix[] = ".share";

bool Terminated(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed";
}

// ScanTenants: names of `dir`'s entries that look like TenantNameFor's, directories only or
// (with `suffix`) files ending in it, suffix removed. A missing directory has none.
void ScanTenants(const std::string& dir, const char* suffix, std::set<std::string>* out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code type_ec;
    const fs::file_status st = it->symlink_status(type_ec);
    if (suffix != nullptr) {
      const std::string s = suffix;
      if (!fs::is_regular_file(st) || name.size() <= s.size() || !name.ends_with(s)) {
        continue;
      }
      name.resize(name.size() - s.size());
    } else if (!fs::is_directory(st)) {
      continue;
    }
    if (!PodUidOfTenant(name).empty() &&
        TenantNameFor(PodUidOfTenant(name), name.substr(name.find('_') + 1)).ok()) {
      out->insert(name);
    }
  }
}

}  // namespace

TenantReaper::TenantReaper(kube::KubeClient& client, std::string node_name,
                           TenantReaperOptions options, kube::Clock& clock)
    : client_(client),
      node_(std::move(node_name)),
      options_(std::move(options)),
      locks_(client, clock, options_.lock) {}

TenantReaper::~TenantReaper() {
  Stop();
}

Result<ReapResult> TenantReaper::ReconcileOnce() {
  MutexLock guard(&reconcile_mu_);
  ReapResult result;
  std::set<std::string> tenants;
  ScanTenants(options_.soft.quota_root, nullptr, &tenants);
  ScanTenants(options_.soft.shares_dir, kShareSuffix, &tenants);
  ScanTenants(options_.soft.tenants_dir, nullptr, &tenants);
  result.tenants_seen = tenants.size();

  kube::ListOptions lo;
  lo.field_selector = "spec.nodeName=" + node_;
  NPUSHARE_ASSIGN_OR_RETURN(nlohmann::json list, client_.ListAll(kube::kPods, "", lo));
  const nlohmann::json& items = kube::Field(list, "items");
  if (!items.is_array()) {
    return Status(StatusCode::kDataLoss, "pod list without items");
  }
  std::set<std::string> live;
  for (const nlohmann::json& item : items) {
    Result<kube::PodView> pod = kube::ParsePod(item);
    if (!pod.ok()) {
      // Unreadable: keep whatever might be its files (we cannot tell its UID for sure).
      const std::string uid = kube::StringField(kube::Field(item, "metadata"), "uid");
      if (!uid.empty()) {
        live.insert(uid);
      }
      continue;
    }
    if (!Terminated(pod->phase)) {
      live.insert(pod->meta.uid);
    }
  }
  for (const std::string& tenant : tenants) {
    if (live.count(PodUidOfTenant(tenant)) != 0) {
      continue;
    }
    Status s = RemoveSoftSliceFiles(options_.soft, tenant);
    if (s.ok()) {
      ++result.tenants_removed;
    } else {
      ++result.removal_errors;
      spdlog::warn("tenant reaper: {}", s.ToString());
    }
  }
  NPUSHARE_RETURN_IF_ERROR(ReleaseDeadHolderLock(&result.lock_released));
  return result;
}

Status TenantReaper::ReleaseDeadHolderLock(bool* released) {
  *released = false;
  NPUSHARE_ASSIGN_OR_RETURN(nlohmann::json node, client_.Get(kube::kNodes, "", node_));
  NPUSHARE_ASSIGN_OR_RETURN(kube::ObjectMeta meta, kube::ParseObjectMeta(node));
  auto it = meta.annotations.find(hami::kNodeLockAnnotation);
  if (it == meta.annotations.end()) {
    return OkStatus();
  }
  Result<hami::NodeLock> lock = hami::ParseNodeLock(it->second);
  if (!lock.ok() || lock->ns.empty() || lock->name.empty()) {
    return OkStatus();  // malformed or legacy: not ours to judge (see hami/node_lock.h)
  }
  Result<nlohmann::json> holder = client_.Get(kube::kPods, lock->ns, lock->name);
  if (holder.ok()) {
    const std::string phase = kube::StringField(kube::Field(*holder, "status"), "phase");
    if (!Terminated(phase)) {
      return OkStatus();
    }
  } else if (!kube::IsNotFound(holder.status())) {
    return holder.status();
  }
  NPUSHARE_RETURN_IF_ERROR(locks_.Release(node_, {lock->ns, lock->name}));
  spdlog::info("tenant reaper: released node {} lock of {}/{} (pod {})", node_, lock->ns,
               lock->name, holder.ok() ? "terminated" : "gone");
  *released = true;
  return OkStatus();
}

void TenantReaper::Start() {
  if (loop_.joinable()) {
    return;
  }
  {
    MutexLock lock(&loop_mu_);
    stop_ = false;
  }
  loop_ = std::thread([this] {
    MutexLock lock(&loop_mu_);
    while (!stop_) {
      lock.Unlock();
      Result<ReapResult> r = ReconcileOnce();
      if (!r.ok()) {
        spdlog::warn("tenant reaper: {}", r.status().ToString());
      }
      lock.Lock();
      loop_cv_.WaitFor(&loop_mu_, options_.interval,
                       [this]() NPUSHARE_REQUIRES(loop_mu_) { return stop_; });
    }
  });
}

void TenantReaper::Stop() {
  {
    MutexLock lock(&loop_mu_);
    stop_ = true;
  }
  loop_cv_.NotifyAll();
  if (loop_.joinable()) {
    loop_.join();
  }
}

}  // namespace npushare::deviceplugin::allocate
