#include "deviceplugin/kubelet/plugin_server.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "common/thread_annotations.h"
#include "deviceplugin/kubelet/kubelet_registration.h"
#include "deviceplugin/kubelet/proto_convert.h"
#include "deviceplugin/kubelet/socket_file.h"
#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace npushare::deviceplugin {
namespace {

// Bounds on what one request may carry: kubelet sends one container with a handful of IDs;
// anything far beyond is not kubelet and is refused rather than fed to the backend.
constexpr int kMaxContainerRequests = 64;
constexpr int kMaxDeviceIdsPerContainer = 4096;
// How often an idle ListAndWatch handler checks whether its client went away. The sync gRPC API
// has no cancellation callback; this only bounds how long a dead stream keeps its thread.
constexpr auto kCancelPollInterval = std::chrono::milliseconds(500);

constexpr bool kPreStartRequired = false;
constexpr bool kPreferredAllocationAvailable = true;

std::chrono::system_clock::time_point DeadlineAfter(std::chrono::milliseconds d) {
  return std::chrono::system_clock::now() + d;
}

}  // namespace

// DeviceFeed: the advertised list and the streams' wake-up, shared by the PluginServer and the
// gRPC handlers of whichever server generation is running.
struct DeviceFeed {
  Mutex mu;
  CondVar cv;
  std::vector<PluginDevice> devices NPUSHARE_GUARDED_BY(mu);
  uint64_t version NPUSHARE_GUARDED_BY(mu) = 0;   // bumped on every change
  bool stopping NPUSHARE_GUARDED_BY(mu) = false;  // set by Stop, cleared by Start
  PluginServerStats stats NPUSHARE_GUARDED_BY(mu);
};

namespace {

class DevicePluginService final : public v1beta1::DevicePlugin::Service {
 public:
  DevicePluginService(DeviceFeed* feed, AllocateBackend* backend, std::string resource_name)
      : feed_(feed), backend_(backend), resource_name_(std::move(resource_name)) {}

  grpc::Status GetDevicePluginOptions(grpc::ServerContext*, const v1beta1::Empty*,
                                      v1beta1::DevicePluginOptions* reply) override {
    reply->set_pre_start_required(kPreStartRequired);
    reply->set_get_preferred_allocation_available(kPreferredAllocationAvailable);
    return grpc::Status::OK;
  }

  grpc::Status ListAndWatch(grpc::ServerContext* ctx, const v1beta1::Empty*,
                            grpc::ServerWriter<v1beta1::ListAndWatchResponse>* writer) override {
    MutexLock lock(&feed_->mu);
    ++feed_->stats.open_streams;
    // sent: version of the list this stream last wrote; the first pass always writes.
    std::optional<uint64_t> sent;
    grpc::Status result = grpc::Status::OK;
    while (true) {
      feed_->cv.WaitFor(&feed_->mu, kCancelPollInterval, [&]() NPUSHARE_REQUIRES(feed_->mu) {
        return feed_->stopping || sent != feed_->version;
      });
      if (feed_->stopping) {
        break;  // the server is stopping: end the stream cleanly
      }
      if (ctx->IsCancelled()) {
        result = grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
        break;
      }
      if (sent == feed_->version) {
        continue;
      }
      sent = feed_->version;
      v1beta1::ListAndWatchResponse response = ToListAndWatchResponse(feed_->devices);
      lock.Unlock();
      const bool written = writer->Write(response);
      lock.Lock();
      if (!written) {
        result = grpc::Status(grpc::StatusCode::CANCELLED, "ListAndWatch stream broken");
        break;
      }
      ++feed_->stats.list_and_watch_sends;
    }
    --feed_->stats.open_streams;
    return result;
  }

  grpc::Status GetPreferredAllocation(grpc::ServerContext*,
                                      const v1beta1::PreferredAllocationRequest* request,
                                      v1beta1::PreferredAllocationResponse* reply) override {
    // Never an error (kubelet fails the pod on one): malformed input gets an empty preference.
    const bool sane = request->container_requests_size() <= kMaxContainerRequests;
    for (const auto& c : request->container_requests()) {
      auto* out = reply->add_container_responses();
      if (!sane || c.available_deviceids_size() > kMaxDeviceIdsPerContainer ||
          c.must_include_deviceids_size() > kMaxDeviceIdsPerContainer) {
        continue;
      }
      std::vector<std::string> available(c.available_deviceids().begin(),
                                         c.available_deviceids().end());
      std::vector<std::string> must(c.must_include_deviceids().begin(),
                                    c.must_include_deviceids().end());
      for (auto& id :
           backend_->PreferredAllocation(resource_name_, available, must, c.allocation_size())) {
        out->add_deviceids(std::move(id));
      }
      MutexLock g(&feed_->mu);
      ++feed_->stats.preferred_calls;
    }
    return grpc::Status::OK;
  }

