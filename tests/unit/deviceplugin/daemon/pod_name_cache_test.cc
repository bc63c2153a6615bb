// PodNameCache: namespace/pod labels for /metrics from one LIST per refresh period.
#include "deviceplugin/daemon/pod_name_cache.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "integration/kube/test_server.h"
#include "kube/resource.h"
#include "mocks/kube/fake_clock.h"

namespace npushare::deviceplugin::daemon {
namespace {

using nlohmann::json;

// CreatePod: a pod on `node`; returns its UID.
std::string CreatePod(kube::KubeClient& client, const std::string& name, const std::string& node) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", {{"nodeName", node}, {"containers", {{{"name", "c"}, {"image", "x"}}}}}}};
  Result<json> created = client.Create(kube::kPods, "default", pod);
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  return created.ok() ? (*created)["metadata"]["uid"].get<std::string>() : "";
}

TEST(PodNameCache, ListsTheNodesPodsOnlyForUnknownUidsAndAtMostOncePerPeriod) {
  kube::testing::ServerAndClient env;
  kube::testing::FakeClock clock;
  const std::string a = CreatePod(env.client(), "train-0", "node-a");
  const std::string elsewhere = CreatePod(env.client(), "other", "node-b");
  PodNameCache cache(env.client(), "node-a", std::chrono::seconds(30), clock);

  PodNameCache::NameMap names = cache.Names({a, elsewhere});
  EXPECT_EQ(cache.listings(), 1u);
  ASSERT_EQ(names.size(), 1u);  // the other node's pod is not listed
  EXPECT_EQ(names.at(a), std::make_pair(std::string("default"), std::string("train-0")));

  // Known UIDs: no listing. An unknown one within the period: no listing either.
  EXPECT_EQ(cache.Names({a}).size(), 1u);
  const std::string b = CreatePod(env.client(), "train-1", "node-a");
  EXPECT_EQ(cache.Names({a, b}).size(), 1u);
  EXPECT_EQ(cache.listings(), 1u);

  clock.Advance(std::chrono::seconds(30));
  names = cache.Names({a, b});
  EXPECT_EQ(cache.listings(), 2u);
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names.at(b).second, "train-1");
}

TEST(PodNameCache, AFailedListingKeepsTheKnownNames) {
  kube::testing::ServerAndClient env;
  kube::testing::FakeClock clock;
  const std::string a = CreatePod(env.client(), "train-0", "node-a");
  PodNameCache cache(env.client(), "node-a", std::chrono::seconds(30), clock);
  ASSERT_EQ(cache.Names({a}).size(), 1u);
  env.StopServer();
  clock.Advance(std::chrono::seconds(31));
  PodNameCache::NameMap names = cache.Names({a, "unknown-uid"});
  EXPECT_EQ(cache.listings(), 2u);  // it tried
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names.at(a).second, "train-0");
}

}  // namespace
}  // namespace npushare::deviceplugin::daemon
