// The kubelet stand-in's decisions (sim/kubelet/kubelet_rules.h): which registrations kubelet
// refuses and which device IDs it picks.
#include "sim/kubelet/kubelet_rules.h"

#include <gtest/gtest.h>

namespace npushare::kubelet_sim {
namespace {

TEST(IsExtendedResourceName, AcceptsDomainPrefixedNames) {
  EXPECT_TRUE(IsExtendedResourceName("huawei.com/Ascend910B3"));
  EXPECT_TRUE(IsExtendedResourceName("huawei.com/Ascend910B3-memory"));
  EXPECT_TRUE(IsExtendedResourceName("example.org/a_b.c"));
}

TEST(IsExtendedResourceName, RefusesNativeAndMalformedNames) {
  EXPECT_FALSE(IsExtendedResourceName("cpu"));                    // no domain: native
  EXPECT_FALSE(IsExtendedResourceName("kubernetes.io/npu"));      // kubernetes.io domain
  EXPECT_FALSE(IsExtendedResourceName("foo.kubernetes.io/npu"));  // ... any subdomain of it
  EXPECT_FALSE(IsExtendedResourceName("requests.huawei.com/x"));  // quota prefix
  EXPECT_FALSE(IsExtendedResourceName("Huawei.com/x"));           // prefix not DNS-1123
  EXPECT_FALSE(IsExtendedResourceName("huawei.com/"));            // empty name
  EXPECT_FALSE(IsExtendedResourceName("huawei.com/a/b"));         // two slashes
  EXPECT_FALSE(IsExtendedResourceName("huawei.com/-x"));          // name must start alnum
  EXPECT_FALSE(IsExtendedResourceName("huawei.com/" + std::string(64, 'a')));
  EXPECT_FALSE(IsExtendedResourceName(""));
}

TEST(CheckRegisterRequest, VersionAndNameAreCheckedLikeKubelet) {
  EXPECT_TRUE(CheckRegisterRequest("v1beta1", "huawei.com/Ascend910B3").ok());
  EXPECT_EQ(CheckRegisterRequest("v1alpha", "huawei.com/Ascend910B3").code(), StatusCode::kUnknown);
  EXPECT_EQ(CheckRegisterRequest("", "huawei.com/Ascend910B3").code(), StatusCode::kUnknown);
  EXPECT_EQ(CheckRegisterRequest("v1beta1", "npu").code(), StatusCode::kUnknown);
}

TEST(PickDevices, TakesReusableThenPreferredThenSortedAvailable) {
  auto r = PickDevices("r", 4, {"x"}, {"a", "b", "c", "d"}, {"c"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"x", "c", "a", "b"}));
}

TEST(PickDevices, IgnoresPreferredOutsideAvailableAndDuplicates) {
  auto r = PickDevices("r", 2, {}, {"a", "b", "c"}, {"zz", "c", "c"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"c", "a"}));
}

TEST(PickDevices, ExtraPreferredIdsAreIgnored) {
  auto r = PickDevices("r", 1, {}, {"a", "b", "c"}, {"b", "c"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::vector<std::string>{"b"});
}

TEST(PickDevices, ReusableCoveringTheRequestNeedsNothingFree) {
  auto r = PickDevices("r", 2, {"x", "y"}, {}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(NeedsPreferredAllocation(true, 2, 2));
  EXPECT_TRUE(NeedsPreferredAllocation(true, 3, 2));
  EXPECT_FALSE(NeedsPreferredAllocation(false, 3, 0));
}

TEST(PickDevices, RefusesWhenTooFewAreFree) {
  EXPECT_EQ(PickDevices("r", 3, {"x"}, {"a"}, {}).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(PickDevices("r", -1, {}, {"a"}, {}).status().code(), StatusCode::kInvalidArgument);
  auto zero = PickDevices("r", 0, {}, {}, {});
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->empty());
}

}  // namespace
}  // namespace npushare::kubelet_sim
