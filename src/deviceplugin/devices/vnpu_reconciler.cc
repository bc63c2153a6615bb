#include "deviceplugin/devices/vnpu_reconciler.h"

#include <algorithm>
#include <iostream>
#include <set>
#include <utility>

#include "hami/pod_devices.h"
#include "hami/runtime_info.h"
#include "hami/types.h"
#include "kube/resource.h"

namespace npushare::deviceplugin::devices {
namespace {

using json = nlohmann::json;
using TimePoint = std::chrono::steady_clock::time_point;

const std::string* Annotation(const json& pod, const std::string& key) {
  auto meta = pod.find("metadata");
  if (meta == pod.end() || !meta->is_object()) {
    return nullptr;
  }
  auto annos = meta->find("annotations");
  if (annos == meta->end() || !annos->is_object()) {
    return nullptr;
  }
  auto v = annos->find(key);
  if (v == annos->end() || !v->is_string()) {
    return nullptr;
  }
  return v->get_ptr<const std::string*>();
}

bool Terminal(const json& pod) {
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) {
    return false;
  }
  auto phase = status->find("phase");
  return phase != status->end() && phase->is_string() &&
         (*phase == "Succeeded" || *phase == "Failed");
}

struct SeenVnpu {
  uint32_t id = 0;
  bool used = true;
  TimePoint idle_since{};
};

}  // namespace

std::vector<OwnedSlice> SlicesOfPod(const json& pod, const std::string& common_word) {
  std::vector<OwnedSlice> out;
  const std::string* allocated = Annotation(pod, hami::DevicesAllocatedKey(common_word));
  const std::string* runtime = Annotation(pod, hami::RuntimeInfoKey(common_word));
  if (allocated == nullptr || runtime == nullptr) {
    return out;
  }
  const std::string* mode = Annotation(pod, hami::kVnpuModeAnnotation);
  if (mode != nullptr && *mode == hami::kVnpuModeHamiCore) {
    return out;  // soft slices never have a vNPU
  }
  Result<hami::PodDevices> devices = hami::DecodePodDevices(*allocated);
  Result<std::map<std::string, hami::RuntimeInfoEntry>> info =
      hami::DecodeRuntimeInfoLookup(*runtime, common_word);
  if (!devices.ok() || !info.ok()) {
    return out;
  }
  for (const hami::ContainerDevices& container : *devices) {
    for (const hami::ContainerDevice& d : container) {
      auto it = info->find(d.uuid);
      if (it != info->end() && !it->second.temp.empty()) {
        out.push_back({d.uuid, it->second.temp});
      }
    }
  }
  return out;
}

Result<std::vector<OwnedSlice>> KubeLiveSlices::LiveSlices() {
  std::shared_ptr<const NodeDevices> nd = devices_.Current();
  if (nd == nullptr) {
    return FailedPreconditionError("no device snapshot yet");
  }
  kube::ListOptions opts;
  opts.field_selector = "spec.nodeName=" + node_name_;
  NPUSHARE_ASSIGN_OR_RETURN(json list, client_.ListAll(kube::kPods, "", opts));
  std::vector<OwnedSlice> out;
  auto items = list.find("items");
  if (items == list.end() || !items->is_array()) {
    return out;
  }
  for (const json& pod : *items) {
    if (!pod.is_object() || Terminal(pod)) {
      continue;
    }
    std::vector<OwnedSlice> s = SlicesOfPod(pod, nd->common_word);
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

VnpuReconciler::VnpuReconciler(VnpuReconcilerOptions options, Dcmi& dcmi,
                               const DeviceSnapshotSource& devices, LiveSliceSource& pods,
                               kube::Clock& clock)
    : options_(std::move(options)), dcmi_(dcmi), devices_(devices), pods_(pods), clock_(clock) {}

VnpuReconciler::~VnpuReconciler() {
  Stop();
}

void VnpuReconciler::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "vnpu-reconciler: " << line << "\n";
  }
}

