// The stand-in's in-tree filters: resources (with ignored and init-container rules), node
// selector and affinity, taints, cordoned nodes.
#include "sim/scheduler/node_fit.h"

#include <gtest/gtest.h>

namespace npushare::kube_scheduler_sim {
namespace {

using nlohmann::json;

json Node(json labels = json::object(), json spec = json::object()) {
  return {{"metadata", {{"name", "n"}, {"labels", labels}}},
          {"spec", spec},
          {"status", {{"allocatable", {{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "2"}}}}}};
}

json Pod(json requests, json spec_extra = json::object()) {
  json pod = {
      {"spec", {{"containers", {{{"name", "c"}, {"resources", {{"requests", requests}}}}}}}}};
  pod["spec"].update(spec_extra);
  return pod;
}

std::vector<std::string> Fit(const json& pod, const json& node, NodeUsage usage = {},
                             const std::set<std::string>& ignored = {}) {
  auto req = PodRequests(pod);
  EXPECT_TRUE(req.ok()) << req.status().ToString();
  return CheckNodeFit(pod, req.ok() ? *req : ResourceList{}, node, NodeAllocatable(node), usage,
                      ignored);
}

TEST(NodeFitTest, RequestsAreSummedAndInitContainersTakeTheMax) {
  json pod = {
      {"spec",
       {{"containers",
         {{{"name", "a"}, {"resources", {{"requests", {{"cpu", "500m"}}}}}},
          {{"name", "b"}, {"resources", {{"limits", {{"cpu", "1"}, {"memory", "1Ki"}}}}}}}},
        {"initContainers", {{{"name", "i"}, {"resources", {{"requests", {{"cpu", "2"}}}}}}}},
        {"overhead", {{"cpu", "100m"}}}}}};
  auto req = PodRequests(pod);
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->at("cpu"), 2100);            // max(0.5 + 1, 2) + 0.1
  EXPECT_EQ(req->at("memory"), 1024 * 1000);  // the limit stands in for the request
  EXPECT_EQ(PodRequests(Pod({{"cpu", "lots"}})).status().code(), StatusCode::kInvalidArgument);
}

TEST(NodeFitTest, Resources) {
  EXPECT_TRUE(Fit(Pod({{"cpu", "4"}}), Node()).empty());
  EXPECT_EQ(Fit(Pod({{"cpu", "4"}}), Node(), {{{"cpu", 1}}, 0}),
            std::vector<std::string>{"Insufficient cpu"});
  EXPECT_EQ(Fit(Pod({{"huawei.com/Ascend910B3", "1"}}), Node()),
            std::vector<std::string>{"Insufficient huawei.com/Ascend910B3"});
  EXPECT_TRUE(
      Fit(Pod({{"huawei.com/Ascend910B3", "1"}}), Node(), {}, {"huawei.com/Ascend910B3"}).empty());
  EXPECT_EQ(Fit(Pod({{"cpu", "1"}}), Node(), {{}, 2}), std::vector<std::string>{"Too many pods"});
}

TEST(NodeFitTest, SelectorAndAffinity) {
  json pod = Pod({}, {{"nodeSelector", {{"ascend", "on"}}}});
  EXPECT_TRUE(Fit(pod, Node({{"ascend", "on"}})).empty());
  EXPECT_EQ(Fit(pod, Node({{"ascend", "off"}})),
            std::vector<std::string>{"node(s) didn't match Pod's node affinity/selector"});
  json affinity = {
      {"affinity",
       {{"nodeAffinity",
         {{"requiredDuringSchedulingIgnoredDuringExecution",
           {{"nodeSelectorTerms",
             {{{"matchExpressions", {{{"key", "chips"}, {"operator", "Gt"}, {"values", {"4"}}}}}},
              {{"matchFields",
                {{{"key", "metadata.name"}, {"operator", "In"}, {"values", {"n"}}}}}}}}}}}}}}};
  EXPECT_TRUE(Fit(Pod({}, affinity), Node({{"chips", "8"}})).empty());
  EXPECT_TRUE(Fit(Pod({}, affinity), Node()).empty());  // second term: matchFields on the name
  affinity["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
          ["nodeSelectorTerms"]
              .erase(1);
  EXPECT_FALSE(Fit(Pod({}, affinity), Node({{"chips", "2"}})).empty());
}

TEST(NodeFitTest, TaintsAndCordon) {
  json tainted = Node({}, {{"taints",
                            {{{"key", "k"}, {"value", "v"}, {"effect", "NoSchedule"}},
                             {{"key", "soft"}, {"effect", "PreferNoSchedule"}}}}});
  EXPECT_EQ(Fit(Pod({}), tainted),
            std::vector<std::string>{"node(s) had untolerated taint {k: v}"});
  EXPECT_TRUE(
      Fit(Pod({}, {{"tolerations", {{{"key", "k"}, {"operator", "Equal"}, {"value", "v"}}}}}),
          tainted)
          .empty());
  EXPECT_TRUE(Fit(Pod({}, {{"tolerations", {{{"operator", "Exists"}}}}}), tainted).empty());
  EXPECT_FALSE(Fit(Pod({}, {{"tolerations", {{{"key", "k"}, {"value", "w"}}}}}), tainted).empty());
  json cordoned = Node({}, {{"unschedulable", true}});
  EXPECT_EQ(Fit(Pod({}), cordoned), std::vector<std::string>{"node(s) were unschedulable"});
  EXPECT_TRUE(Fit(Pod({}, {{"tolerations",
                            {{{"key", "node.kubernetes.io/unschedulable"},
                              {"operator", "Exists"},
                              {"effect", "NoSchedule"}}}}}),
                  cordoned)
                  .empty());
}

TEST(NodeFitTest, RequestsResourceLooksAtInitContainersAndLimits) {
  json pod = {
      {"spec",
       {{"containers", {{{"name", "a"}}}},
        {"initContainers",
         {{{"name", "i"}, {"resources", {{"limits", {{"huawei.com/Ascend310P", "1"}}}}}}}}}}};
  EXPECT_TRUE(RequestsResource(pod, "huawei.com/Ascend310P"));
  EXPECT_FALSE(RequestsResource(pod, "huawei.com/Ascend910B3"));
}

}  // namespace
}  // namespace npushare::kube_scheduler_sim
