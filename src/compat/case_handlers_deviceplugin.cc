// Handlers for the device plugin's categories, calling the code the daemon runs:
//   device side (src/deviceplugin/devices): node_register_encode (the annotations come from
//     the plugin's own RegistrationPatch), plugin_api_devices, plugin_vdevice_count;
//   allocate side (src/deviceplugin/allocate): plugin_container_response (PlanContainer +
//     BuildHardAllocation / BuildSoftAllocation, pure), plugin_find_pod (PodLocator) and
//     plugin_allocate (AllocateService). The last two need an API server: each case gets a
//     fresh in-process kube-local (sim/kube) on 127.0.0.1, seeded from the case input, and
//     the real KubeClient talks HTTP to it.
#include <memory>
#include <regex>
#include <string>

#include "compat/case_runner.h"
#include "deviceplugin/allocate/allocate_service.h"
#include "deviceplugin/allocate/container_plan.h"
#include "deviceplugin/allocate/container_response.h"
#include "deviceplugin/allocate/pod_locator.h"
#include "deviceplugin/devices/node_devices.h"
#include "deviceplugin/devices/registration.h"
#include "deviceplugin/plugin_device.h"
#include "hami/pod_devices.h"
#include "hami/types.h"
#include "kube/api_error.h"
#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"
#include "kube/objects.h"
#include "kube/resource.h"
#include "sim/kube/api_server.h"

