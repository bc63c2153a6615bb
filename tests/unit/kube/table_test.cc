// Server-side Table printing of the local API server (sim/kube/table.h).
#include "sim/kube/table.h"

#include <gtest/gtest.h>

namespace npushare::kube_local {
namespace {

using nlohmann::json;
using std::chrono::seconds;

TEST(TableTest, HumanAgeMatchesKubectlStyle) {
  EXPECT_EQ(HumanAge(seconds(5)), "5s");
  EXPECT_EQ(HumanAge(seconds(119)), "119s");
  EXPECT_EQ(HumanAge(seconds(185)), "3m5s");
  EXPECT_EQ(HumanAge(seconds(600)), "10m");
  EXPECT_EQ(HumanAge(seconds(3 * 3600 + 120)), "3h2m");
  EXPECT_EQ(HumanAge(seconds(30 * 3600)), "30h");
  EXPECT_EQ(HumanAge(seconds(5 * 86400)), "5d");
}

TEST(TableTest, PodRowsAndIncludeObject) {
  const ResourceInfo* pods = FindResource("", "v1", "pods");
  ASSERT_NE(pods, nullptr);
  auto pod = std::make_shared<const json>(json::parse(R"({"metadata":{"name":"p",
    "creationTimestamp":"2024-05-01T10:00:00Z","deletionTimestamp":"2024-05-01T10:01:00Z"},
    "spec":{"containers":[{"name":"a"},{"name":"b"}]},
    "status":{"phase":"Running","containerStatuses":[{"ready":true,"restartCount":2},
                                                      {"ready":false,"restartCount":"bad"}]}})"));
  auto now = std::chrono::system_clock::from_time_t(1714557600) + seconds(42);
  json t = MakeTable(*pods, {pod}, "7", "", "", now);
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(t["columnDefinitions"].size(), 5u);
  EXPECT_EQ(t["rows"][0]["cells"], json::parse(R"(["p","1/2","Terminating",2,"42s"])"));
  EXPECT_EQ(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(MakeTable(*pods, {pod}, "", "", "Object", now)["rows"][0]["object"]["spec"],
            (*pod)["spec"]);
  EXPECT_FALSE(MakeTable(*pods, {pod}, "", "", "None", now)["rows"][0].contains("object"));
  EXPECT_TRUE(WantsTable("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"));
  EXPECT_FALSE(WantsTable("application/json"));
}

TEST(TableTest, NodeRowsToleratesMissingFields) {
  const ResourceInfo* nodes = FindResource("", "v1", "nodes");
  auto node = std::make_shared<const json>(json::parse(R"({"metadata":{"name":"n",
    "labels":{"node-role.kubernetes.io/worker":""}},"spec":{"unschedulable":true},
    "status":{"conditions":[{"type":"Ready","status":"True"}]}})"));
  json t = MakeTable(*nodes, {node}, "1", "", "", std::chrono::system_clock::now());
  EXPECT_EQ(t["rows"][0]["cells"],
            json::parse(R"(["n","Ready,SchedulingDisabled","worker","<unknown>",""])"));
}

}  // namespace
}  // namespace npushare::kube_local
