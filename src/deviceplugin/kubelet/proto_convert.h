// File: deviceplugin/kubelet/proto_convert.h
//
// Conversions between the plain seam types of deviceplugin/plugin_device.h and the generated
// kubelet device-plugin messages (proto/deviceplugin/v1beta1/api.proto), and between Status and
// grpc::Status. Shared by the plugin side (PluginServer) and the kubelet stand-in (sim/kubelet),
// so both read and write the wire the same way. This header includes gRPC: only .cc files and
// tests include it, never a public header.
//
// Thread safety: stateless functions, safe for concurrent use.
#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "deviceplugin/kubelet/kubelet_paths.h"
#include "deviceplugin/plugin_device.h"
#include "deviceplugin/v1beta1/api.pb.h"

namespace npushare::deviceplugin {

// ToGrpcStatus / FromGrpcStatus: same numeric codes on both sides; the message is kept.
grpc::Status ToGrpcStatus(const Status& status);
Status FromGrpcStatus(const grpc::Status& status);

// ToProto(devices): the ListAndWatchResponse advertising `devices` (health "Healthy" or
// "Unhealthy"; topology left unset).
v1beta1::ListAndWatchResponse ToListAndWatchResponse(const std::vector<PluginDevice>& devices);
// FromListAndWatchResponse: kubelet's reading: any health other than exactly "Healthy" is
// unhealthy.
std::vector<PluginDevice> FromListAndWatchResponse(const v1beta1::ListAndWatchResponse& response);

// ToContainerAllocateResponse / FromContainerAllocateResponse: lossless both ways for the fields
// ContainerAllocation has (envs, mounts, devices, annotations); CDI devices are not used.
void ToContainerAllocateResponse(const ContainerAllocation& allocation,
                                 v1beta1::ContainerAllocateResponse* out);
ContainerAllocation FromContainerAllocateResponse(const v1beta1::ContainerAllocateResponse& in);

}  // namespace npushare::deviceplugin