  grpc::Status Allocate(grpc::ServerContext*, const v1beta1::AllocateRequest* request,
                        v1beta1::AllocateResponse* reply) override {
    if (request->container_requests_size() == 0) {
      return CountAllocate(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "Allocate request for " + resource_name_ + " names no container"));
    }
    if (request->container_requests_size() > kMaxContainerRequests) {
      return CountAllocate(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "Allocate request for " + resource_name_ + " names too many containers"));
    }
    for (const auto& c : request->container_requests()) {
      if (c.devices_ids_size() > kMaxDeviceIdsPerContainer) {
        return CountAllocate(
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                         "Allocate request for " + resource_name_ + " names too many devices"));
      }
      std::vector<std::string> ids(c.devices_ids().begin(), c.devices_ids().end());
      Result<ContainerAllocation> allocation = backend_->AllocateContainer(resource_name_, ids);
      if (!allocation.ok()) {
        spdlog::warn("Allocate {} {} devices failed: {}", resource_name_, ids.size(),
                     allocation.status().ToString());
        return CountAllocate(ToGrpcStatus(allocation.status()));
      }
      ToContainerAllocateResponse(*allocation, reply->add_container_responses());
    }
    return CountAllocate(grpc::Status::OK);
  }

  grpc::Status PreStartContainer(grpc::ServerContext*, const v1beta1::PreStartContainerRequest*,
                                 v1beta1::PreStartContainerResponse*) override {
    return grpc::Status::OK;
  }

 private:
  grpc::Status CountAllocate(grpc::Status status) {
    MutexLock g(&feed_->mu);
    ++feed_->stats.allocate_calls;
    if (!status.ok()) {
      ++feed_->stats.allocate_errors;
    }
    return status;
  }

  DeviceFeed* feed_;
  AllocateBackend* backend_;
  const std::string resource_name_;
};

}  // namespace

class PluginServer::Impl {
 public:
  Impl(PluginServerOptions options, AllocateBackend* backend)
      : options_(std::move(options)),
        backend_(backend),
        socket_path_(options_.plugin_dir + "/" + options_.endpoint) {}

