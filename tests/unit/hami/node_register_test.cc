#include "hami/node_register.h"

#include <gtest/gtest.h>

namespace npushare::hami {
namespace {

DeviceInfo PluginDevice(std::string id, uint32_t index, bool health, std::string type) {
  DeviceInfo d;
  d.id = std::move(id);
  d.index = index;
  d.count = 4;
  d.devmem = 65536;
  d.devcore = 20;
  d.type = std::move(type);
  d.health = health;
  if (PluginHasNetworkId(d.type)) {
    d.has_custom_info = true;
    d.network_id = PluginNetworkId(index, d.type);
  }
  return d;
}

constexpr char kTwoDevices[] =
    R"([{"id":"NPU-0","count":4,"devmem":65536,"devcore":20,"type":"Ascend910B3","health":true,)"
    R"("custominfo":{"NetworkID":0},"devicepairscore":{}},{"id":"NPU-1","index":1,"count":4,)"
    R"("devmem":65536,"devcore":20,"type":"Ascend910B3","custominfo":{"NetworkID":0},)"
    R"("devicepairscore":{}}])";

TEST(NodeRegisterTest, EncodesPluginBytes) {
  const std::vector<DeviceInfo> two = {PluginDevice("NPU-0", 0, true, "Ascend910B3"),
                                       PluginDevice("NPU-1", 1, false, "Ascend910B3")};
  EXPECT_EQ((EncodeNodeRegister(two)), kTwoDevices);
  DeviceInfo p310 = PluginDevice("u1", 0, true, "Ascend310P");
  p310.count = 1;
  p310.devmem = 21527;
  p310.devcore = 100;
  EXPECT_EQ((EncodeNodeRegister({p310})),
            R"([{"id":"u1","count":1,"devmem":21527,"devcore":100,"type":"Ascend310P",)"
            R"("health":true,"devicepairscore":{}}])");
  EXPECT_EQ((EncodeNodeRegister({})), "[]");
  DeviceInfo odd;
  odd.id = "<x>";
  odd.numa = 1;
  odd.mode = "m";
  odd.has_custom_info = true;
  odd.network_id = 1.5;
  EXPECT_EQ((EncodeNodeRegister({odd})),
            R"([{"id":"\u003cx\u003e","numa":1,"mode":"m","custominfo":{"NetworkID":1.5},)"
            R"("devicepairscore":{}}])");
}

TEST(NodeRegisterTest, NetworkIdRule) {
  EXPECT_EQ(PluginNetworkId(0, "Ascend910A"), 0);
  EXPECT_EQ(PluginNetworkId(3, "Ascend910B"), 0);
  EXPECT_EQ(PluginNetworkId(4, "Ascend910B"), 1);
  EXPECT_EQ(PluginNetworkId(100, "Ascend910C"), 0);
  EXPECT_TRUE(PluginHasNetworkId("Ascend910B4-1"));
  EXPECT_FALSE(PluginHasNetworkId("Ascend310P"));
}

TEST(NodeRegisterTest, DecodesRoundTripAndSetsVendor) {
  auto devs = DecodeNodeRegister(kTwoDevices, "Ascend910B3");
  ASSERT_TRUE(devs.ok()) << devs.status().ToString();
  ASSERT_EQ(devs->size(), 2u);
  EXPECT_EQ((*devs)[1].index, 1u);
  EXPECT_FALSE((*devs)[1].health);
  EXPECT_EQ((*devs)[1].device_vendor, "Ascend910B3");
  EXPECT_TRUE((*devs)[0].has_custom_info);
  EXPECT_EQ((*devs)[0].network_id, 0.0);
}

TEST(NodeRegisterTest, KeysAreCaseInsensitiveUnknownIgnoredNullKeepsZero) {
  auto devs = DecodeNodeRegister(
      R"([{"ID":"GPU-0","Count":4,"Devmem":8738,"DEVCORE":8,"Type":"t","Numa":null,)"
      R"("Health":true,"unknown":[1,{"x":2}],"devicevendor":"ignored","custominfo":null}])",
      "cw");
  ASSERT_TRUE(devs.ok()) << devs.status().ToString();
  const DeviceInfo& d = (*devs)[0];
  EXPECT_EQ(d.id, "GPU-0");
  EXPECT_EQ(d.count, 4);
  EXPECT_EQ(d.devmem, 8738);
  EXPECT_EQ(d.devcore, 8);
  EXPECT_EQ(d.device_vendor, "cw");
  EXPECT_FALSE(d.has_custom_info);
  auto f = DecodeNodeRegister(R"([{"custominfo":{"NetworkID":1.0e0,"x":"y"}}])", "cw");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)[0].network_id, 1.0);
}

TEST(NodeRegisterTest, ErrorsMatchGo) {
  EXPECT_EQ(DecodeNodeRegister("", "cw").status().message(), "unexpected end of JSON input");
  EXPECT_EQ(DecodeNodeRegister("[]", "cw").status().message(), "no device found on node");
  EXPECT_EQ(DecodeNodeRegister("null", "cw").status().message(), "no device found on node");
  EXPECT_EQ(DecodeNodeRegister("x", "cw").status().message(),
            "invalid character 'x' looking for beginning of value");
  EXPECT_EQ(DecodeNodeRegister(R"([{"count":"4"}])", "cw").status().message(),
            "json: cannot unmarshal string into Go struct field DeviceInfo.count of type int32");
  EXPECT_EQ(DecodeNodeRegister("{}", "cw").status().code(), StatusCode::kInvalidArgument);
}

TEST(NodeRegisterTest, RejectsBadNumbersAndTypes) {
  for (const char* bad :
       {R"([{"count":4.5}])", R"([{"count":1e2}])", R"([{"devmem":2147483648}])",
        R"([{"index":-1}])", R"([{"health":"true"}])", R"([{"id":5}])", R"([{"custominfo":[]}])",
        R"([null])", R"([1])", R"([{"numa":99999999999999999999999}])"}) {
    auto r = DecodeNodeRegister(bad, "cw");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(NodeRegisterTest, HostileInput) {
  EXPECT_FALSE(DecodeNodeRegister(std::string(kMaxNodeRegisterBytes + 1, ' '), "cw").ok());
  EXPECT_FALSE(DecodeNodeRegister(std::string(200000, '['), "cw").ok());
  EXPECT_FALSE(DecodeNodeRegister("[{\"id\":\"\xff\"}]", "cw").ok());
  EXPECT_FALSE(DecodeNodeRegister(std::string("[{\"id\":\"a") + '\0' + "\"}]", "cw").ok());
  EXPECT_TRUE(DecodeNodeRegister("[{\"id\":\"a\\u0000\"}]", "cw").ok());
  std::string many = "[";
  for (size_t i = 0; i <= kMaxNodeRegisterDevices; ++i) {
    many += i ? ",{}" : "{}";
  }
  many += "]";
  EXPECT_FALSE(DecodeNodeRegister(many, "cw").ok());
  EXPECT_FALSE(DecodeNodeRegister(
                   "[{\"id\":\"" + std::string(kMaxNodeRegisterStringBytes + 1, 'a') + "\"}]", "cw")
                   .ok());
}

}  // namespace
}  // namespace npushare::hami