Result<ReconcileReport> VnpuReconciler::ReconcileOnce() {
  std::shared_ptr<const NodeDevices> nd = devices_.Current();
  if (nd == nullptr) {
    return FailedPreconditionError("no device snapshot yet");
  }
  MutexLock lock(&reconcile_mu_);
  const TimePoint now = clock_.Now();
  ReconcileReport report;
  // Per (chip index in nd->chips, template): the vNPUs seen.
  std::map<std::pair<size_t, std::string>, std::vector<SeenVnpu>> groups;
  std::set<uint32_t> seen_ids;
  for (size_t ci = 0; ci < nd->chips.size(); ++ci) {
    const Chip& chip = nd->chips[ci];
    Result<std::vector<uint32_t>> ids = dcmi_.VnpuIds(chip.card_id, chip.device_id);
    if (!ids.ok()) {
      if (ids.status().code() != StatusCode::kUnimplemented) {
        report.errors.push_back(ids.status().ToString());
      }
      continue;
    }
    for (uint32_t id : *ids) {
      Result<DcmiVnpuInfo> info = dcmi_.VnpuInfo(chip.card_id, chip.device_id, id);
      if (!info.ok()) {
        report.errors.push_back(info.status().ToString());
        continue;  // unknown state: leave it alone and restart its idle time
      }
      ++report.vnpus;
      seen_ids.insert(id);
      SeenVnpu v;
      v.id = id;
      v.used = info->is_container_used != 0;  // includes the NA sentinel
      if (v.used) {
        idle_since_.erase(id);
      } else {
        ++report.idle;
        v.idle_since = idle_since_.emplace(id, now).first->second;
      }
      groups[{ci, info->template_name}].push_back(v);
    }
  }
  for (auto it = idle_since_.begin(); it != idle_since_.end();) {
    it = seen_ids.count(it->first) == 0 ? idle_since_.erase(it) : std::next(it);
  }

  NPUSHARE_ASSIGN_OR_RETURN(std::vector<OwnedSlice> owned, pods_.LiveSlices());
  std::map<std::pair<std::string, std::string>, int> claims;
  for (const OwnedSlice& s : owned) {
    ++claims[{s.uuid, s.template_name}];
  }

  for (auto& [key, vnpus] : groups) {
    const Chip& chip = nd->chips[key.first];
    int in_use = 0;
    std::vector<SeenVnpu> idle;
    for (const SeenVnpu& v : vnpus) {
      if (v.used) {
        ++in_use;
      } else {
        idle.push_back(v);
      }
    }
    auto claim_it = claims.find({chip.uuid, key.second});
    int unmatched = (claim_it != claims.end() ? claim_it->second : 0) - in_use;
    // Newest idle first: those are protected by the unmatched claims.
    std::sort(idle.begin(), idle.end(), [](const SeenVnpu& a, const SeenVnpu& b) {
      return a.idle_since != b.idle_since ? a.idle_since > b.idle_since : a.id > b.id;
    });
    for (const SeenVnpu& v : idle) {
      if (unmatched > 0) {
        --unmatched;
        ++report.protected_by_pods;
        continue;
      }
      if (now - v.idle_since < options_.grace) {
        continue;
      }
      Status s = dcmi_.DestroyVnpu(chip.card_id, chip.device_id, v.id);
      if (!s.ok()) {
        report.errors.push_back(s.ToString());
        continue;
      }
      idle_since_.erase(v.id);
      ++destroyed_total_;
      report.destroyed.push_back(v.id);
      Log("destroyed vNPU " + std::to_string(v.id) + " (" + key.second + ") on chip " + chip.uuid +
          ": unused by any container and owned by no live pod");
    }
  }
  for (const std::string& e : report.errors) {
    Log(e);
  }
  return report;
}

uint64_t VnpuReconciler::DestroyedTotal() {
  MutexLock lock(&reconcile_mu_);
  return destroyed_total_;
}

void VnpuReconciler::Start() {
  MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) {
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

void VnpuReconciler::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void VnpuReconciler::Run() {
  MutexLock lock(&mu_);
  while (!cv_.WaitFor(&mu_, options_.interval,
                      [this]() NPUSHARE_REQUIRES(mu_) { return stopping_; })) {
    lock.Unlock();
    Result<ReconcileReport> r = ReconcileOnce();
    if (!r.ok()) {
      Log("vNPU check skipped: " + r.status().ToString());
    }
    lock.Lock();
  }
}

}  // namespace npushare::deviceplugin::devices
