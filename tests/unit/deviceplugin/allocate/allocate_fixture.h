// Test fixture for the allocate/ part: kube-local in process (real HTTP), a fixed NodeDevices
// snapshot, soft-slicing directories in a temporary directory, and pods annotated the way
// HAMi's scheduler leaves them after Filter and Bind (hami-protocol.md §3.2, §3.5).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "deviceplugin/allocate/allocate_options.h"
#include "deviceplugin/allocate/allocate_service.h"
#include "deviceplugin/plugin_device.h"
#include "hami/pod_devices.h"
#include "hami/runtime_info.h"
#include "hami/types.h"
#include "integration/kube/test_server.h"
#include "kube/http_transport.h"
#include "kube/node_lock_client.h"
#include "kube/objects.h"
#include "mocks/kube/fake_clock.h"
#include "support/temp_dir.h"

namespace npushare::deviceplugin::allocate::testing {

using nlohmann::json;

// FixedDevices: a DeviceSnapshotSource that returns what the test set.
class FixedDevices final : public DeviceSnapshotSource {
 public:
  explicit FixedDevices(NodeDevices d) : d_(std::make_shared<NodeDevices>(std::move(d))) {}
  std::shared_ptr<const NodeDevices> Current() const override { return d_; }

 private:
  std::shared_ptr<const NodeDevices> d_;
};

// MakeNode: `n` chips of `cw`; physical ids start at `first_phys` (not the index, so a test
// sees which one ASCEND_VISIBLE_DEVICES carries).
inline NodeDevices MakeNode(const std::string& cw, int n, bool soft, int first_phys = 4,
                            int32_t vdevice_count = 4) {
  NodeDevices d;
  d.common_word = cw;
  d.resource_name = "huawei.com/" + cw;
  d.memory_mb = 65536;
  d.aicore = soft ? 100 : 20;
  d.vdevice_count = vdevice_count;
  d.hami_vnpu_core = soft;
  for (int i = 0; i < n; ++i) {
    Chip c;
    c.index = static_cast<uint32_t>(i);
    c.logic_id = i;
    c.phys_id = first_phys + i;
    c.card_id = i;
    c.device_id = 0;
    c.uuid = cw + "-uuid-" + std::to_string(i);
    c.healthy = true;
    d.chips.push_back(c);
  }
  return d;
}

inline std::string Uuid(const std::string& cw, int i) {
  return cw + "-uuid-" + std::to_string(i);
}

// KubeletIds: n kubelet IDs of chip i ("<uuid>-<k>").
inline std::vector<std::string> KubeletIds(const std::string& cw, std::vector<int> chips) {
  std::vector<std::string> ids;
  for (int c : chips) {
    ids.push_back(Uuid(cw, c) + "-0");
  }
  return ids;
}

// FaultyTransport: forwards to the real transport unless `fail` says to fail the request
// (then kUnavailable, as when the API server is unreachable).
class FaultyTransport final : public kube::HttpTransport {
 public:
  explicit FaultyTransport(kube::HttpTransport& real) : real_(real) {}
  std::function<bool(const kube::HttpRequest&)> fail;  // set before use; null = never
  Result<kube::HttpResponse> Send(const kube::HttpRequest& request) override {
    if (fail && fail(request)) {
      failed_.fetch_add(1);
      return UnavailableError("injected: API server unreachable");
    }
    return real_.Send(request);
  }
  Result<kube::HttpResponse> Stream(const kube::HttpRequest& request,
                                    const kube::LineHandler& on_line, kube::StreamCancel* cancel,
                                    size_t max_line_bytes) override {
    return real_.Stream(request, on_line, cancel, max_line_bytes);
  }
  int failed() const { return failed_.load(); }

 private:
  kube::HttpTransport& real_;
  std::atomic<int> failed_{0};
};

// PodSpec: a pod as the scheduler bound it. `alloc` has one entry per container, init
// containers first; `temps` (hard slices) one template per device in flattened order ("" =
// whole chip).
struct PodSpec {
  std::string name;
  std::vector<std::string> init_containers;
  std::vector<std::string> containers = {"main"};
  hami::PodDevices alloc;
  std::vector<std::string> temps;
  bool soft = false;
  std::string bind_time = "1714557600";
  std::string bind_phase = "allocating";
  json pod_security_context;        // spec.securityContext when not null
  json container_security_context;  // every container's securityContext when not null
};

constexpr char kNodeName[] = "node-a";

class AllocateFixture {
 public:
  explicit AllocateFixture(NodeDevices devices)
      : devices_(std::move(devices)), faulty_(env_.transport()), dir_("npushare-allocate") {
    kube::ClientOptions co;
    co.qps = 0;
    co.max_retries = 2;
    co.initial_backoff = std::chrono::milliseconds(5);
    co.max_backoff = std::chrono::milliseconds(20);
    client_ = std::make_unique<kube::KubeClient>(faulty_, co);
    json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", kNodeName}}}};
    EXPECT_TRUE(env_.client().Create(kube::kNodes, "", node).ok());
    for (const char* sub : {"shares", "quota", "arbiter", "tenants", "lib"}) {
      std::filesystem::create_directories(dir_.path() + "/" + sub);
    }
    EXPECT_TRUE(WriteFileAtomically(dir_.path() + "/lib/libvnpu.so", "not really", 0644).ok());
    options_.soft.shares_dir = dir_.path() + "/shares";
    options_.soft.quota_root = dir_.path() + "/quota";
    options_.soft.grant_dir = dir_.path() + "/arbiter";
    options_.soft.tenants_dir = dir_.path() + "/tenants";
    options_.soft.libvnpu_path = dir_.path() + "/lib/libvnpu.so";
    options_.soft.ld_so_preload_path = dir_.path() + "/lib/ld.so.preload";
    service_ = std::make_unique<AllocateService>(*client_, devices_, kNodeName, options_, clock_);
  }

