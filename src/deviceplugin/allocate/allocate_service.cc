#include "deviceplugin/allocate/allocate_service.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "deviceplugin/allocate/container_plan.h"
#include "deviceplugin/allocate/container_response.h"
#include "deviceplugin/allocate/pod_locator.h"
#include "deviceplugin/allocate/preferred_allocation.h"
#include "deviceplugin/allocate/soft_slice_files.h"
#include "hami/pod_devices.h"
#include "hami/types.h"
#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"

namespace npushare::deviceplugin::allocate {
namespace {

using nlohmann::json;

constexpr int64_t kMaxId = int64_t{1} << 31;

std::optional<int64_t> IdField(const json& security_context, const char* key) {
  const int64_t v = kube::IntField(security_context, key, -1);
  if (v < 0 || v >= kMaxId) {
    return std::nullopt;
  }
  return v;
}

// OwnerOf: the container's runAsUser/runAsGroup, else the pod's (securityContext).
ContainerOwner OwnerOf(const json& pod, const ContainerPlan& plan) {
  const json& spec = kube::Field(pod, "spec");
  const json& list = kube::Field(spec, plan.init_container ? "initContainers" : "containers");
  const json* container = nullptr;
  if (list.is_array()) {
    for (const json& c : list) {
      if (kube::StringField(c, "name") == plan.container_name) {
        container = &c;
      }
    }
  }
  const json& pod_sc = kube::Field(spec, "securityContext");
  const json& ctr_sc = container != nullptr ? kube::Field(*container, "securityContext") : pod_sc;
  ContainerOwner owner;
  for (const json* sc : {&ctr_sc, &pod_sc}) {
    if (!owner.uid) {
      if (auto v = IdField(*sc, "runAsUser")) {
        owner.uid = static_cast<uid_t>(*v);
      }
    }
    if (!owner.gid) {
      if (auto v = IdField(*sc, "runAsGroup")) {
        owner.gid = static_cast<gid_t>(*v);
      }
    }
  }
  return owner;
}

std::string PodName(const hami::PodRef& pod) {
  return pod.ns + "/" + pod.name;
}

// PatchLanded: after a lost patch response, whether the pod shows what we wrote.
bool PatchLanded(kube::KubeClient& client, const hami::PodRef& pod, const std::string& key,
                 const std::string& value) {
  Result<json> obj = client.Get(kube::kPods, pod.ns, pod.name);
  if (!obj.ok()) {
    return false;
  }
  Result<kube::ObjectMeta> meta = kube::ParseObjectMeta(*obj);
  if (!meta.ok()) {
    return false;
  }
  auto it = meta->annotations.find(key);
  return it != meta->annotations.end() && it->second == value;
}

}  // namespace

AllocateService::AllocateService(kube::KubeClient& client, const DeviceSnapshotSource& devices,
                                 std::string node_name, AllocateOptions options, kube::Clock& clock)
    : client_(client),
      devices_(devices),
      node_(std::move(node_name)),
      options_(std::move(options)),
      clock_(clock),
      locks_(client, clock, options_.lock) {}

Result<ContainerAllocation> AllocateService::AllocateContainer(
    const std::string& resource_name, const std::vector<std::string>& device_ids) {
  std::shared_ptr<const NodeDevices> devices = devices_.Current();
  if (!devices) {
    return UnavailableError("the device plugin has not discovered this node's chips yet");
  }
  if (resource_name != devices->resource_name) {
    return InvalidArgumentError("resource " + resource_name + " is not served on node " + node_ +
                                " (it serves " + devices->resource_name + ")");
  }
  MutexLock lock(&allocate_mu_);
  std::optional<hami::PodRef> identified;
  Status last;
  const int attempts = std::max(options_.pod_update_attempts, 1);
  for (int round = 0; round < attempts; ++round) {
    if (round > 0) {
      clock_.SleepFor(options_.pod_update_backoff * (1 << std::min(round - 1, 10)));
    }
    bool retry = false;
    Result<ContainerAllocation> r = AllocateOnce(*devices, device_ids, &identified, &retry);
    if (r.ok()) {
      return r;
    }
    last = r.status();
    if (!retry) {
      break;
    }
  }
  if (kube::IsConflict(last)) {
    last = AbortedError("pod kept changing while it was being allocated: " + last.message());
  }
  if (identified) {
    MarkFailedAndRelease(*identified, last);
    return last.WithContext("pod " + PodName(*identified));
  }
  return last;
}

Result<ContainerAllocation> AllocateService::AllocateOnce(
    const NodeDevices& devices, const std::vector<std::string>& device_ids,
    std::optional<hami::PodRef>* identified, bool* retry) {
  *retry = false;
  PodLocator locator(client_, node_, devices.common_word);
  Result<LocatedPod> located = locator.Locate();
  if (!located.ok()) {
    return located.status().WithContext("get pending pod error");  // upstream's wording
  }
  LocatedPod& pod = *located;
  *identified = pod.ref;
  NPUSHARE_ASSIGN_OR_RETURN(ContainerPlan plan, PlanContainer(pod.view, devices, device_ids));
  if (plan.kubelet_chips_differ) {
    spdlog::info(
        "allocate {}/{}: kubelet picked slots of other chips than the scheduler; the "
        "scheduler's chips are used",
        PodName(pod.ref), plan.container_name);
  }

  ContainerAllocation response;
  if (IsSoftSlicePod(pod.view)) {
    if (!devices.hami_vnpu_core) {
      return FailedPreconditionError(
          "pod asks for soft slicing (huawei.com/vnpu-mode: hami-core) but node " + node_ +
          " does not enable hami-vnpu-core");
    }
    NPUSHARE_ASSIGN_OR_RETURN(std::string tenant,
                              TenantNameFor(pod.view.meta.uid, plan.container_name));
    NPUSHARE_ASSIGN_OR_RETURN(softslice::TenantGrant grant,
                              BuildTenantGrant(plan, tenant, options_.soft.hard_cap));
    NPUSHARE_RETURN_IF_ERROR(WriteSoftSliceFiles(options_.soft, grant, OwnerOf(pod.object, plan)));
    response = BuildSoftAllocation(plan, grant, options_.soft);
  } else {
    response = BuildHardAllocation(plan);
  }

  const std::string key = hami::DevicesToAllocateKey(devices.common_word);
  json annotations = {{key, plan.remaining_text}};
  if (plan.last) {
    annotations[hami::kBindPhaseAnnotation] = "success";
  }
  kube::PatchOptions po;
  po.resource_version = pod.view.meta.resource_version;
  Result<json> patched =
      client_.Patch(kube::kPods, pod.ref.ns, pod.ref.name, kube::PatchType::kMerge,
                    json{{"metadata", {{"annotations", annotations}}}}, po);
  if (!patched.ok()) {
    const bool lost = kube::IsLostResponse(patched.status());
    if (!(lost && PatchLanded(client_, pod.ref, key, plan.remaining_text))) {
      *retry = lost || kube::IsConflict(patched.status());
      return patched.status();
    }
  }
  if (plan.last) {
    Status released = locks_.Release(node_, pod.ref);
    if (!released.ok()) {
      // The pod is allocated; failing it now would waste that. The lock expires after the
      // lock timeout, and the TenantReaper releases it once the pod terminates.
      spdlog::warn("allocate {}: node lock not released: {}", PodName(pod.ref),
                   released.ToString());
    }
  }
  return response;
}

void AllocateService::MarkFailedAndRelease(const hami::PodRef& pod, const Status& why) {
  spdlog::warn("allocate {} on node {} failed: {}", PodName(pod), node_, why.ToString());
  json patch = {{"metadata", {{"annotations", {{hami::kBindPhaseAnnotation, "failed"}}}}}};
  Result<json> patched =
      client_.Patch(kube::kPods, pod.ns, pod.name, kube::PatchType::kMerge, patch);
  if (!patched.ok() && !kube::IsNotFound(patched.status())) {
    spdlog::warn("allocate {}: could not mark bind-phase failed: {}", PodName(pod),
                 patched.status().ToString());
  }
  Status released = locks_.Release(node_, pod);
  if (!released.ok()) {
    spdlog::warn("allocate {}: node lock not released: {}", PodName(pod), released.ToString());
  }
}

std::vector<std::string> AllocateService::PreferredAllocation(
    const std::string& resource_name, const std::vector<std::string>& available,
    const std::vector<std::string>& must_include, int32_t allocation_size) {
  std::vector<std::string> wanted;
  std::shared_ptr<const NodeDevices> devices = devices_.Current();
  if (devices && resource_name == devices->resource_name) {
    PodLocator locator(client_, node_, devices->common_word);
    Result<LocatedPod> pod = locator.Locate();
    if (pod.ok()) {
      auto it = pod->view.meta.annotations.find(hami::DevicesToAllocateKey(devices->common_word));
      if (it != pod->view.meta.annotations.end()) {
        Result<hami::PodDevices> pending = hami::DecodePodDevices(it->second);
        if (pending.ok()) {
          Result<hami::PoppedContainer> next = hami::PopFirstNonEmptyContainer(*pending);
          if (next.ok()) {
            for (const hami::ContainerDevice& d : next->devices) {
              wanted.push_back(d.uuid);
            }
          }
        }
      }
    }
  }
  return ChoosePreferred(available, must_include, allocation_size, wanted);
}

}  // namespace npushare::deviceplugin::allocate
