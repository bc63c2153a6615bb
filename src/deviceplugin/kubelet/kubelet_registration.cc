#include "deviceplugin/kubelet/kubelet_registration.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "deviceplugin/kubelet/proto_convert.h"
#include "deviceplugin/kubelet/socket_file.h"
#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace npushare::deviceplugin {
namespace {
constexpr auto kConnectTimeout = std::chrono::seconds(3);
}  // namespace

Status RegisterWithKubelet(const RegistrationRequest& request, std::chrono::milliseconds timeout) {
  // No kubelet.sock: kubelet is not running; say so now instead of waiting out the deadline
  // (the caller retries, and a watcher of the directory notices kubelet coming back).
  if (!StatSocketFile(request.kubelet_socket).has_value()) {
    return UnavailableError("kubelet registration socket " + request.kubelet_socket +
                            " does not exist");
  }
  const auto now = std::chrono::system_clock::now();
  const auto deadline = now + timeout;
  auto channel =
      grpc::CreateChannel("unix://" + request.kubelet_socket, grpc::InsecureChannelCredentials());
  // A socket left by a dead kubelet refuses connections: give up on it sooner than on a
  // Register that kubelet is working on.
  if (!channel->WaitForConnected(std::min(deadline, now + kConnectTimeout))) {
    return UnavailableError("kubelet registration socket " + request.kubelet_socket +
                            " does not accept connections");
  }
  auto stub = v1beta1::Registration::NewStub(channel);
  v1beta1::RegisterRequest req;
  req.set_version(kDevicePluginApiVersion);
  req.set_endpoint(request.endpoint);
  req.set_resource_name(request.resource_name);
  req.mutable_options()->set_pre_start_required(request.pre_start_required);
  req.mutable_options()->set_get_preferred_allocation_available(
      request.get_preferred_allocation_available);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  v1beta1::Empty reply;
  grpc::Status s = stub->Register(&ctx, req, &reply);
  return FromGrpcStatus(s).WithContext("Register " + request.resource_name + " with kubelet");
}

}  // namespace npushare::deviceplugin