namespace npushare::compat {
namespace {

using nlohmann::json;
namespace dp = npushare::deviceplugin;
namespace dev = npushare::deviceplugin::devices;
namespace alloc = npushare::deviceplugin::allocate;

constexpr int64_t kFixedNowCivil = 1787293239;  // 2026-08-21 06:20:39

CaseOutcome Run(const std::function<CaseOutcome()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return CaseOutcome::Fail("a well-formed case", std::string("exception: ") + e.what());
  }
}

CaseOutcome Compare(const json& expected, const json& got) {
  return JsonEquals(expected, got) ? CaseOutcome::Pass()
                                   : CaseOutcome::Fail(expected.dump(), got.dump());
}

// ChipsFromJson: `devices` [{uuid, health}] as the snapshot's chips, indexed in order.
std::vector<dp::Chip> ChipsFromJson(const json& devices) {
  std::vector<dp::Chip> chips;
  for (const json& d : devices) {
    dp::Chip c;
    c.index = static_cast<uint32_t>(chips.size());
    c.uuid = d.value("uuid", "");
    c.healthy = d.value("health", false);
    chips.push_back(std::move(c));
  }
  return chips;
}

CaseOutcome NodeRegisterEncode(const json& c, const json& expected, const VectorContext&) {
  return Run([&] {
    const json& in = c["input"];
    dp::NodeDevices nd;
    nd.common_word = in["commonWord"].get<std::string>();
    if (in.contains("devices_count")) {
      for (uint32_t i = 0; i < in["devices_count"].get<uint32_t>(); ++i) {
        dp::Chip chip;
        chip.index = i;
        chip.uuid = "u" + std::to_string(i);
        nd.chips.push_back(std::move(chip));
      }
      json ids = json::array();
      for (const auto& d : dev::RegisterDeviceInfos(nd)) {
        ids.push_back(d.network_id.value_or(-1));
      }
      return Compare(expected, {{"network_ids_by_index", ids}});
    }
    nd.hami_vnpu_core = in.value("hami_vnpu_core", false);
    nd.vdevice_count = in.value("vdevice_count", 0);
    nd.chips = ChipsFromJson(in["devices"]);
    // The snapshot carries one memory/aicore per node (one chip model): take the first
    // device's and refuse cases that vary them.
    const json& first = in["devices"].at(0);
    nd.memory_mb = first.value("memory", 0);
    nd.aicore = nd.hami_vnpu_core ? 100 : first.value("aicore", 0);
    for (const json& d : in["devices"]) {
      if (d.value("memory", 0) != first.value("memory", 0) ||
          d.value("aicore", 0) != first.value("aicore", 0)) {
        return CaseOutcome::Fail("one memory/aicore per node", d.dump());
      }
    }
    const json patch = dev::RegistrationPatch(nd, kFixedNowCivil + 1);
    const json& annos = patch["metadata"]["annotations"];
    json got = {{"json", annos[hami::NodeRegisterKey(nd.common_word)]}};
    if (expected.contains("also_written")) {
      json also = annos;
      also.erase(hami::NodeRegisterKey(nd.common_word));
      // The handshake carries the time: check its format, render the vector's placeholder.
      static const std::regex kReported(R"(Reported_\d{4}\.\d{2}\.\d{2} \d{2}:\d{2}:\d{2})");
      const std::string key = hami::NodeHandshakeKey(nd.common_word);
      if (also.contains(key) && std::regex_match(also[key].get<std::string>(), kReported)) {
        also[key] = "Reported_<now+1s-dotted>";
      }
      got["also_written"] = also;
    }
    return Compare(expected, got);
  });
}

CaseOutcome PluginApiDevices(const json& c, const json& expected, const VectorContext&) {
  return Run([&] {
    const json& in = c["input"];
    dp::NodeDevices nd;
    nd.vdevice_count = in.value("vdevice_count", 0);
    nd.chips = ChipsFromJson(in["devices"]);
    json list = json::array();
    for (const dp::PluginDevice& d : dev::KubeletDevices(nd)) {
      list.push_back({{"id", d.id}, {"health", d.healthy ? dp::kHealthy : dp::kUnhealthy}});
    }
    return Compare(expected, {{"kubelet_devices", list}});
  });
}

CaseOutcome PluginVdeviceCount(const json& c, const json& expected, const VectorContext& ctx) {
  return Run([&] {
    const json& in = c["input"];
    Result<config::ChipConfig> chip = ctx.ResolveChipConfig(in["config"]);
    if (!chip.ok()) {
      return CaseOutcome::Fail("a resolvable config", chip.status().ToString());
    }
    config::DeviceConfig dc;
    dc.hami_vnpu_core = ctx.HamiVnpuCoreGlobal(in["config"]);
    dc.chips.push_back(*chip);
    config::NodeConfigEntry entry;
    const config::NodeConfigEntry* entry_ptr = nullptr;
    if (in.contains("node_config") && in["node_config"].is_object()) {
      const json& n = in["node_config"];
      entry.name = n.value("name", "");
      entry.vdevice_count = n.value("vDeviceCount", 0);
      if (n.contains("hami-vnpu-core")) {
        entry.hami_vnpu_core = n["hami-vnpu-core"].get<bool>();
      }
      entry_ptr = &entry;
    }
    const int32_t count = dev::VDeviceCount(*chip, entry_ptr, dev::IsHamiVnpuCore(dc, entry_ptr));
    return Compare(expected, {{"count", count}});
  });
}

// ---- allocate side -------------------------------------------------------------------------

// kPendingProbe: the pending allocation given to plugin_find_pod pods that carry none. Upstream
// does not look at `-devices-to-allocate` when choosing; npushare only picks a pod with
// something pending (pod_locator.h), so without this every case would end in "no pod" and
// test nothing about the bind-phase / bind-time / vgpu-node rules.
constexpr char kFindPodCommonWord[] = "Ascend910";
constexpr char kPendingProbe[] = "u0,Ascend910,1024,4:;";

// The prefix AllocateService puts before PlanContainer's unknown-UUID error; upstream's
// BuildContainerAllocateResponse (what plugin_container_response pins) returns it bare and
// its Allocate adds the same prefix (alloc-004).
constexpr std::string_view kBuildResponsePrefix = "build container allocate response: ";

json EnvsToJson(const std::map<std::string, std::string>& envs) {
  json j = json::object();
  for (const auto& [k, v] : envs) {
    j[k] = v;
  }
  return j;
}

json MountsToJson(const std::vector<dp::MountSpec>& mounts) {
  if (mounts.empty()) {
    return nullptr;  // the vectors' "no mounts"
  }
  json j = json::array();
  for (const dp::MountSpec& m : mounts) {
    j.push_back(
        {{"host", m.host_path}, {"container", m.container_path}, {"read_only", m.read_only}});
  }
  return j;
}

// AllocationToJson: envs and mounts in the vectors' shape; `envs_absent` lists those names of
// expected.envs_absent that we do not set (so a present one shows up as a difference).
json AllocationToJson(const dp::ContainerAllocation& a, const json& expected) {
  json got = {{"envs", EnvsToJson(a.envs)}};
  if (expected.contains("mounts")) {
    got["mounts"] = MountsToJson(a.mounts);
  }
  if (expected.contains("envs_absent")) {
    json absent = json::array();
    for (const json& name : expected["envs_absent"]) {
      if (a.envs.count(name.get<std::string>()) == 0) {
        absent.push_back(name);
      }
    }
    got["envs_absent"] = absent;
  }
  return got;
}

// ErrorJson: {"error": message}, or {"error_prefix": p} when the expectation is a prefix that
// matches.
json ErrorJson(const Status& s, const json& expected) {
  if (expected.contains("error_prefix")) {
    const std::string prefix = expected["error_prefix"].get<std::string>();
    if (s.message().rfind(prefix, 0) == 0) {
      return {{"error_prefix", prefix}};
    }
  }
  return {{"error", s.message()}};
}

// FixedDevices: the node's chips as one immutable snapshot.
class FixedDevices final : public dp::DeviceSnapshotSource {
 public:
  explicit FixedDevices(dp::NodeDevices d) : d_(std::make_shared<dp::NodeDevices>(std::move(d))) {}
  std::shared_ptr<const dp::NodeDevices> Current() const override { return d_; }

