#include "deviceplugin/daemon/device_plugin_daemon.h"

#include <spdlog/spdlog.h>

#include <mutex>

#include "common/thread_annotations.h"
#include "deviceplugin/allocate/allocate_service.h"
#include "deviceplugin/allocate/tenant_reaper.h"
#include "deviceplugin/daemon/metrics.h"
#include "deviceplugin/daemon/ops_http_server.h"
#include "deviceplugin/daemon/pod_name_cache.h"
#include "deviceplugin/daemon/utilization_tracker.h"
#include "deviceplugin/devices/command_runner_impl.h"
#include "deviceplugin/devices/dcmi_library.h"
#include "deviceplugin/devices/device_manager.h"
#include "deviceplugin/devices/device_share.h"
#include "deviceplugin/devices/node_registrar.h"
#include "deviceplugin/devices/vnpu_reconciler.h"
#include "deviceplugin/kubelet/advertised_devices.h"
#include "deviceplugin/kubelet/plugin_fleet.h"
#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"
#include "kube/rest_config.h"

namespace npushare::deviceplugin::daemon {

namespace dev = npushare::deviceplugin::devices;
namespace alloc = npushare::deviceplugin::allocate;

namespace {

void LogInfo(const std::string& line) {
  spdlog::info("{}", line);
}

allocate::SoftSliceOptions SoftOptions(const DaemonOptions& o) {
  allocate::SoftSliceOptions soft;
  soft.shares_dir = o.shares_dir;
  soft.quota_root = o.quota_root;
  soft.grant_dir = o.grant_dir;
  soft.tenants_dir = o.tenants_dir;
  soft.libvnpu_path = o.libvnpu_path;
  soft.ld_so_preload_path = o.ld_so_preload_path;
  return soft;
}

}  // namespace

class DevicePluginDaemon::Impl {
 public:
  explicit Impl(DaemonOptions options) : options_(std::move(options)) {
    // Kubelet joins endpoint names to this directory: no trailing slash in our paths.
    while (options_.device_plugin_path.size() > 1 && options_.device_plugin_path.back() == '/') {
      options_.device_plugin_path.pop_back();
    }
  }

  Status Start() {
    NPUSHARE_RETURN_IF_ERROR(ValidateDaemonOptions(options_));
    Status s = StartParts();
    if (!s.ok()) {
      Stop();
    }
    return s;
  }

  void Stop() {
    if (http_ != nullptr) {
      http_->Stop();
    }
    // No more snapshots (hence no more listener calls) before anything they reach stops.
    if (devices_ != nullptr) {
      devices_->Stop();
    }
    if (reaper_ != nullptr) {
      reaper_->Stop();
    }
    if (reconciler_ != nullptr) {
      reconciler_->Stop();
    }
    if (share_ != nullptr) {
      share_->Stop();
    }
    if (registrar_ != nullptr) {
      registrar_->Stop();
    }
    if (fleet_ != nullptr) {
      fleet_->Stop();  // removes our sockets
    }
  }

  void Resync() {
    if (fleet_ != nullptr) {
      fleet_->ResyncNow();
    }
  }

  int metrics_port() const { return metrics_port_; }

  std::string Metrics() const {
    MetricsSnapshot m;
    m.node_name = options_.node_name;
    if (devices_ != nullptr) {
      m.devices = devices_->Current();
      m.config_reload_failures = devices_->ConfigReloadFailures();
    }
    if (fleet_ != nullptr) {
      m.plugins = fleet_->Plugins();
      m.kubelet_watch_active = fleet_->inotify_active();
    }
    if (registrar_ != nullptr) {
      m.node_register_ok = registrar_->Successes();
      m.node_register_errors = registrar_->Failures();
    }
    if (share_ != nullptr) {
      m.device_share_failures = share_->Failures();
    }
    if (!options_.arbiter_metrics_file.empty()) {
      m.arbiter_metrics_configured = true;
      Result<ArbiterMetrics> arbiter = ReadArbiterMetricsFile(options_.arbiter_metrics_file);
      if (arbiter.ok()) {
        m.arbiter = std::move(*arbiter);
        if (pod_names_ != nullptr) {
          std::vector<std::string> uids;
          for (const ArbiterContainer& c : m.arbiter->containers) {
            uids.push_back(c.pod_uid);
          }
          m.pod_names = pod_names_->Names(uids);
        }
        m.utilization_percent = utilization_.Update(*m.arbiter, std::chrono::steady_clock::now());
      }
    }
    return RenderMetrics(m);
  }

