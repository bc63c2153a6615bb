#include "deviceplugin/allocate/container_response.h"

#include <limits>

#include "hami/types.h"
#include "softslice/shared_state.h"

namespace npushare::deviceplugin::allocate {
namespace {

std::string Join(const std::vector<uint64_t>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i > 0 ? "," : "") + std::to_string(values[i]);
  }
  return out;
}

std::string VisibleDevices(const ContainerPlan& plan) {
  std::string out;
  for (size_t i = 0; i < plan.devices.size(); ++i) {
    out += (i > 0 ? "," : "") + std::to_string(plan.devices[i].phys_id);
  }
  return out;
}

bool TenantChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

bool IsSoftSlicePod(const kube::PodView& pod) {
  auto it = pod.meta.annotations.find(hami::kVnpuModeAnnotation);
  return it != pod.meta.annotations.end() && it->second == hami::kVnpuModeHamiCore;
}

Result<std::string> TenantNameFor(const std::string& pod_uid, const std::string& container) {
  std::string name = pod_uid + "_" + container;
  bool ok = !pod_uid.empty() && !container.empty() && name.size() <= 128;
  for (char c : name) {
    ok = ok && TenantChar(c);
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  ok = ok && alnum(name.front()) && alnum(name.back()) && pod_uid.find('_') == std::string::npos;
  if (!ok) {
    return InvalidArgumentError("pod uid \"" + pod_uid.substr(0, 64) + "\" and container \"" +
                                container.substr(0, 64) +
                                "\" do not make a soft-slicing tenant name");
  }
  return name;
}

std::string PodUidOfTenant(const std::string& tenant) {
  const size_t sep = tenant.find('_');
  if (sep == std::string::npos || sep == 0 || sep + 1 >= tenant.size()) {
    return "";
  }
  return tenant.substr(0, sep);
}

ContainerAllocation BuildHardAllocation(const ContainerPlan& plan) {
  ContainerAllocation out;
  out.envs["ASCEND_VISIBLE_DEVICES"] = VisibleDevices(plan);
  for (const PlannedDevice& d : plan.devices) {
    if (d.runtime && !d.runtime->temp.empty()) {
      out.envs["ASCEND_VNPU_SPECS"] = d.runtime->temp;
      break;
    }
  }
  return out;
}

Result<softslice::TenantGrant> BuildTenantGrant(const ContainerPlan& plan,
                                                const std::string& tenant, bool hard_cap) {
  if (plan.devices.empty() || plan.devices.size() > VNPU_MAX_DEVICES) {
    return InvalidArgumentError("a soft-sliced container needs 1-" +
                                std::to_string(VNPU_MAX_DEVICES) + " devices, got " +
                                std::to_string(plan.devices.size()));
  }
  softslice::TenantGrant grant;
  grant.tenant = tenant;
  for (const PlannedDevice& d : plan.devices) {
    const int64_t memory =
        d.runtime && d.runtime->memory ? *d.runtime->memory : int64_t{d.device.usedmem};
    const int64_t core = d.runtime && d.runtime->core ? *d.runtime->core : d.device.usedcores;
    if (memory < 0 || core < 0 || core > 100) {
      return InvalidArgumentError("device " + d.device.uuid.substr(0, 128) + " has memory " +
                                  std::to_string(memory) + " MB and core " + std::to_string(core) +
                                  " %: soft slices need memory >= 0 and core 0-100");
    }
    softslice::DeviceGrant g;
    g.memory_mb = static_cast<uint64_t>(memory);
    g.core_percent = static_cast<uint32_t>(core);
    g.hard_cap = hard_cap && core > 0;
    g.chip = d.phys_id;
    grant.devices.push_back(g);
  }
  return grant;
}

ContainerAllocation BuildSoftAllocation(const ContainerPlan& plan,
                                        const softslice::TenantGrant& grant,
                                        const SoftSliceOptions& options) {
  ContainerAllocation out;
  std::vector<uint64_t> memory;
  std::vector<uint64_t> core;
  for (const softslice::DeviceGrant& g : grant.devices) {
    memory.push_back(g.memory_mb);
    core.push_back(g.core_percent);
  }
  out.envs["ASCEND_VISIBLE_DEVICES"] = VisibleDevices(plan);
  out.envs["NPUSHARE_VNPU_MEM_MB"] = Join(memory);
  out.envs["NPUSHARE_VNPU_CORE_PCT"] = Join(core);
  out.envs["NPUSHARE_VNPU_STATE_DIR"] = options.container_state_dir;
  out.envs["NPUSHARE_VNPU_ARBITER_DIR"] = options.container_grant_dir;
  if (options.hard_cap) {
    out.envs["NPUSHARE_VNPU_CORE_CAP"] = "1";
  }
  out.envs["NPU_MEM_QUOTA"] = std::to_string(memory.front());
  if (core.front() != 0) {
    out.envs["NPU_PRIORITY"] = std::to_string(core.front());
  }
  out.mounts = {
      {options.container_libvnpu_path, options.libvnpu_path, true},
      {kContainerPreloadPath, options.ld_so_preload_path, true},
      {kContainerQuotaDir, options.quota_root + "/" + grant.tenant, true},
      {options.container_grant_dir, options.grant_dir, true},
      {options.container_state_dir, options.tenants_dir + "/" + grant.tenant, false},
  };
  return out;
}

}  // namespace npushare::deviceplugin::allocate
