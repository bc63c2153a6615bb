#include "sim/kubelet/kubelet_sim.h"

#include <dirent.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "common/thread_annotations.h"
#include "deviceplugin/kubelet/proto_convert.h"
#include "deviceplugin/kubelet/socket_file.h"
#include "deviceplugin/v1beta1/api.grpc.pb.h"
#include "sim/kubelet/kubelet_rules.h"

namespace npushare::kubelet_sim {

using deviceplugin::FromGrpcStatus;
using deviceplugin::PluginDevice;

namespace {

std::chrono::system_clock::time_point DeadlineAfter(std::chrono::milliseconds d) {
  return std::chrono::system_clock::now() + d;
}

// What kubelet's checkpoint file looks like when nothing is allocated; the stand-in writes it
// once so plugins share the directory with a non-socket file they must leave alone.
constexpr const char* kEmptyCheckpoint =
    "{\"Data\":{\"PodDeviceEntries\":null,\"RegisteredDevices\":{}},\"Checksum\":0}\n";

// A ListAndWatch message beyond this many devices is not a plugin we simulate; it is ignored.
constexpr int kMaxDevicesPerList = 1 << 16;

Status EnsureDirectory(const std::string& dir) {
  std::error_code ec;
  const bool created = std::filesystem::create_directories(dir, ec);
  if (ec) {
    return FileSystemError(ec.value(), "mkdir " + dir);
  }
  if (created) {
    std::filesystem::permissions(dir, std::filesystem::perms(0750), ec);
  }
  return OkStatus();
}

// CleanupPluginDirectory: kubelet's start-up sweep: every unix socket in `dir` goes, except the
// checkpoint file (never a socket anyway).
void CleanupPluginDirectory(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return;
  }
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name == deviceplugin::kKubeletCheckpointName) {
      continue;
    }
    std::string path = dir + "/" + name;
    if (deviceplugin::StatSocketFile(path).has_value()) {
      unlink(path.c_str());
    }
  }
  closedir(d);
}

}  // namespace

size_t ResourceState::allocatable() const {
  return static_cast<size_t>(
      std::count_if(devices.begin(), devices.end(), [](const auto& d) { return d.healthy; }));
}

class KubeletSim::Impl {
 public:
  explicit Impl(KubeletSimOptions options)
      : options_(std::move(options)),
        socket_path_(options_.plugin_dir + "/" + deviceplugin::kKubeletSocketName) {}

  ~Impl() { Stop(); }

  Status StartServing() {
    MutexLock life(&life_mu_);
    if (server_ != nullptr) {
      return OkStatus();
    }
    NPUSHARE_RETURN_IF_ERROR(deviceplugin::UnlinkStaleSocketFile(socket_path_));
    auto service = std::make_unique<RegistrationService>(this);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix://" + socket_path_, grpc::InsecureServerCredentials());
    builder.RegisterService(service.get());
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (server == nullptr) {
      return UnavailableError("cannot serve " + socket_path_);
    }
    server_ = std::move(server);
    service_ = std::move(service);
    return OkStatus();
  }

  // StopServing: the kubelet process going away: no more Register calls, every plugin
  // connection closed. Handlers finish before connections are taken down, so none is added
  // behind our back.
  void StopServing() {
    {
      MutexLock life(&life_mu_);
      if (server_ != nullptr) {
        server_->Shutdown(DeadlineAfter(std::chrono::seconds(2)));
        server_->Wait();
        server_.reset();
        service_.reset();
      }
    }
    std::map<std::string, std::shared_ptr<Endpoint>> endpoints;
    {
      MutexLock g(&mu_);
      endpoints.swap(endpoints_);
      for (auto& [name, r] : state_.resources) {
        r.connected = false;
      }
      cv_.NotifyAll();
    }
    for (auto& [name, ep] : endpoints) {
      CloseEndpoint(*ep);
    }
  }

  Status Restart() {
    StopServing();
    {
      MutexLock g(&mu_);
      // Capacity reads 0 until plugins register again; allocations are checkpointed.
      for (auto& [name, r] : state_.resources) {
        r.devices.clear();
      }
      ++state_.restarts;
      cv_.NotifyAll();
    }
    CleanupPluginDirectory(options_.plugin_dir);
    return StartServing();
  }

  void Stop() {
    StopServing();
    deviceplugin::UnlinkStaleSocketFile(socket_path_).IgnoreError();
  }