  Status Health() const {
    if (devices_ == nullptr || devices_->Current() == nullptr || fleet_ == nullptr) {
      return UnavailableError("not started");
    }
    auto plugins = fleet_->Plugins();
    if (plugins.empty()) {
      return UnavailableError("no resource served");
    }
    for (const PluginState& p : plugins) {
      if (!p.serving) {
        return UnavailableError(p.resource.resource_name + " is not served: " + p.last_error);
      }
    }
    return OkStatus();
  }

 private:
  Status StartParts() {
    const DaemonOptions& o = options_;
    // Devices: DCMI, config, first snapshot.
    dev::DcmiLibraryOptions dcmi_options;
    dcmi_options.path = o.dcmi_library;
    NPUSHARE_ASSIGN_OR_RETURN(dcmi_, dev::DcmiLibrary::Open(dcmi_options));
    dev::DeviceManagerOptions dm;
    dm.node_name = o.node_name;
    dm.device_config_path = o.device_config_path;
    dm.node_config_path = o.node_config_path;
    dm.poll_interval = o.device_poll_interval;
    dm.log = LogInfo;
    devices_ = std::make_unique<dev::DeviceManager>(dm, *dcmi_);
    devices_->AddListener([this](std::shared_ptr<const NodeDevices> nd) { OnDevices(nd); });

    // API server.
    kube::LoadOptions load;
    load.kubeconfig = o.kubeconfig;
    NPUSHARE_ASSIGN_OR_RETURN(kube::RestConfig rest, kube::LoadRestConfig(load));
    kube::ClientOptions client_options;
    client_options.qps = rest.qps;
    client_options.burst = rest.burst;
    transport_ = std::make_unique<kube::CurlTransport>(rest);
    client_ = std::make_unique<kube::KubeClient>(*transport_, client_options);
    pod_names_ = std::make_unique<PodNameCache>(*client_, o.node_name);

    // Allocate and the kubelet side.
    alloc::AllocateOptions allocate_options;
    allocate_options.soft = SoftOptions(o);
    allocate_ = std::make_unique<alloc::AllocateService>(*client_, *devices_, o.node_name,
                                                         allocate_options);
    PluginFleetOptions fleet_options;
    fleet_options.plugin_dir = o.device_plugin_path;
    fleet_ = std::make_unique<PluginFleet>(fleet_options, allocate_.get());

    // Node registration and the device-share enabler follow every snapshot.
    dev::NodeRegistrarOptions reg;
    reg.node_name = o.node_name;
    reg.report_time_offset = o.report_time_offset;
    reg.log = LogInfo;
    registrar_ = std::make_unique<dev::NodeRegistrar>(reg, *devices_, *client_);
    dev::DeviceShareOptions share;
    share.node_name = o.node_name;
    share.npu_smi_path = o.npu_smi_path;
    share.log = LogInfo;
    runner_ = std::make_unique<dev::ForkExecRunner>();
    share_ = std::make_unique<dev::DeviceShareEnabler>(share, *devices_, *runner_, client_.get());

    NPUSHARE_RETURN_IF_ERROR(devices_->Start().WithContext("discovering the node's chips"));
    NPUSHARE_RETURN_IF_ERROR(fleet_->Start());
    OnDevices(devices_->Current());
    registrar_->Start();
    share_->Start();

    live_slices_ = std::make_unique<dev::KubeLiveSlices>(o.node_name, *client_, *devices_);
    dev::VnpuReconcilerOptions rec;
    rec.interval = o.check_idle_vnpu_interval;
    rec.grace = 2 * o.check_idle_vnpu_interval;
    rec.log = LogInfo;
    reconciler_ = std::make_unique<dev::VnpuReconciler>(rec, *dcmi_, *devices_, *live_slices_);
    reconciler_->Start();
    alloc::TenantReaperOptions reap;
    reap.soft = allocate_options.soft;
    reaper_ = std::make_unique<alloc::TenantReaper>(*client_, o.node_name, reap);
    reaper_->Start();

    if (!o.metrics_bind_address.empty()) {
      NPUSHARE_ASSIGN_OR_RETURN(auto bind, ParseBindAddress(o.metrics_bind_address));
      http_ = std::make_unique<OpsHttpServer>(std::vector<HttpEndpoint>{
          {"/metrics", "Prometheus metrics (text format 0.0.4)", false,
           [this] {
             return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", Metrics()};
           }},
          {"/healthz", "200 \"ok\" while every resource is served to kubelet, else 503", false,
           [this] {
             Status h = Health();
             return h.ok() ? HttpReply{200, "text/plain; charset=utf-8", "ok\n"}
                           : HttpReply{503, "text/plain; charset=utf-8", h.ToString() + "\n"};
           }},
      });
      NPUSHARE_ASSIGN_OR_RETURN(metrics_port_, http_->Start(bind.first, bind.second));
    }
    return OkStatus();
  }