  Status Start() {
    MutexLock life(&life_mu_);
    if (server_ != nullptr) {
      return OkStatus();
    }
    if (options_.endpoint.empty() || options_.endpoint.find('/') != std::string::npos) {
      return InvalidArgumentError("plugin endpoint \"" + options_.endpoint +
                                  "\" must be a plain file name");
    }
    if (socket_path_.size() > kMaxUnixSocketPath) {
      return InvalidArgumentError("socket path " + socket_path_ + " is too long for a unix socket");
    }
    struct stat st {};
    if (stat(options_.plugin_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return FailedPreconditionError("device-plugin directory " + options_.plugin_dir +
                                     " does not exist");
    }
    NPUSHARE_RETURN_IF_ERROR(UnlinkStaleSocketFile(socket_path_));
    {
      MutexLock g(&feed_.mu);
      feed_.stopping = false;
    }
    auto service = std::make_unique<DevicePluginService>(&feed_, backend_, options_.resource_name);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix://" + socket_path_, grpc::InsecureServerCredentials());
    builder.RegisterService(service.get());
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (server == nullptr) {
      return UnavailableError("cannot serve the device plugin on " + socket_path_);
    }
    server_ = std::move(server);
    service_ = std::move(service);
    // Wait until the socket accepts: Register right after must find us reachable.
    auto channel =
        grpc::CreateChannel("unix://" + socket_path_, grpc::InsecureChannelCredentials());
    std::optional<SocketFileId> id = StatSocketFile(socket_path_);
    if (!id.has_value() || !channel->WaitForConnected(DeadlineAfter(options_.start_timeout))) {
      StopLocked();
      return UnavailableError("device-plugin socket " + socket_path_ + " does not accept");
    }
    socket_id_ = id;
    serving_.store(true, std::memory_order_release);
    MutexLock g(&feed_.mu);
    ++feed_.stats.starts;
    return OkStatus();
  }

  Status Register() {
    if (!Serving()) {
      return FailedPreconditionError("not serving " + socket_path_ + ": cannot register " +
                                     options_.resource_name + " before serving");
    }
    RegistrationRequest req;
    req.kubelet_socket = options_.plugin_dir + "/" + kKubeletSocketName;
    req.endpoint = options_.endpoint;
    req.resource_name = options_.resource_name;
    req.pre_start_required = kPreStartRequired;
    req.get_preferred_allocation_available = kPreferredAllocationAvailable;
    NPUSHARE_RETURN_IF_ERROR(RegisterWithKubelet(req, options_.register_timeout));
    MutexLock g(&feed_.mu);
    ++feed_.stats.registrations;
    return OkStatus();
  }

  void Stop() {
    MutexLock life(&life_mu_);
    StopLocked();
  }

  // Serving: never waits for a Start/Stop in progress (metrics and health read it).
  bool Serving() const { return serving_.load(std::memory_order_acquire); }

  bool SocketIntact() const {
    MutexLock life(&life_mu_);
    return server_ != nullptr && socket_id_.has_value() &&
           StatSocketFile(socket_path_) == socket_id_;
  }

  void UpdateDevices(std::vector<PluginDevice> devices) {
    {
      MutexLock g(&feed_.mu);
      if (devices == feed_.devices) {
        return;
      }
      feed_.devices = std::move(devices);
      ++feed_.version;
    }
    feed_.cv.NotifyAll();
  }

  std::vector<PluginDevice> Devices() const {
    MutexLock g(&feed_.mu);
    return feed_.devices;
  }

  PluginServerStats Stats() const {
    MutexLock g(&feed_.mu);
    return feed_.stats;
  }

  const std::string& socket_path() const { return socket_path_; }
  const PluginServerOptions& options() const { return options_; }

 private:
  // StopLocked: REQUIRES life_mu_. Order matters (k8s-apis.md §1.7): streams end first (Shutdown
  // waits for every handler), then the server stops completely (gRPC unlinks the path itself),
  // and only then is a leftover socket of ours removed, so a later Start() on the same path is
  // never undone by this generation's teardown.
  void StopLocked() NPUSHARE_REQUIRES(life_mu_) {
    if (server_ == nullptr) {
      return;
    }
    serving_.store(false, std::memory_order_release);
    {
      MutexLock g(&feed_.mu);
      feed_.stopping = true;
    }
    feed_.cv.NotifyAll();
    server_->Shutdown(DeadlineAfter(options_.stop_grace));
    server_->Wait();
    server_.reset();
    service_.reset();
    if (socket_id_.has_value()) {
      Status s = UnlinkSocketFileIfSame(socket_path_, *socket_id_);
      if (!s.ok()) {
        spdlog::warn("removing {}: {}", socket_path_, s.ToString());
      }
    }
    socket_id_.reset();
  }

  const PluginServerOptions options_;
  AllocateBackend* const backend_;
  const std::string socket_path_;

  mutable DeviceFeed feed_;

  mutable Mutex life_mu_;
  std::unique_ptr<grpc::Server> server_ NPUSHARE_GUARDED_BY(life_mu_);
  std::unique_ptr<DevicePluginService> service_ NPUSHARE_GUARDED_BY(life_mu_);  // outlives server_
  std::optional<SocketFileId> socket_id_ NPUSHARE_GUARDED_BY(life_mu_);
  std::atomic<bool> serving_{false};  // written under life_mu_: Start succeeded, no Stop since
};

PluginServer::PluginServer(PluginServerOptions options, AllocateBackend* backend)
    : impl_(std::make_unique<Impl>(std::move(options), backend)) {}
PluginServer::~PluginServer() {
  impl_->Stop();
}
Status PluginServer::Start() {
  return impl_->Start();
}
Status PluginServer::Register() {
  return impl_->Register();
}
void PluginServer::Stop() {
  impl_->Stop();
}
bool PluginServer::Serving() const {
  return impl_->Serving();
}
bool PluginServer::SocketIntact() const {
  return impl_->SocketIntact();
}
void PluginServer::UpdateDevices(std::vector<PluginDevice> devices) {
  impl_->UpdateDevices(std::move(devices));
}
std::vector<PluginDevice> PluginServer::Devices() const {
  return impl_->Devices();
}
PluginServerStats PluginServer::Stats() const {
  return impl_->Stats();
}
const std::string& PluginServer::socket_path() const {
  return impl_->socket_path();
}
const std::string& PluginServer::resource_name() const {
  return impl_->options().resource_name;
}
const PluginServerOptions& PluginServer::options() const {
  return impl_->options();
}

}  // namespace npushare::deviceplugin
