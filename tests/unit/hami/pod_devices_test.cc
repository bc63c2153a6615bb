#include "hami/pod_devices.h"

#include <gtest/gtest.h>

namespace npushare::hami {
namespace {

ContainerDevice Dev(std::string uuid, int32_t mem, int32_t cores) {
  return ContainerDevice{std::move(uuid), "Ascend910B3", mem, cores};
}

TEST(PodDevicesTest, EncodeUsesTerminators) {
  EXPECT_EQ((EncodePodDevices({})), "");
  EXPECT_EQ((EncodePodDevices({{}})), ";");
  EXPECT_EQ((EncodePodDevices({{Dev("u1", 1000, 30)}})), "u1,Ascend910B3,1000,30:;");
  EXPECT_EQ((EncodePodDevices({{}, {Dev("a", 65536, 0), Dev("b", 65536, 0)}, {}})),
            ";a,Ascend910B3,65536,0:b,Ascend910B3,65536,0:;;");
  EXPECT_EQ((EncodeContainerDevices({Dev("n", -5, 0)})), "n,Ascend910B3,-5,0:");
}

TEST(PodDevicesTest, DecodeKeepsTrailingEmptyEntry) {
  auto pd = DecodePodDevices("");
  ASSERT_TRUE(pd.ok());
  EXPECT_EQ(pd->size(), 1u);
  pd = DecodePodDevices(";");
  ASSERT_TRUE(pd.ok());
  EXPECT_EQ(pd->size(), 2u);
  pd = DecodePodDevices("u1,Ascend910B3,100,7:;");
  ASSERT_TRUE(pd.ok());
  ASSERT_EQ(pd->size(), 2u);
  EXPECT_EQ((*pd)[0], ContainerDevices{Dev("u1", 100, 7)});
  EXPECT_TRUE((*pd)[1].empty());
}

TEST(PodDevicesTest, DecodeQuirks) {
  // Pieces without a comma are skipped; extra fields ignored; +/- signs accepted.
  auto pd = DecodePodDevices("garbage:u1,Ascend910B3,+100,-1,extra::");
  ASSERT_TRUE(pd.ok()) << pd.status().ToString();
  EXPECT_EQ((*pd)[0], ContainerDevices{Dev("u1", 100, -1)});
}

TEST(PodDevicesTest, DecodeErrorsUseUpstreamTexts) {
  auto pd = DecodePodDevices("uuid,type,100:;");
  EXPECT_EQ(pd.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pd.status().message(),
            "pod annotation format error, missing fields, do not use nodeName in task spec");
  EXPECT_EQ(DecodePodDevices("u,t,abc,0:;").status().message(), "invalid memory field");
  EXPECT_EQ(DecodePodDevices("u,t,2147483648,0:;").status().message(), "invalid memory field");
  EXPECT_EQ(DecodePodDevices("u,t, 1,0:;").status().message(), "invalid memory field");
  EXPECT_EQ(DecodePodDevices("u,t,1,x:;").status().message(), "invalid core field");
  EXPECT_EQ(DecodePodDevices("u,t,1,:;").status().message(), "invalid core field");
  // A later container's error fails the whole decode.
  EXPECT_FALSE(DecodePodDevices("u,t,1,1:;u,t,1:;").ok());
}

TEST(PodDevicesTest, HostileInputIsRejectedNotCrashed) {
  EXPECT_FALSE(DecodePodDevices(std::string(kMaxPodDevicesTextBytes + 1, ';')).ok());
  EXPECT_TRUE(DecodePodDevices(std::string(kMaxPodDevicesContainers - 1, ';')).ok());
  EXPECT_FALSE(DecodePodDevices(std::string(kMaxPodDevicesContainers, ';')).ok());
  std::string many;
  for (size_t i = 0; i <= kMaxDevicesPerContainer; ++i) {
    many += "u,t,1,1:";
  }
  EXPECT_FALSE(DecodePodDevices(many).ok());
  // A megabyte of separators without commas is skipped cheaply, as upstream does.
  EXPECT_TRUE(DecodePodDevices(std::string(kMaxPodDevicesTextBytes, ':')).ok());
  // NUL bytes and invalid UTF-8 are opaque uuid bytes, as upstream treats them.
  auto pd = DecodePodDevices(std::string("u\0\xff,t,1,1:;", 11));
  ASSERT_TRUE(pd.ok());
  EXPECT_EQ((*pd)[0][0].uuid, std::string("u\0\xff", 3));
}

TEST(PodDevicesTest, RoundTripAddsOneTrailingEntry) {
  const PodDevices pod = {{}, {Dev("a", 1, 2), Dev("b", 3, 4)}, {Dev("c", 5, 6)}};
  const std::string text = EncodePodDevices(pod);
  auto back = DecodePodDevices(text);
  ASSERT_TRUE(back.ok());
  PodDevices expected = pod;
  expected.push_back({});
  EXPECT_EQ(*back, expected);
  EXPECT_EQ((EncodePodDevices(*back)), text + ";");
}

TEST(PodDevicesTest, PopFirstNonEmptyContainerBlanksIt) {
  auto pd = DecodePodDevices(";u1,T,1024,4:;u2,T,2048,8:;");
  ASSERT_TRUE(pd.ok());
  auto p = PopFirstNonEmptyContainer(*pd);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->container_index, 1u);
  EXPECT_EQ(p->devices[0].uuid, "u1");
  EXPECT_EQ((EncodePodDevices(*pd)), ";;u2,T,2048,8:;;");
  p = PopFirstNonEmptyContainer(*pd);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->container_index, 2u);
  EXPECT_EQ((EncodePodDevices(*pd)), ";;;;");
  p = PopFirstNonEmptyContainer(*pd);
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(p.status().message(), "no pending device allocation found");
}

}  // namespace
}  // namespace npushare::hami