  grpc::Status HandleRegister(const v1beta1::RegisterRequest& req) {
    RegistrationRecord record;
    record.version = req.version();
    record.endpoint = req.endpoint();
    record.resource_name = req.resource_name();
    record.request_preferred_allocation =
        req.has_options() && req.options().get_preferred_allocation_available();
    Status s = CheckRegisterRequest(req.version(), req.resource_name());
    if (s.ok()) {
      s = Connect(req.resource_name(), req.endpoint());
    }
    MutexLock g(&mu_);
    record.result = s;
    state_.registrations.push_back(std::move(record));
    cv_.NotifyAll();
    return deviceplugin::ToGrpcStatus(s);
  }

  Result<DeviceGrant> Allocate(const DeviceRequest& request) {
    MutexLock serial(&alloc_mu_);
    std::shared_ptr<Endpoint> ep;
    std::string owner = request.owner;
    std::vector<std::string> available;
    bool advertised = false;
    {
      MutexLock g(&mu_);
      auto it = state_.resources.find(request.resource_name);
      auto eit = endpoints_.find(request.resource_name);
      if (it == state_.resources.end() || eit == endpoints_.end()) {
        return NotFoundError("unknown Device Plugin " + request.resource_name);
      }
      ResourceState& r = it->second;
      if (owner.empty()) {
        owner = "anonymous-" + std::to_string(++anonymous_owners_);
      }
      auto held = grants_.find(owner);
      if (held != grants_.end()) {
        auto grant = held->second.find(request.resource_name);
        if (grant != held->second.end()) {
          if (static_cast<int32_t>(grant->second.device_ids.size()) != request.count) {
            return FailedPreconditionError(owner + " changed its request for " +
                                           request.resource_name);
          }
          return grant->second;
        }
      }
      if (!r.connected) {
        return UnavailableError("device plugin for " + request.resource_name + " is not connected");
      }
      std::set<std::string> reusable(request.reusable.begin(), request.reusable.end());
      for (const auto& d : r.devices) {
        if (d.healthy && r.allocated.count(d.id) == 0 && reusable.count(d.id) == 0) {
          available.push_back(d.id);
        }
      }
      std::sort(available.begin(), available.end());
      advertised = r.get_preferred_allocation_available;
      ep = eit->second;
    }
    const std::string& resource = request.resource_name;
    // Kubelet refuses before asking the plugin when the free devices cannot cover the request.
    NPUSHARE_RETURN_IF_ERROR(
        PickDevices(resource, request.count, request.reusable, available, {}).status());

    DeviceGrant grant;
    grant.owner = owner;
    if (NeedsPreferredAllocation(advertised, request.count, request.reusable.size())) {
      v1beta1::PreferredAllocationRequest preq;
      auto* c = preq.add_container_requests();
      for (const auto& id : available) {
        c->add_available_deviceids(id);
      }
      for (const auto& id : request.reusable) {
        c->add_available_deviceids(id);
        c->add_must_include_deviceids(id);
      }
      c->set_allocation_size(request.count);
      v1beta1::PreferredAllocationResponse presp;
      grpc::ClientContext ctx;
      ctx.set_deadline(DeadlineAfter(options_.rpc_timeout));
      grpc::Status gs = ep->stub->GetPreferredAllocation(&ctx, preq, &presp);
      {
        MutexLock g(&mu_);
        ++state_.resources[resource].preferred_allocation_calls;
      }
      if (!gs.ok()) {
        return FromGrpcStatus(gs).WithContext("GetPreferredAllocation for " + resource);
      }
      grant.preferred_called = true;
      if (presp.container_responses_size() > 0) {
        const auto& ids = presp.container_responses(0).deviceids();
        grant.preferred.assign(ids.begin(), ids.end());
      }
    }
    NPUSHARE_ASSIGN_OR_RETURN(
        grant.device_ids,
        PickDevices(resource, request.count, request.reusable, available, grant.preferred));

    v1beta1::AllocateRequest areq;
    auto* c = areq.add_container_requests();
    for (const auto& id : grant.device_ids) {
      c->add_devices_ids(id);
    }
    v1beta1::AllocateResponse aresp;
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineAfter(options_.rpc_timeout));
    grpc::Status gs = ep->stub->Allocate(&ctx, areq, &aresp);
    MutexLock g(&mu_);
    ResourceState& r = state_.resources[resource];
    ++r.allocate_calls;
    cv_.NotifyAll();
    if (!gs.ok()) {
      return FromGrpcStatus(gs);
    }
    if (aresp.container_responses_size() == 0) {
      return InternalError("no containers return in allocation response");
    }
    grant.response = deviceplugin::FromContainerAllocateResponse(aresp.container_responses(0));
    for (const auto& id : grant.device_ids) {
      r.allocated[id] = owner;
    }
    grants_[owner][resource] = grant;
    return grant;
  }

  size_t Release(const std::string& owner) {
    MutexLock g(&mu_);
    size_t freed = 0;
    for (auto& [name, r] : state_.resources) {
      for (auto it = r.allocated.begin(); it != r.allocated.end();) {
        if (it->second == owner) {
          it = r.allocated.erase(it);
          ++freed;
        } else {
          ++it;
        }
      }
    }
    grants_.erase(owner);
    cv_.NotifyAll();
    return freed;
  }

  KubeletState State() const {
    MutexLock g(&mu_);
    return state_;
  }

  bool WaitFor(const std::function<bool(const KubeletState&)>& predicate,
               std::chrono::milliseconds timeout) const {
    MutexLock lock(&mu_);
    return cv_.WaitFor(&mu_, timeout, [&]() NPUSHARE_REQUIRES(mu_) { return predicate(state_); });
  }

  const KubeletSimOptions& options() const { return options_; }
  const std::string& socket_path() const { return socket_path_; }

 private:
  // Endpoint: kubelet's connection to one registered plugin. Owned by endpoints_ until replaced
  // or stopped; whoever takes it out cancels the stream and joins the reader before dropping it.
  struct Endpoint {
    std::string resource;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1beta1::DevicePlugin::Stub> stub;
    grpc::ClientContext stream_ctx;
    std::thread reader;
  };

  class RegistrationService final : public v1beta1::Registration::Service {
   public:
    explicit RegistrationService(Impl* impl) : impl_(impl) {}
    grpc::Status Register(grpc::ServerContext*, const v1beta1::RegisterRequest* req,
                          v1beta1::Empty*) override {
      return impl_->HandleRegister(*req);
    }

   private:
    Impl* impl_;
  };

  static void CloseEndpoint(Endpoint& ep) {
    ep.stream_ctx.TryCancel();
    if (ep.reader.joinable()) {
      ep.reader.join();
    }
  }

  // Connect: kubelet's connectClient + PluginConnected, synchronously inside Register.
  Status Connect(const std::string& resource, const std::string& endpoint) {
    auto ep = std::make_shared<Endpoint>();
    ep->resource = resource;
    const std::string path = options_.plugin_dir + "/" + endpoint;
    ep->channel = grpc::CreateChannel("unix://" + path, grpc::InsecureChannelCredentials());
    if (!ep->channel->WaitForConnected(DeadlineAfter(options_.dial_timeout))) {
      return Status(StatusCode::kUnknown,
                    "failed to dial device plugin " + path + ": context deadline exceeded");
    }
    ep->stub = v1beta1::DevicePlugin::NewStub(ep->channel);
    v1beta1::DevicePluginOptions opts;
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(DeadlineAfter(options_.rpc_timeout));
      grpc::Status gs = ep->stub->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &opts);
      if (!gs.ok()) {
        return Status(StatusCode::kUnknown,
                      "failed to get device plugin options: " + gs.error_message());
      }
    }
    std::shared_ptr<Endpoint> old;
    {
      MutexLock g(&mu_);
      auto& slot = endpoints_[resource];
      old = std::move(slot);
      slot = ep;
      ResourceState& r = state_.resources[resource];
      r.endpoint = endpoint;
      r.connected = true;
      r.pre_start_required = opts.pre_start_required();
      r.get_preferred_allocation_available = opts.get_preferred_allocation_available();
      // Started under mu_: its first update waits for this insertion to be visible.
      Endpoint* raw = ep.get();
      ep->reader = std::thread([this, raw] { ReadStream(raw); });
      cv_.NotifyAll();
    }
    if (old != nullptr) {
      CloseEndpoint(*old);
    }
    return OkStatus();
  }

  bool IsCurrent(const Endpoint* ep) const NPUSHARE_REQUIRES(mu_) {
    auto it = endpoints_.find(ep->resource);
    return it != endpoints_.end() && it->second.get() == ep;
  }

  void ReadStream(Endpoint* ep) {
    auto reader = ep->stub->ListAndWatch(&ep->stream_ctx, v1beta1::Empty());
    v1beta1::ListAndWatchResponse response;
    while (reader->Read(&response)) {
      if (response.devices_size() > kMaxDevicesPerList) {
        continue;
      }
      std::vector<PluginDevice> devices = deviceplugin::FromListAndWatchResponse(response);
      MutexLock g(&mu_);
      if (!IsCurrent(ep)) {
        continue;
      }
      ResourceState& r = state_.resources[ep->resource];
      r.devices = std::move(devices);
      ++r.list_and_watch_updates;
      cv_.NotifyAll();
    }
    reader->Finish().IgnoreError();
    MutexLock g(&mu_);
    if (IsCurrent(ep)) {
      // PluginDisconnected: every device of the resource turns unhealthy.
      ResourceState& r = state_.resources[ep->resource];
      for (auto& d : r.devices) {
        d.healthy = false;
      }
      r.connected = false;
      ++r.stream_ends;
      cv_.NotifyAll();
    }
  }

  const KubeletSimOptions options_;
  const std::string socket_path_;

  Mutex life_mu_;
  std::unique_ptr<grpc::Server> server_ NPUSHARE_GUARDED_BY(life_mu_);
  std::unique_ptr<RegistrationService> service_ NPUSHARE_GUARDED_BY(life_mu_);

  Mutex alloc_mu_;  // one Allocate at a time

  mutable Mutex mu_;
  mutable CondVar cv_;
  KubeletState state_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, std::map<std::string, DeviceGrant>> grants_ NPUSHARE_GUARDED_BY(mu_);
  uint64_t anonymous_owners_ NPUSHARE_GUARDED_BY(mu_) = 0;
};

