// Conversions between the seam types and the kubelet device-plugin messages.
#include "deviceplugin/kubelet/proto_convert.h"

#include <gtest/gtest.h>

namespace npushare::deviceplugin {
namespace {

TEST(ProtoConvert, ContainerAllocationRoundTrips) {
  ContainerAllocation a;
  a.envs = {{"ASCEND_VISIBLE_DEVICES", "3"}, {"NPU_MEM_QUOTA", "4096"}};
  a.mounts = {MountSpec{"/c", "/h", true}, MountSpec{"/c2", "/h2", false}};
  a.devices = {DeviceNodeSpec{"/dev/davinci3", "/dev/davinci3", "rwm"}};
  a.annotations = {{"k", "v"}};
  v1beta1::ContainerAllocateResponse proto;
  ToContainerAllocateResponse(a, &proto);
  EXPECT_EQ(proto.envs_size(), 2);
  EXPECT_EQ(proto.mounts(1).read_only(), false);
  EXPECT_EQ(proto.devices(0).permissions(), "rwm");
  // Through the wire bytes, not only the object.
  v1beta1::ContainerAllocateResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(proto.SerializeAsString()));
  ContainerAllocation back = FromContainerAllocateResponse(parsed);
  EXPECT_EQ(back.envs, a.envs);
  EXPECT_EQ(back.mounts, a.mounts);
  EXPECT_EQ(back.devices, a.devices);
  EXPECT_EQ(back.annotations, a.annotations);
}

TEST(ProtoConvert, HealthIsExactlyHealthyOrElseUnhealthy) {
  auto resp = ToListAndWatchResponse({PluginDevice{"a", true}, PluginDevice{"b", false}});
  ASSERT_EQ(resp.devices_size(), 2);
  EXPECT_EQ(resp.devices(0).id(), "a");
  EXPECT_EQ(resp.devices(0).health(), "Healthy");
  EXPECT_EQ(resp.devices(1).health(), "Unhealthy");
  EXPECT_FALSE(resp.devices(0).has_topology());
  resp.mutable_devices(1)->set_health("healthy");  // kubelet: anything but "Healthy" is not
  auto back = FromListAndWatchResponse(resp);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_TRUE(back[0].healthy);
  EXPECT_FALSE(back[1].healthy);
}

TEST(ProtoConvert, StatusCodesMapOneToOne) {
  grpc::Status g = ToGrpcStatus(FailedPreconditionError("m"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(g.error_message(), "m");
  EXPECT_TRUE(ToGrpcStatus(OkStatus()).ok());
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "x")).code(),
            StatusCode::kUnavailable);
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  // A code outside gRPC's range never becomes OK.
  EXPECT_EQ(
      ToGrpcStatus(
          Status(StatusCode::kDoNotUseReservedForFutureExpansionUseDefaultInSwitchInstead_, "x"))
          .error_code(),
      grpc::StatusCode::UNKNOWN);
}

}  // namespace
}  // namespace npushare::deviceplugin