 private:
  std::shared_ptr<const dp::NodeDevices> d_;
};

// NodeFromPhysIds: one chip per `device_phys_ids` entry (uuid -> physical id), soft slicing
// on when `soft`. Four kubelet IDs per chip, so "<uuid>-0" is advertised.
dp::NodeDevices NodeFromPhysIds(const std::string& cw, const json& phys_ids, bool soft) {
  dp::NodeDevices nd;
  nd.common_word = cw;
  nd.resource_name = "huawei.com/" + cw;
  nd.memory_mb = 65536;
  nd.aicore = soft ? 100 : 20;
  nd.vdevice_count = 4;
  nd.hami_vnpu_core = soft;
  for (auto it = phys_ids.begin(); it != phys_ids.end(); ++it) {
    dp::Chip chip;
    chip.index = static_cast<uint32_t>(nd.chips.size());
    chip.logic_id = static_cast<int32_t>(nd.chips.size());
    chip.phys_id = it.value().get<int32_t>();
    chip.uuid = it.key();
    chip.healthy = true;
    nd.chips.push_back(std::move(chip));
  }
  return nd;
}

// CaseCluster: a fresh kube-local API server on 127.0.0.1 and a KubeClient for it.
class CaseCluster {
 public:
  static Result<std::unique_ptr<CaseCluster>> Start() {
    auto c = std::unique_ptr<CaseCluster>(new CaseCluster());
    NPUSHARE_RETURN_IF_ERROR(c->server_.Start("127.0.0.1", 0).status());
    kube::RestConfig cfg;
    cfg.server = c->server_.url();
    cfg.request_timeout = std::chrono::seconds(10);
    cfg.connect_timeout = std::chrono::seconds(2);
    c->transport_ = std::make_unique<kube::CurlTransport>(cfg);
    kube::ClientOptions co;
    co.qps = 0;
    co.max_retries = 1;
    co.initial_backoff = std::chrono::milliseconds(5);
    co.max_backoff = std::chrono::milliseconds(20);
    c->client_ = std::make_unique<kube::KubeClient>(*c->transport_, co);
    return c;
  }
  ~CaseCluster() {
    client_.reset();  // close pooled connections before the server stops
    transport_.reset();
    server_.Stop();
  }
  kube::KubeClient& client() { return *client_; }

  Status CreateNode(const std::string& name, const json& lock) {
    json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
    if (lock.is_string()) {
      node["metadata"]["annotations"][hami::kNodeLockAnnotation] = lock;
    }
    return client_->Create(kube::kNodes, "", node).status();
  }

  // CreatePod: the pod bound to `node` with `containers` containers and `phase`.
  Status CreatePod(const std::string& ns, const std::string& name, const std::string& node,
                   const json& annotations, size_t containers, const std::string& phase) {
    json nsobj = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
    Status created = client_->Create(kube::kNamespaces, "", nsobj).status();
    if (!created.ok() && !kube::IsAlreadyExists(created)) {
      return created;
    }
    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}, {"namespace", ns}, {"annotations", annotations}}},
                {"spec", {{"nodeName", node}, {"containers", json::array()}}}};
    for (size_t i = 0; i < containers; ++i) {
      pod["spec"]["containers"].push_back({{"name", "c" + std::to_string(i)}, {"image", "x"}});
    }
    NPUSHARE_ASSIGN_OR_RETURN(json stored, client_->Create(kube::kPods, ns, pod));
    stored["status"]["phase"] = phase;
    return client_->Update(kube::kPods, ns, stored, "status").status();
  }

 private:
  CaseCluster() : server_(LocalApiServerOptionsForCases()) {}
  static kube_local::LocalApiServerOptions LocalApiServerOptionsForCases() {
    kube_local::LocalApiServerOptions o;
    o.threads = 4;
    return o;
  }

  kube_local::LocalApiServer server_;
  std::unique_ptr<kube::CurlTransport> transport_;
  std::unique_ptr<kube::KubeClient> client_;
};