Result<std::unique_ptr<KubeletSim>> KubeletSim::Start(KubeletSimOptions options) {
  if (options.plugin_dir.empty()) {
    return InvalidArgumentError("kubelet stand-in needs a device-plugin directory");
  }
  if (options.plugin_dir.size() + 1 + std::string(deviceplugin::kKubeletSocketName).size() >
      deviceplugin::kMaxUnixSocketPath) {
    return InvalidArgumentError("device-plugin directory " + options.plugin_dir +
                                " is too long for a unix socket path");
  }
  NPUSHARE_RETURN_IF_ERROR(EnsureDirectory(options.plugin_dir));
  const std::string checkpoint = options.plugin_dir + "/" + deviceplugin::kKubeletCheckpointName;
  int fd = open(checkpoint.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    [[maybe_unused]] ssize_t n = write(fd, kEmptyCheckpoint, strlen(kEmptyCheckpoint));
    close(fd);
  }
  auto impl = std::make_unique<Impl>(std::move(options));
  NPUSHARE_RETURN_IF_ERROR(impl->StartServing());
  return std::unique_ptr<KubeletSim>(new KubeletSim(std::move(impl)));
}

KubeletSim::KubeletSim(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KubeletSim::~KubeletSim() = default;

Status KubeletSim::Restart() {
  return impl_->Restart();
}
void KubeletSim::Stop() {
  impl_->Stop();
}
Result<DeviceGrant> KubeletSim::Allocate(const DeviceRequest& request) {
  return impl_->Allocate(request);
}
size_t KubeletSim::Release(const std::string& owner) {
  return impl_->Release(owner);
}
KubeletState KubeletSim::State() const {
  return impl_->State();
}
bool KubeletSim::WaitFor(const std::function<bool(const KubeletState&)>& predicate,
                         std::chrono::milliseconds timeout) const {
  return impl_->WaitFor(predicate, timeout);
}
bool KubeletSim::WaitForHealthy(const std::string& resource_name, size_t healthy,
                                std::chrono::milliseconds timeout) const {
  return impl_->WaitFor(
      [&](const KubeletState& s) {
        auto it = s.resources.find(resource_name);
        return it != s.resources.end() && it->second.connected &&
               it->second.allocatable() == healthy;
      },
      timeout);
}
const std::string& KubeletSim::plugin_dir() const {
  return impl_->options().plugin_dir;
}
std::string KubeletSim::socket_path() const {
  return impl_->socket_path();
}

}  // namespace npushare::kubelet_sim
