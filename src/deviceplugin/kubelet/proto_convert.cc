#include "deviceplugin/kubelet/proto_convert.h"

namespace npushare::deviceplugin {

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  int code = static_cast<int>(status.code());
  if (code <= 0 || code > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
    code = static_cast<int>(grpc::StatusCode::UNKNOWN);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(code), status.message());
}

Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) {
    return OkStatus();
  }
  int code = static_cast<int>(status.error_code());
  if (code <= 0 || code > static_cast<int>(StatusCode::kUnauthenticated)) {
    code = static_cast<int>(StatusCode::kUnknown);
  }
  return Status(static_cast<StatusCode>(code), status.error_message());
}

v1beta1::ListAndWatchResponse ToListAndWatchResponse(const std::vector<PluginDevice>& devices) {
  v1beta1::ListAndWatchResponse response;
  for (const auto& d : devices) {
    auto* device = response.add_devices();
    device->set_id(d.id);
    device->set_health(d.healthy ? kHealthy : kUnhealthy);
  }
  return response;
}

std::vector<PluginDevice> FromListAndWatchResponse(const v1beta1::ListAndWatchResponse& response) {
  std::vector<PluginDevice> devices;
  devices.reserve(static_cast<size_t>(response.devices_size()));
  for (const auto& d : response.devices()) {
    devices.push_back(PluginDevice{d.id(), d.health() == kHealthy});
  }
  return devices;
}

void ToContainerAllocateResponse(const ContainerAllocation& allocation,
                                 v1beta1::ContainerAllocateResponse* out) {
  for (const auto& [k, v] : allocation.envs) {
    (*out->mutable_envs())[k] = v;
  }
  for (const auto& m : allocation.mounts) {
    auto* mount = out->add_mounts();
    mount->set_container_path(m.container_path);
    mount->set_host_path(m.host_path);
    mount->set_read_only(m.read_only);
  }
  for (const auto& d : allocation.devices) {
    auto* spec = out->add_devices();
    spec->set_container_path(d.container_path);
    spec->set_host_path(d.host_path);
    spec->set_permissions(d.permissions);
  }
  for (const auto& [k, v] : allocation.annotations) {
    (*out->mutable_annotations())[k] = v;
  }
}

ContainerAllocation FromContainerAllocateResponse(const v1beta1::ContainerAllocateResponse& in) {
  ContainerAllocation allocation;
  for (const auto& [k, v] : in.envs()) {
    allocation.envs[k] = v;
  }
  for (const auto& m : in.mounts()) {
    allocation.mounts.push_back(MountSpec{m.container_path(), m.host_path(), m.read_only()});
  }
  for (const auto& d : in.devices()) {
    allocation.devices.push_back(
        DeviceNodeSpec{d.container_path(), d.host_path(), d.permissions()});
  }
  for (const auto& [k, v] : in.annotations()) {
    allocation.annotations[k] = v;
  }
  return allocation;
}

}  // namespace npushare::deviceplugin