CaseOutcome PluginFindPod(const json& c, const json& expected, const VectorContext&) {
  return Run([&] {
    const json& in = c["input"];
    const std::string node = in["node"].get<std::string>();
    auto cluster = CaseCluster::Start();
    if (!cluster.ok()) {
      return CaseOutcome::Fail("a local API server", cluster.status().ToString());
    }
    Status seeded = (*cluster)->CreateNode(node, in["node_lock"]);
    for (const json& p : in["pods_in_list_order"]) {
      if (!seeded.ok()) {
        break;
      }
      json annos = p.value("annotations", json::object());
      const std::string key = hami::DevicesToAllocateKey(kFindPodCommonWord);
      if (!annos.contains(key)) {
        annos[key] = kPendingProbe;
      }
      seeded =
          (*cluster)->CreatePod(p["namespace"].get<std::string>(), p["name"].get<std::string>(),
                                node, annos, 1, p.value("phase", "Pending"));
    }
    if (!seeded.ok()) {
      return CaseOutcome::Fail("seeded API server", seeded.ToString());
    }
    alloc::PodLocator locator((*cluster)->client(), node, kFindPodCommonWord);
    Result<alloc::LocatedPod> located = locator.Locate();
    if (!located.ok()) {
      return Compare(expected, ErrorJson(located.status(), expected));
    }
    return Compare(expected, {{"pod", located->ref.ns + "/" + located->ref.name}});
  });
}

CaseOutcome PluginContainerResponse(const json& c, const json& expected, const VectorContext&) {
  return Run([&] {
    const json& in = c["input"];
    const std::string cw = in["commonWord"].get<std::string>();
    json annos = in.value("pod_annotations", json::object());
    const bool soft = annos.value(hami::kVnpuModeAnnotation, "") == hami::kVnpuModeHamiCore;
    hami::ContainerDevices devs;
    std::vector<std::string> kubelet_ids;
    json runtime = json::array();
    const json& lookup = in["runtime_info_by_uuid"];
    for (const json& d : in["container_devices"]) {
      hami::ContainerDevice cd;
      cd.uuid = d["uuid"].get<std::string>();
      cd.type = d["type"].get<std::string>();
      cd.usedmem = d["usedmem"].get<int32_t>();
      cd.usedcores = d["usedcores"].get<int32_t>();
      kubelet_ids.push_back(cd.uuid + "-0");
      if (lookup.contains(cd.uuid)) {
        runtime.push_back(lookup[cd.uuid]);
      }
      devs.push_back(std::move(cd));
    }
    // The scheduler's annotations for a one-container pod holding these devices.
    const std::string text = hami::EncodePodDevices({devs});
    annos[hami::DevicesToAllocateKey(cw)] = text;
    annos[hami::DevicesAllocatedKey(cw)] = text;
    annos[hami::RuntimeInfoKey(cw)] = runtime.dump();
    std::string container = in.value("container_name", "");
    std::string uid = in.value("pod_uid", "");
    json pod = {{"metadata", {{"name", "p"}, {"namespace", "default"}, {"annotations", annos}}},
                {"spec", {{"containers", {{{"name", container.empty() ? "main" : container}}}}}}};
    if (!uid.empty()) {
      pod["metadata"]["uid"] = uid;
    }
    Result<kube::PodView> view = kube::ParsePod(pod);
    if (!view.ok()) {
      return CaseOutcome::Fail("a parsable pod", view.status().ToString());
    }
    const dp::NodeDevices nd = NodeFromPhysIds(cw, in["device_phys_ids"], soft);
    Result<alloc::ContainerPlan> plan = alloc::PlanContainer(*view, nd, kubelet_ids);
    if (!plan.ok()) {
      std::string msg = plan.status().message();
      if (msg.rfind(kBuildResponsePrefix, 0) == 0) {
        msg.erase(0, kBuildResponsePrefix.size());
      }
      return Compare(expected, {{"error", msg}});
    }
    if (!soft) {
      return Compare(expected, AllocationToJson(alloc::BuildHardAllocation(*plan), expected));
    }
    // Upstream's host directory is "<podUID>_<container>" even when both are empty; a tenant
    // name needs both, so empty ones get placeholders (visible in the documented deviation).
    Result<std::string> tenant =
        alloc::TenantNameFor(uid.empty() ? "pod-uid" : uid, container.empty() ? "main" : container);
    if (!tenant.ok()) {
      return Compare(expected, {{"error", tenant.status().message()}});
    }
    Result<softslice::TenantGrant> grant = alloc::BuildTenantGrant(*plan, *tenant, false);
    if (!grant.ok()) {
      return Compare(expected, {{"error", grant.status().message()}});
    }
    return Compare(expected,
                   AllocationToJson(alloc::BuildSoftAllocation(*plan, *grant, {}), expected));
  });
}

