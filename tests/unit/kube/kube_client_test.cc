// KubeClient against a scripted transport: retry policy, rate limiting, error decoding and
// watch-stream decoding, with a fake clock (no real sleeps).
#include "kube/kube_client.h"

#include <gtest/gtest.h>

#include "kube/api_error.h"
#include "mocks/kube/fake_clock.h"
#include "mocks/kube/scripted_transport.h"

namespace npushare::kube {
namespace {

using testing::FakeClock;
using testing::ScriptedTransport;

constexpr char kPod[] = R"({"kind":"Pod","metadata":{"name":"p","namespace":"d"}})";

ClientOptions NoLimit() {
  ClientOptions o;
  o.qps = 0;
  return o;
}

TEST(KubeClientTest, GetRetries429HonouringRetryAfter) {
  ScriptedTransport t;
  FakeClock clock;
  t.PushResponse(429, "", {{"retry-after", "3"}});
  t.PushResponse(200, kPod);
  KubeClient client(t, NoLimit(), clock);
  auto pod = client.Get(kPods, "d", "p");
  ASSERT_TRUE(pod.ok()) << pod.status().ToString();
  EXPECT_EQ((*pod)["metadata"]["name"], "p");
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_GE(clock.sleeps()[0], std::chrono::seconds(3));
  EXPECT_EQ(t.requests()[0].target, "/api/v1/namespaces/d/pods/p");
}

TEST(KubeClientTest, GetRetries5xxAndConnectionErrorsWithGrowingBackoff) {
  ScriptedTransport t;
  FakeClock clock;
  t.PushResponse(500, "");
  t.Push(AbortedError("connection reset"));
  t.Push(UnavailableError("connection refused"));
  t.PushResponse(200, kPod);
  KubeClient client(t, NoLimit(), clock);
  ASSERT_TRUE(client.Get(kPods, "d", "p").ok());
  auto sleeps = clock.sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  // Jitter keeps each delay within [d/2, d] of 200 ms * 2^attempt.
  EXPECT_GE(sleeps[0], std::chrono::milliseconds(100));
  EXPECT_LE(sleeps[0], std::chrono::milliseconds(200));
  EXPECT_GE(sleeps[2], std::chrono::milliseconds(400));
  EXPECT_LE(sleeps[2], std::chrono::milliseconds(800));
}

TEST(KubeClientTest, GivesUpAfterMaxRetries) {
  ScriptedTransport t;
  FakeClock clock;
  ClientOptions o = NoLimit();
  o.max_retries = 2;
  for (int i = 0; i < 3; ++i)
    t.PushResponse(503, "");
  KubeClient client(t, o, clock);
  EXPECT_EQ(client.Get(kPods, "d", "p").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(t.requests().size(), 3u);
}

TEST(KubeClientTest, NonIdempotentCallsAreNotRetriedWhenTheyMayHaveSucceeded) {
  ScriptedTransport t;
  FakeClock clock;
  t.PushResponse(500, "");
  KubeClient client(t, NoLimit(), clock);
  EXPECT_EQ(client.Create(kPods, "d", nlohmann::json::parse(kPod)).status().code(),
            StatusCode::kUnavailable);
  t.Push(AbortedError("reset after send"));
  EXPECT_EQ(client.Patch(kPods, "d", "p", PatchType::kMerge, {{"a", 1}}).status().code(),
            StatusCode::kUnavailable);
  t.Push(Status(StatusCode::kDeadlineExceeded, "timeout"));
  EXPECT_EQ(client.Bind("d", "p", "n").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(t.requests().size(), 3u);
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(KubeClientTest, NonIdempotentCallsAreRetriedWhenNothingWasSent) {
  ScriptedTransport t;
  FakeClock clock;
  t.Push(UnavailableError("connection refused"));
  t.PushResponse(429, "");
  t.PushResponse(503, "", {{"retry-after", "1"}});
  t.PushResponse(201, kPod);
  KubeClient client(t, NoLimit(), clock);
  EXPECT_TRUE(client.Create(kPods, "d", nlohmann::json::parse(kPod)).ok());
  EXPECT_EQ(t.requests().size(), 4u);
}

TEST(KubeClientTest, DecodesStatusErrors) {
  ScriptedTransport t;
  FakeClock clock;
  t.PushResponse(409, R"({"kind":"Status","reason":"AlreadyExists","code":409})");
  t.PushResponse(409, R"({"kind":"Status","reason":"Conflict","code":409})");
  t.PushResponse(404, R"({"kind":"Status","reason":"NotFound","code":404})");
  t.PushResponse(403, R"({"kind":"Status","reason":"Forbidden","code":403})");
  KubeClient client(t, NoLimit(), clock);
  EXPECT_TRUE(IsAlreadyExists(client.Create(kPods, "d", nlohmann::json::parse(kPod)).status()));
  EXPECT_TRUE(IsConflict(client.Update(kPods, "d", nlohmann::json::parse(kPod)).status()));
  EXPECT_TRUE(IsNotFound(client.Delete(kPods, "d", "p")));
  EXPECT_EQ(client.Get(kPods, "d", "p").status().code(), StatusCode::kPermissionDenied);
}

TEST(KubeClientTest, MalformedJsonBodyIsDataLossNotACrash) {
  ScriptedTransport t;
  FakeClock clock;
  t.PushResponse(200, R"({"kind":"Pod","metadata":{"name":)");
  t.PushResponse(200, "\xff\xfe garbage");
  KubeClient client(t, NoLimit(), clock);
  EXPECT_EQ(client.Get(kPods, "d", "p").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(client.Get(kPods, "d", "p").status().code(), StatusCode::kDataLoss);
}

TEST(KubeClientTest, PatchPreconditionsAndContentTypes) {
  ScriptedTransport t;
  FakeClock clock;
  t.PushResponse(200, kPod);
  t.PushResponse(200, kPod);
  KubeClient client(t, NoLimit(), clock);
  PatchOptions po;
  po.resource_version = "42";
  ASSERT_TRUE(client
                  .Patch(kNodes, "", "n1", PatchType::kStrategicMerge,
                         {{"metadata", {{"labels", {{"a", "b"}}}}}}, po)
                  .ok());
  ASSERT_TRUE(client
                  .Patch(kPods, "d", "p", PatchType::kJson,
                         nlohmann::json::array({{{"op", "remove"}, {"path", "/x"}}}), po)
                  .ok());
  auto reqs = t.requests();
  EXPECT_EQ(reqs[0].target, "/api/v1/nodes/n1");
  auto body0 = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body0["metadata"]["resourceVersion"], "42");
  bool ct_ok = false;
  for (const auto& [k, v] : reqs[0].headers) {
    ct_ok = ct_ok || (k == "Content-Type" && v == "application/strategic-merge-patch+json");
  }
  EXPECT_TRUE(ct_ok);
  auto body1 = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(body1[0]["op"], "test");
  EXPECT_EQ(body1[0]["value"], "42");
}

TEST(KubeClientTest, ListAllFollowsContinueTokens) {
  ScriptedTransport t;
  FakeClock clock;
  t.PushResponse(200, R"({"kind":"PodList","metadata":{"resourceVersion":"10","continue":"t1"},
                         "items":[{"metadata":{"name":"a"}}]})");
  t.PushResponse(200, R"({"kind":"PodList","metadata":{"resourceVersion":"10"},
                         "items":[{"metadata":{"name":"b"}}]})");
  KubeClient client(t, NoLimit(), clock);
  ListOptions lo;
  lo.label_selector = "app=web";
  lo.limit = 1;
  auto list = client.ListAll(kPods, "", lo);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["items"].size(), 2u);
  EXPECT_EQ((*list)["metadata"]["resourceVersion"], "10");
  EXPECT_FALSE((*list)["metadata"].contains("continue"));
  EXPECT_EQ(t.requests()[0].target, "/api/v1/pods?labelSelector=app%3Dweb&limit=1");
  EXPECT_EQ(t.requests()[1].target, "/api/v1/pods?labelSelector=app%3Dweb&limit=1&continue=t1");
}

TEST(KubeClientTest, WatchDecodesEventsAndStopsOnGoneErrorEvent) {
  ScriptedTransport t;
  FakeClock clock;
  t.PushResponse(200, R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}})"
                      "\n"
                      R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"6"}}})"
                      "\n"
                      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
                      "\n"
                      R"({"type":"ADDED","object":{"metadata":{"name":"never"}}})"
                      "\n");
  KubeClient client(t, NoLimit(), clock);
  std::vector<std::string> types;
  WatchOptions wo;
  wo.resource_version = "4";
  Status st = client.Watch(kPods, "d", wo, [&](WatchEvent&& ev) {
    types.push_back(ev.type);
    return true;
  });
  EXPECT_TRUE(IsGone(st)) << st.ToString();
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "BOOKMARK"}));
  EXPECT_EQ(t.requests()[0].target,
            "/api/v1/namespaces/d/pods?resourceVersion=4&watch=1&allowWatchBookmarks=true");
}