  const std::string& cw() const { return devices_.Current()->common_word; }
  const std::string& resource() const { return devices_.Current()->resource_name; }

  // CreatePod: creates the pod bound to this node with the scheduler's annotations; with
  // `lock`, takes the node lock for it first (as the scheduler's Bind does). Returns its UID.
  std::string CreatePod(const PodSpec& spec, bool lock = true) {
    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", spec.name}, {"namespace", "default"}}},
                {"spec", {{"nodeName", kNodeName}}}};
    for (const auto& c : spec.containers) {
      pod["spec"]["containers"].push_back({{"name", c}, {"image", "busybox"}});
      if (!spec.container_security_context.is_null()) {
        pod["spec"]["containers"].back()["securityContext"] = spec.container_security_context;
      }
    }
    if (!spec.pod_security_context.is_null()) {
      pod["spec"]["securityContext"] = spec.pod_security_context;
    }
    for (const auto& c : spec.init_containers) {
      pod["spec"]["initContainers"].push_back({{"name", c}, {"image", "busybox"}});
    }
    const std::string text = hami::EncodePodDevices(spec.alloc);
    std::vector<hami::RuntimeInfoEntry> rt;
    size_t k = 0;
    for (const auto& c : spec.alloc) {
      for (const auto& d : c) {
        hami::RuntimeInfoEntry e;
        e.uuid = d.uuid;
        e.temp = k < spec.temps.size() ? spec.temps[k] : "";
        e.memory = d.usedmem;
        e.core = d.usedcores;
        rt.push_back(e);
        ++k;
      }
    }
    json& a = pod["metadata"]["annotations"];
    a[hami::DevicesToAllocateKey(cw())] = text;
    a[hami::DevicesAllocatedKey(cw())] = text;
    a[hami::RuntimeInfoKey(cw())] = hami::EncodeRuntimeInfo(rt);
    a[hami::kAssignedNodeAnnotation] = kNodeName;
    a[hami::kBindTimeAnnotation] = spec.bind_time;
    a[hami::kBindPhaseAnnotation] = spec.bind_phase;
    if (spec.soft) {
      a[hami::kVnpuModeAnnotation] = hami::kVnpuModeHamiCore;
    }
    if (lock) {
      kube::NodeLockClient locks(env_.client(), clock_);
      EXPECT_TRUE(locks.Acquire(kNodeName, {"default", spec.name}).ok());
    }
    auto created = env_.client().Create(kube::kPods, "default", pod);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? kube::StringField((*created)["metadata"], "uid") : "";
  }

  std::map<std::string, std::string> Annotations(const std::string& pod) {
    auto obj = env_.client().Get(kube::kPods, "default", pod);
    EXPECT_TRUE(obj.ok());
    if (!obj.ok()) {
      return {};
    }
    return kube::ParseObjectMeta(*obj)->annotations;
  }
  std::string Annotation(const std::string& pod, const std::string& key) {
    auto a = Annotations(pod);
    auto it = a.find(key);
    return it == a.end() ? "<absent>" : it->second;
  }
  void SetAnnotation(const std::string& pod, const std::string& key, const json& value) {
    json patch = {{"metadata", {{"annotations", {{key, value}}}}}};
    ASSERT_TRUE(
        env_.client().Patch(kube::kPods, "default", pod, kube::PatchType::kMerge, patch).ok());
  }
  void SetPhase(const std::string& pod, const std::string& phase) {
    kube::PatchOptions po;
    po.subresource = "status";
    ASSERT_TRUE(env_.client()
                    .Patch(kube::kPods, "default", pod, kube::PatchType::kMerge,
                           {{"status", {{"phase", phase}}}}, po)
                    .ok());
  }
  std::optional<std::string> LockValue() {
    auto node = env_.client().Get(kube::kNodes, "", kNodeName);
    EXPECT_TRUE(node.ok());
    auto meta = kube::ParseObjectMeta(*node);
    auto it = meta->annotations.find(hami::kNodeLockAnnotation);
    if (it == meta->annotations.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  Result<ContainerAllocation> Allocate(const std::vector<std::string>& ids) {
    return service_->AllocateContainer(resource(), ids);
  }

  kube::testing::ServerAndClient env_;
  FixedDevices devices_;
  FaultyTransport faulty_;
  std::unique_ptr<kube::KubeClient> client_;
  kube::testing::FakeClock clock_;
  npushare::testing::ScopedTempDir dir_;
  AllocateOptions options_;
  std::unique_ptr<AllocateService> service_;
};

inline hami::ContainerDevice Dev(const std::string& uuid, const std::string& cw, int32_t mem,
                                 int32_t cores) {
  return hami::ContainerDevice{uuid, cw, mem, cores};
}

}  // namespace npushare::deviceplugin::allocate::testing