  // OnDevices: a new snapshot: advertise it (a changed resource name, after a config change,
  // replaces the old resource) and re-publish the node registration now.
  void OnDevices(const std::shared_ptr<const NodeDevices>& nd) {
    if (nd == nullptr) {
      return;
    }
    const PluginResource resource = PluginResourceFor(*nd);
    {
      MutexLock g(&resource_mu_);
      if (!served_resource_.empty() && served_resource_ != resource.resource_name) {
        spdlog::info("resource changed from {} to {}", served_resource_, resource.resource_name);
        fleet_->RemoveResource(served_resource_);
      }
      served_resource_ = resource.resource_name;
    }
    if (Status s = fleet_->SetDevices(resource, AdvertisedDevices(*nd)); !s.ok()) {
      spdlog::error("cannot advertise {}: {}", resource.resource_name, s.ToString());
    }
    if (registrar_ != nullptr) {
      registrar_->Nudge();
    }
    if (share_ != nullptr) {
      share_->Nudge();
    }
  }

  DaemonOptions options_;
  std::unique_ptr<dev::DcmiLibrary> dcmi_;
  std::unique_ptr<dev::DeviceManager> devices_;
  std::unique_ptr<kube::CurlTransport> transport_;
  std::unique_ptr<kube::KubeClient> client_;
  std::unique_ptr<PodNameCache> pod_names_;  // namespace/pod labels of /metrics
  mutable UtilizationTracker utilization_;   // hami_container_device_utilization_ratio
  std::unique_ptr<alloc::AllocateService> allocate_;
  std::unique_ptr<PluginFleet> fleet_;
  std::unique_ptr<dev::NodeRegistrar> registrar_;
  std::unique_ptr<dev::ForkExecRunner> runner_;
  std::unique_ptr<dev::DeviceShareEnabler> share_;
  std::unique_ptr<dev::KubeLiveSlices> live_slices_;
  std::unique_ptr<dev::VnpuReconciler> reconciler_;
  std::unique_ptr<alloc::TenantReaper> reaper_;
  std::unique_ptr<OpsHttpServer> http_;
  int metrics_port_ = 0;

  Mutex resource_mu_;
  std::string served_resource_ NPUSHARE_GUARDED_BY(resource_mu_);
};

DevicePluginDaemon::DevicePluginDaemon(DaemonOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
DevicePluginDaemon::~DevicePluginDaemon() {
  impl_->Stop();
}
Status DevicePluginDaemon::Start() {
  return impl_->Start();
}
void DevicePluginDaemon::Stop() {
  impl_->Stop();
}
void DevicePluginDaemon::Resync() {
  impl_->Resync();
}
int DevicePluginDaemon::metrics_port() const {
  return impl_->metrics_port();
}
std::string DevicePluginDaemon::Metrics() const {
  return impl_->Metrics();
}
Status DevicePluginDaemon::Health() const {
  return impl_->Health();
}

}  // namespace npushare::deviceplugin::daemon
