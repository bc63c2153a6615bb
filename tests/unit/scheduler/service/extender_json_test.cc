// Extender v1 bodies: capitalised and lower-case keys, NodeList fallback, malformed bodies.
#include "scheduler/service/extender_json.h"

#include <gtest/gtest.h>

#include "scheduler/service/metrics_text.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;

TEST(ExtenderJsonTest, FilterArgsAcceptGoAndLowerCaseKeys) {
  json go = {
      {"Pod", {{"metadata", {{"name", "p"}}}}}, {"Nodes", nullptr}, {"NodeNames", {"a", "b"}}};
  auto a = ParseFilterArgs(go);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a->pod)["metadata"]["name"], "p");
  EXPECT_EQ(*a->node_names, (std::vector<std::string>{"a", "b"}));

  json lower = {{"pod", {{"metadata", {{"name", "p"}}}}}, {"nodenames", {"x"}}};
  auto b = ParseFilterArgs(lower);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b->node_names, std::vector<std::string>{"x"});

  json list = {{"Pod", json::object()},
               {"Nodes", {{"items", {{{"metadata", {{"name", "n1"}}}}}}}},
               {"NodeNames", nullptr}};
  auto c = ParseFilterArgs(list);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->node_names, std::vector<std::string>{"n1"});

  auto d = ParseFilterArgs({{"Pod", json::object()}});
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->node_names.has_value());
}

TEST(ExtenderJsonTest, MalformedFilterArgsAreInvalidArgument) {
  for (const json& bad : {json::array(), json("x"), json::object(), json{{"Pod", 3}},
                          json{{"Pod", json::object()}, {"NodeNames", "a"}},
                          json{{"Pod", json::object()}, {"NodeNames", {1, 2}}},
                          json{{"Pod", json::object()}, {"Nodes", {{"items", 5}}}}}) {
    auto r = ParseFilterArgs(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad.dump();
  }
}

TEST(ExtenderJsonTest, FilterResultHasEveryGoKey) {
  json r = FilterResultJson(std::vector<std::string>{"a"}, {{"b", "why"}}, "");
  EXPECT_EQ(r["NodeNames"], json({"a"}));
  EXPECT_EQ(r["FailedNodes"]["b"], "why");
  EXPECT_TRUE(r["Nodes"].is_null());
  EXPECT_TRUE(r["FailedAndUnresolvableNodes"].is_object());
  EXPECT_EQ(r["Error"], "");
  EXPECT_TRUE(FilterResultJson(std::nullopt, {}, "")["NodeNames"].is_null());
}

TEST(ExtenderJsonTest, BindArgs) {
  auto a =
      ParseBindArgs({{"PodName", "p"}, {"PodNamespace", "ns"}, {"PodUID", "u"}, {"Node", "n"}});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->pod_name, "p");
  EXPECT_EQ(a->pod_namespace, "ns");
  EXPECT_EQ(a->pod_uid, "u");
  EXPECT_EQ(a->node, "n");
  auto lower = ParseBindArgs({{"podname", "p"}, {"node", "n"}});
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(lower->pod_namespace, "default");
  EXPECT_EQ(ParseBindArgs({{"PodName", "p"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBindArgs({{"PodName", 1}, {"Node", "n"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBindArgs(json::array()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BindResultJson("boom"), json({{"Error", "boom"}}));
}

TEST(MetricsTextTest, HistogramIsCumulativeAndLabelsAreEscaped) {
  LatencyHistogram h;
  h.Observe(std::chrono::microseconds(300));  // <= 0.5 ms
  h.Observe(std::chrono::milliseconds(3));    // <= 5 ms
  h.Observe(std::chrono::seconds(30));        // only +Inf
  MetricsWriter w;
  w.Family("x_seconds", "histogram", "X.");
  h.Write(w, "x_seconds", {{"a", "q\"\\\n"}});
  const std::string t = w.Take();
  EXPECT_NE(t.find("# TYPE x_seconds histogram\n"), std::string::npos);
  EXPECT_NE(t.find("x_seconds_bucket{a=\"q\\\"\\\\\\n\",le=\"0.0005\"} 1\n"), std::string::npos)
      << t;
  EXPECT_NE(t.find("le=\"0.005\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("le=\"10\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("le=\"+Inf\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("x_seconds_count{a=\"q\\\"\\\\\\n\"} 3\n"), std::string::npos) << t;
  EXPECT_EQ(h.Count(), 3u);
}

}  // namespace
}  // namespace npushare::scheduler