TEST(KubeClientTest, WatchGoneAsHttpStatusAndMalformedEvents) {
  ScriptedTransport t;
  FakeClock clock;
  t.PushResponse(410, R"({"kind":"Status","reason":"Expired","code":410})");
  t.PushResponse(200, "{not json}\n");
  t.PushResponse(200, R"({"type":"WEIRD","object":{}})"
                      "\n");
  KubeClient client(t, NoLimit(), clock);
  auto ignore = [](WatchEvent&&) { return true; };
  EXPECT_TRUE(IsGone(client.Watch(kPods, "", {}, ignore)));
  EXPECT_EQ(client.Watch(kPods, "", {}, ignore).code(), StatusCode::kDataLoss);
  EXPECT_EQ(client.Watch(kPods, "", {}, ignore).code(), StatusCode::kDataLoss);
}

TEST(KubeClientTest, RateLimiterPacesRequests) {
  ScriptedTransport t;
  FakeClock clock;
  ClientOptions o;
  o.qps = 5;
  o.burst = 1;
  for (int i = 0; i < 3; ++i)
    t.PushResponse(200, kPod);
  KubeClient client(t, o, clock);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(client.Get(kPods, "d", "p").ok());
  auto sleeps = clock.sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_EQ(sleeps[0], std::chrono::milliseconds(200));
}

TEST(KubeClientTest, RecordEventBuildsCoreV1Event) {
  ScriptedTransport t;
  FakeClock clock;
  t.PushResponse(201, "{}");
  KubeClient client(t, NoLimit(), clock);
  auto node = nlohmann::json::parse(
      R"({"kind":"Node","apiVersion":"v1","metadata":{"name":"n1","uid":"u1"}})");
  ASSERT_TRUE(client.RecordEvent(node, "Warning", "NpuUnhealthy", "chip 3", "npushare").ok());
  auto req = t.requests()[0];
  EXPECT_EQ(req.target, "/api/v1/namespaces/default/events");
  auto ev = nlohmann::json::parse(req.body);
  EXPECT_EQ(ev["involvedObject"]["name"], "n1");
  EXPECT_EQ(ev["type"], "Warning");
  EXPECT_EQ(ev["firstTimestamp"], "2024-05-01T10:00:00Z");
  EXPECT_EQ(ev["metadata"]["name"].get<std::string>().rfind("n1.", 0), 0u);
}

}  // namespace
}  // namespace npushare::kube