CaseOutcome PluginAllocate(const json& c, const json& expected, const VectorContext&) {
  return Run([&] {
    const json& in = c["input"];
    const std::string cw = in["commonWord"].get<std::string>();
    const std::string node = in["node"].get<std::string>();
    auto cluster = CaseCluster::Start();
    if (!cluster.ok()) {
      return CaseOutcome::Fail("a local API server", cluster.status().ToString());
    }
    kube::KubeClient& client = (*cluster)->client();
    std::string ns;
    std::string name;
    if (in.contains("pod")) {
      const std::string ref = in["pod"].get<std::string>();
      const size_t slash = ref.find('/');
      ns = ref.substr(0, slash);
      name = ref.substr(slash + 1);
      Status seeded = (*cluster)->CreateNode(node, in.value("node_lock", json()));
      if (seeded.ok()) {
        json annos = in.value("pod_annotations", json::object());
        annos[hami::kAssignedNodeAnnotation] = node;
        seeded = (*cluster)->CreatePod(ns, name, node, annos, in.value("pod_containers", size_t{1}),
                                       "Pending");
      }
      if (!seeded.ok()) {
        return CaseOutcome::Fail("seeded API server", seeded.ToString());
      }
    }
    const bool soft =
        in.value("pod_annotations", json::object()).value(hami::kVnpuModeAnnotation, "") ==
        hami::kVnpuModeHamiCore;
    FixedDevices devices(NodeFromPhysIds(cw, in.value("device_phys_ids", json::object()), soft));
    alloc::AllocateService service(client, devices, node);
    json got = json::object();
    json responses = json::array();
    for (const json& ids : in["container_requests"]) {
      Result<dp::ContainerAllocation> a =
          service.AllocateContainer("huawei.com/" + cw, ids.get<std::vector<std::string>>());
      if (!a.ok()) {
        got = ErrorJson(a.status(), expected);
        break;
      }
      responses.push_back({{"envs", EnvsToJson(a->envs)}});
    }
    if (!got.contains("error") && !got.contains("error_prefix")) {
      got["responses"] = responses;
    }
    // Side effects: the node lock, the pod's bind-phase and remaining allocation.
    Result<json> node_after = client.Get(kube::kNodes, "", node);
    got["lock_released"] = node_after.ok() && in.value("node_lock", json()).is_string() &&
                           !node_after->value("metadata", json::object())
                                .value("annotations", json::object())
                                .contains(hami::kNodeLockAnnotation);
    json phase = nullptr;
    json remaining = nullptr;
    if (!name.empty()) {
      Result<json> pod_after = client.Get(kube::kPods, ns, name);
      if (pod_after.ok()) {
        const json annos =
            pod_after->value("metadata", json::object()).value("annotations", json::object());
        if (annos.contains(hami::kBindPhaseAnnotation)) {
          phase = annos[hami::kBindPhaseAnnotation];
        }
        if (annos.contains(hami::DevicesToAllocateKey(cw))) {
          remaining = annos[hami::DevicesToAllocateKey(cw)];
        }
      }
    }
    got["bind_phase_after"] = phase;
    if (expected.contains("to_allocate_after")) {
      got["to_allocate_after"] = remaining;
    }
    return Compare(expected, got);
  });
}

}  // namespace

void RegisterDevicePluginHandlers(HandlerTable& table) {
  table["node_register_encode"] = NodeRegisterEncode;
  table["plugin_api_devices"] = PluginApiDevices;
  table["plugin_vdevice_count"] = PluginVdeviceCount;
  table["plugin_find_pod"] = PluginFindPod;
  table["plugin_container_response"] = PluginContainerResponse;
  table["plugin_allocate"] = PluginAllocate;
}

}  // namespace npushare::compat
