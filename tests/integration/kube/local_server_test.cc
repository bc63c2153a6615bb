// The local API server driven by our real client (libcurl) over HTTP on 127.0.0.1:0.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "integration/kube/test_server.h"
#include "kube/api_error.h"
#include "kube/objects.h"

namespace npushare::kube {
namespace {

using nlohmann::json;
using testing::MakePod;
using testing::ServerAndClient;
using testing::Waitable;

TEST(LocalServerTest, CrudSetsServerMetadataAndEnforcesResourceVersion) {
  ServerAndClient env;
  KubeClient& c = env.client();
  auto created = c.Create(kPods, "default", MakePod("web-0"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto meta = ParseObjectMeta(*created);
  ASSERT_TRUE(meta.ok());
  EXPECT_FALSE(meta->uid.empty());
  EXPECT_FALSE(meta->creation_timestamp.empty());
  EXPECT_FALSE(meta->resource_version.empty());
  EXPECT_EQ(meta->generation, 1);
  EXPECT_EQ((*created)["status"]["phase"], "Pending");

  EXPECT_TRUE(IsAlreadyExists(c.Create(kPods, "default", MakePod("web-0")).status()));
  EXPECT_TRUE(IsNotFound(c.Create(kPods, "no-such-ns", MakePod("x")).status()));

  json stale = *created;
  json fresh = *created;
  fresh["spec"]["containers"][0]["image"] = "busybox:2";
  auto updated = c.Update(kPods, "default", fresh);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_NE(ResourceVersionOf(*updated), meta->resource_version);
  EXPECT_EQ((*updated)["metadata"]["generation"], 2);
  EXPECT_EQ((*updated)["metadata"]["uid"], meta->uid);

  stale["metadata"]["labels"] = {{"a", "b"}};
  EXPECT_TRUE(IsConflict(c.Update(kPods, "default", stale).status()));

  auto got = c.Get(kPods, "default", "web-0");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["spec"]["containers"][0]["image"], "busybox:2");

  ASSERT_TRUE(c.Delete(kPods, "default", "web-0").ok());
  EXPECT_TRUE(IsNotFound(c.Get(kPods, "default", "web-0").status()));
  EXPECT_TRUE(IsNotFound(c.Delete(kPods, "default", "web-0")));
}

TEST(LocalServerTest, GenerateNameAndInvalidNames) {
  ServerAndClient env;
  json pod = MakePod("");
  pod["metadata"].erase("name");
  pod["metadata"]["generateName"] = "job-";
  auto created = env.client().Create(kPods, "default", pod);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)["metadata"]["name"].get<std::string>().rfind("job-", 0), 0u);
  EXPECT_EQ(env.client().Create(kPods, "default", MakePod("Bad_Name")).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(LocalServerTest, LabelAndFieldSelectors) {
  ServerAndClient env;
  KubeClient& c = env.client();
  for (int i = 0; i < 6; ++i) {
    std::string node = i % 2 == 0 ? "node-a" : "node-b";
    ASSERT_TRUE(c.Create(kPods, "default",
                         MakePod("p" + std::to_string(i), node,
                                 {{"app", i < 3 ? "web" : "db"}, {"idx", std::to_string(i)}}))
                    .ok());
  }
  ListOptions lo;
  lo.label_selector = "app=web";
  EXPECT_EQ((*c.List(kPods, "default", lo))["items"].size(), 3u);
  lo.label_selector = "app in (web,db),idx notin (0,1)";
  EXPECT_EQ((*c.List(kPods, "", lo))["items"].size(), 4u);
  lo.label_selector.clear();
  lo.field_selector = "spec.nodeName=node-a,status.phase!=Failed";
  EXPECT_EQ((*c.List(kPods, "default", lo))["items"].size(), 3u);
  lo.field_selector = "metadata.name=p5";
  EXPECT_EQ((*c.List(kPods, "default", lo))["items"].size(), 1u);
  lo.field_selector = "spec.nodeName";
  EXPECT_EQ(c.List(kPods, "default", lo).status().code(), StatusCode::kInvalidArgument);
}

TEST(LocalServerTest, PagingWithContinueAndExpiredToken) {
  ServerAndClient env;
  KubeClient& c = env.client();
  for (int i = 0; i < 25; ++i) {
    json cm = {{"metadata", {{"name", "cm-" + std::to_string(100 + i)}}}, {"data", {{"k", "v"}}}};
    ASSERT_TRUE(c.Create(kConfigMaps, "default", cm).ok());
  }
  ListOptions lo;
  lo.limit = 10;
  auto p1 = c.List(kConfigMaps, "default", lo);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ((*p1)["items"].size(), 10u);
  std::string token = (*p1)["metadata"]["continue"];
  ASSERT_FALSE(token.empty());
  auto all = c.ListAll(kConfigMaps, "default", lo);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ((*all)["items"].size(), 25u);
  EXPECT_EQ((*all)["items"][24]["metadata"]["name"], "cm-124");
  // Compaction past the token's snapshot expires it.
  ASSERT_TRUE(c.Create(kConfigMaps, "default", {{"metadata", {{"name", "late"}}}}).ok());
  env.store().CompactForTest();
  lo.continue_token = token;
  EXPECT_TRUE(IsGone(c.List(kConfigMaps, "default", lo).status()));
  lo.continue_token = "not-base64!";
  EXPECT_EQ(c.List(kConfigMaps, "default", lo).status().code(), StatusCode::kInvalidArgument);
}

TEST(LocalServerTest, ThreePatchTypesAndPreconditions) {
  ServerAndClient env;
  KubeClient& c = env.client();
  json node = {{"metadata", {{"name", "n1"}, {"annotations", {{"keep", "1"}, {"drop", "2"}}}}},
               {"status", {{"capacity", {{"cpu", "4"}}}}}};
  auto created = c.Create(kNodes, "", node);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["status"]["capacity"]["cpu"], "4");

  auto merged = c.Patch(kNodes, "", "n1", PatchType::kMerge,
                        {{"metadata", {{"annotations", {{"drop", nullptr}, {"new", "3"}}}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ((*merged)["metadata"]["annotations"], (json{{"keep", "1"}, {"new", "3"}}));

  PatchOptions stale;
  stale.resource_version = ResourceVersionOf(*created);
  EXPECT_TRUE(IsConflict(c.Patch(kNodes, "", "n1", PatchType::kStrategicMerge,
                                 {{"metadata", {{"labels", {{"x", "y"}}}}}}, stale)
                             .status()));
  PatchOptions current;
  current.resource_version = ResourceVersionOf(*merged);
  auto labelled = c.Patch(kNodes, "", "n1", PatchType::kStrategicMerge,
                          {{"metadata", {{"labels", {{"x", "y"}}}}}}, current);
  ASSERT_TRUE(labelled.ok()) << labelled.status().ToString();
  EXPECT_EQ((*labelled)["metadata"]["labels"]["x"], "y");

  auto jp =
      c.Patch(kNodes, "", "n1", PatchType::kJson,
              json::array({{{"op", "add"}, {"path", "/spec"}, {"value", json::object()}},
                           {{"op", "add"}, {"path", "/spec/unschedulable"}, {"value", true}}}));
  ASSERT_TRUE(jp.ok()) << jp.status().ToString();
  EXPECT_EQ((*jp)["spec"]["unschedulable"], true);
  EXPECT_EQ(c.Patch(kNodes, "", "n1", PatchType::kJson,
                    json::array({{{"op", "remove"}, {"path", "/spec/missing"}}}))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  PatchOptions stale_json;
  stale_json.resource_version = "1";
  EXPECT_FALSE(c.Patch(kNodes, "", "n1", PatchType::kJson, json::array(), stale_json).ok());

  // Main-resource patches do not touch status; the status subresource does.
  auto s1 = c.Patch(kNodes, "", "n1", PatchType::kMerge, {{"status", {{"phase", "X"}}}});
  ASSERT_TRUE(s1.ok());
  EXPECT_FALSE((*s1)["status"].contains("phase"));
  PatchOptions status_sub;
  status_sub.subresource = "status";
  auto s2 = c.Patch(kNodes, "", "n1", PatchType::kMerge,
                    {{"status", {{"allocatable", {{"cpu", "3"}}}}}}, status_sub);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ((*s2)["status"]["allocatable"]["cpu"], "3");
  EXPECT_EQ((*s2)["status"]["capacity"]["cpu"], "4");
}

TEST(LocalServerTest, StrategicMergeMergesContainersByName) {
  ServerAndClient env;
  KubeClient& c = env.client();
  json pod = MakePod("sm");
  pod["spec"]["containers"].push_back({{"name", "side"}, {"image", "s:1"}});
  ASSERT_TRUE(c.Create(kPods, "default", pod).ok());
  auto patched = c.Patch(kPods, "default", "sm", PatchType::kStrategicMerge,
                         {{"spec", {{"containers", {{{"name", "side"}, {"image", "s:2"}}}}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  ASSERT_EQ((*patched)["spec"]["containers"].size(), 2u);
  EXPECT_EQ((*patched)["spec"]["containers"][0]["image"], "busybox");
  EXPECT_EQ((*patched)["spec"]["containers"][1]["image"], "s:2");
  auto replaced = c.Patch(kPods, "default", "sm", PatchType::kMerge,
                          {{"spec", {{"containers", {{{"name", "only"}, {"image", "o"}}}}}}});
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ((*replaced)["spec"]["containers"].size(), 1u);  // merge patch replaces lists
}

TEST(LocalServerTest, BindingSetsNodeAndCopiesAnnotationsOnce) {
  ServerAndClient env;
  KubeClient& c = env.client();
  auto created = c.Create(kPods, "default", MakePod("b"));
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(IsConflict(c.Bind("default", "b", "node-a", {}, "wrong-uid")));
  ASSERT_TRUE(c.Bind("default", "b", "node-a", {{"hami.io/vnpu-devices-allocated", "x"}},
                     (*created)["metadata"]["uid"].get<std::string>())
                  .ok());
  auto pod = c.Get(kPods, "default", "b");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ((*pod)["spec"]["nodeName"], "node-a");
  EXPECT_EQ((*pod)["metadata"]["annotations"]["hami.io/vnpu-devices-allocated"], "x");
  EXPECT_EQ((*pod)["status"]["conditions"][0]["type"], "PodScheduled");
  EXPECT_TRUE(IsConflict(c.Bind("default", "b", "node-b")));
  EXPECT_TRUE(IsNotFound(c.Bind("default", "missing", "node-a")));
}

TEST(LocalServerTest, GracefulPodDeletion) {
  ServerAndClient env;
  KubeClient& c = env.client();
  ASSERT_TRUE(c.Create(kPods, "default", MakePod("unbound")).ok());
  ASSERT_TRUE(c.Delete(kPods, "default", "unbound").ok());  // never scheduled: immediate
  EXPECT_TRUE(IsNotFound(c.Get(kPods, "default", "unbound").status()));

  auto bound = c.Create(kPods, "default", MakePod("bound", "node-a"));
  ASSERT_TRUE(bound.ok());
  DeleteOptions opts;
  opts.grace_period_seconds = 1;
  ASSERT_TRUE(c.Delete(kPods, "default", "bound", opts).ok());
  auto terminating = c.Get(kPods, "default", "bound");
  ASSERT_TRUE(terminating.ok());
  EXPECT_TRUE((*terminating)["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ((*terminating)["metadata"]["deletionGracePeriodSeconds"], 1);
  EXPECT_TRUE(IsConflict(c.Bind("default", "bound", "node-b")));

  // The reaper removes it once the grace period is over: await the DELETED event.
  Waitable deleted;
  StreamCancel cancel;
  std::thread watcher([&] {
    WatchOptions wo;
    wo.resource_version = ResourceVersionOf(*terminating);
    c.Watch(
         kPods, "default", wo,
         [&](WatchEvent&& ev) {
           if (ev.type == "DELETED")
             deleted.Add(ObjectKey(ev.object));
           return ev.type != "DELETED";
         },
         &cancel)
        .IgnoreError();
  });
  EXPECT_TRUE(deleted.WaitForCount(1));
  cancel.Cancel();
  watcher.join();
  EXPECT_TRUE(IsNotFound(c.Get(kPods, "default", "bound").status()));
}

TEST(LocalServerTest, WatchResumesFromBookmarkWithoutLossOrDuplicates) {
  kube_local::LocalApiServerOptions so;
  so.bookmark_interval = std::chrono::milliseconds(20);
  ServerAndClient env(so);
  KubeClient& c = env.client();
  auto first = c.Create(kPods, "default", MakePod("w0"));
  ASSERT_TRUE(first.ok());
  std::string rv = ResourceVersionOf(*first);
  ASSERT_TRUE(c.Create(kPods, "default", MakePod("w1")).ok());

  // First watch: sees w1, then stops at the first bookmark after it.
  std::vector<std::string> seen;
  std::string bookmark_rv;
  WatchOptions wo;
  wo.resource_version = rv;
  Status st = c.Watch(kPods, "default", wo, [&](WatchEvent&& ev) {
    if (ev.type == "BOOKMARK") {
      bookmark_rv = ResourceVersionOf(ev.object);
      return false;
    }
    seen.push_back(ev.type + " " + ObjectKey(ev.object));
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED default/w1"}));
  ASSERT_FALSE(bookmark_rv.empty());

  ASSERT_TRUE(c.Create(kPods, "default", MakePod("w2")).ok());
  ASSERT_TRUE(c.Delete(kPods, "default", "w0").ok());
  seen.clear();
  wo.resource_version = bookmark_rv;
  st = c.Watch(kPods, "default", wo, [&](WatchEvent&& ev) {
    if (ev.type == "BOOKMARK")
      return seen.size() < 2;
    seen.push_back(ev.type + " " + ObjectKey(ev.object));
    return seen.size() < 2;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED default/w2", "DELETED default/w0"}));
}

TEST(LocalServerTest, WatchWithoutResourceVersionStartsWithSyntheticAdds) {
  ServerAndClient env;
  KubeClient& c = env.client();
  ASSERT_TRUE(c.Create(kPods, "default", MakePod("s0", "", {{"app", "x"}})).ok());
  ASSERT_TRUE(c.Create(kPods, "default", MakePod("s1")).ok());
  std::vector<std::string> seen;
  WatchOptions wo;
  wo.label_selector = "app=x";
  wo.timeout_seconds = 1;
  ASSERT_TRUE(c.Watch(kPods, "", wo, [&](WatchEvent&& ev) {
                 seen.push_back(ev.type + " " + ObjectKey(ev.object));
                 return false;
               }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED default/s0"}));
}

TEST(LocalServerTest, TooOldWatchIsGoneAsErrorEventOrHttpStatus) {
  for (bool as_http : {false, true}) {
    kube_local::LocalApiServerOptions so;
    so.gone_as_http_status = as_http;
    ServerAndClient env(so);
    auto p = env.client().Create(kPods, "default", MakePod("g"));
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(env.client().Create(kPods, "default", MakePod("g2")).ok());
    env.store().CompactForTest();
    WatchOptions wo;
    wo.resource_version = ResourceVersionOf(*p);
    Status st = env.client().Watch(kPods, "", wo, [](WatchEvent&&) { return true; });
    EXPECT_TRUE(IsGone(st)) << as_http << " " << st.ToString();
  }
}

TEST(LocalServerTest, SlowServerTriggersClientTimeout) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  kube_local::LocalApiServerOptions so;
  so.fault_hook = [&](const std::string&,
                      const std::string& target) -> std::optional<kube_local::InjectedResponse> {
    if (target.find("/slow") != std::string::npos) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, std::chrono::seconds(20), [&] { return release; });
    }
    return std::nullopt;
  };
  ServerAndClient env(so, std::chrono::milliseconds(300));
  HttpRequest r;
  r.target = "/api/v1/namespaces/default/pods/slow";
  auto resp = env.transport().Send(r);
  EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
}

TEST(LocalServerTest, MalformedJsonProducesClearErrorsBothWays) {
  std::atomic<int> garbage_left{1};
  kube_local::LocalApiServerOptions so;
  so.fault_hook = [&](const std::string& method,
                      const std::string& target) -> std::optional<kube_local::InjectedResponse> {
    if (method == "GET" && target.find("/garbage") != std::string::npos && garbage_left-- > 0) {
      return kube_local::InjectedResponse{
          200, "{\"kind\":\"Pod\",\"metadata\":", "application/json", {}};
    }
    return std::nullopt;
  };
  ServerAndClient env(so);
  for (const char* body : {"{\"metadata\":", "[1,2", "\"just a string\"", "{\"kind\":\"Node\"}"}) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/api/v1/namespaces/default/pods";
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body;
    auto resp = env.transport().Send(r);
    ASSERT_TRUE(resp.ok());
    EXPECT_EQ(resp->status_code, 400) << body;
    auto st = StatusFromHttp(resp->status_code, resp->body);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(env.client().Get(kPods, "default", "garbage").status().code(), StatusCode::kDataLoss);
  // The server is still healthy afterwards.
  EXPECT_TRUE(env.client().Create(kPods, "default", MakePod("after")).ok());
}

TEST(LocalServerTest, HostileFieldTypesAreHandledWithoutServerErrors) {
  ServerAndClient env;
  KubeClient& c = env.client();
  auto created = c.Create(kPods, "default", MakePod("h"));
  ASSERT_TRUE(created.ok());
  json odd = *created;
  odd["spec"] = 5;  // not an object
  odd["metadata"].erase("resourceVersion");
  EXPECT_EQ(c.Update(kPods, "default", odd).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Patch(kPods, "default", "h", PatchType::kMerge, {{"status", "x"}}).status().code(),
            StatusCode::kInvalidArgument);
  auto send = [&](const std::string& method, const std::string& target, const std::string& body) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body;
    auto resp = env.transport().Send(r);
    return resp.ok() ? resp->status_code : -1;
  };
  EXPECT_EQ(send("POST", "/api/v1/namespaces/default/pods/h/binding",
                 R"({"metadata":{"uid":7},"target":{"name":"n"}})"),
            201);
  EXPECT_EQ(send("POST", "/api/v1/namespaces/default/pods/h/binding", R"({"target":{"name":3}})"),
            422);
  EXPECT_EQ(send("DELETE", "/api/v1/namespaces/default/pods/h",
                 R"({"gracePeriodSeconds":"x","preconditions":{"uid":1}})"),
            200);
  EXPECT_EQ(send("PATCH", "/api/v1/namespaces/default/pods/none", "{}"), 415);
  EXPECT_EQ(send("GET", "/api/v1/namespaces/default/pods?limit=-1", ""), 400);
  EXPECT_EQ(send("GET", "/api/v1/namespaces/default/pods?watch=1&resourceVersion=abc", ""), 400);
  EXPECT_EQ(send("GET", "/api/v2/pods", ""), 404);
  EXPECT_EQ(send("GET", "/apis/nope/v1/things", ""), 404);
  EXPECT_TRUE(c.Create(kPods, "default", MakePod("still-alive")).ok());
}

TEST(LocalServerTest, TooManyRequestsIsRetried) {
  std::atomic<int> rejections{2};
  kube_local::LocalApiServerOptions so;
  so.fault_hook = [&](const std::string& method,
                      const std::string&) -> std::optional<kube_local::InjectedResponse> {
    if (method == "POST" && rejections.fetch_sub(1) > 0) {
      return kube_local::InjectedResponse{
          429,
          R"({"kind":"Status","reason":"TooManyRequests","code":429})",
          "application/json",
          {}};
    }
    return std::nullopt;
  };
  ServerAndClient env(so);
  EXPECT_TRUE(env.client().Create(kPods, "default", MakePod("r")).ok());
  EXPECT_LT(rejections.load(), 0);
}

TEST(LocalServerTest, EventsAndLeases) {
  ServerAndClient env;
  KubeClient& c = env.client();
  auto pod = c.Create(kPods, "default", MakePod("ev"));
  ASSERT_TRUE(pod.ok());
  ASSERT_TRUE(c.RecordEvent(*pod, "Normal", "Scheduled", "assigned", "npushare").ok());
  auto events = c.List(kEvents, "default", {});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ((*events)["items"].size(), 1u);
  EXPECT_EQ((*events)["items"][0]["involvedObject"]["uid"], (*pod)["metadata"]["uid"]);
  json lease = {{"metadata", {{"name", "l"}}}, {"spec", {{"holderIdentity", "me"}}}};
  auto created = c.Create(kLeases, "kube-system", lease);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_TRUE(c.Get(kLeases, "kube-system", "l").ok());
}

TEST(LocalServerTest, DiscoveryDocuments) {
  ServerAndClient env;
  auto get = [&](const std::string& path) {
    HttpRequest r;
    r.target = path;
    auto resp = env.transport().Send(r);
    EXPECT_TRUE(resp.ok());
    return resp.ok() ? json::parse(resp->body, nullptr, false) : json();
  };
  EXPECT_EQ(get("/version")["major"], "1");
  EXPECT_EQ(get("/api")["versions"][0], "v1");
  EXPECT_EQ(get("/apis")["groups"][0]["name"], "coordination.k8s.io");
  json core = get("/api/v1");
  std::set<std::string> names;
  for (const auto& r : core["resources"])
    names.insert(r["name"]);
  for (const char* want : {"pods", "pods/status", "pods/binding", "nodes", "nodes/status",
                           "namespaces", "configmaps", "events"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
  EXPECT_EQ(get("/apis/coordination.k8s.io/v1")["resources"][0]["name"], "leases");
}

TEST(LocalServerTest, PersistenceSurvivesRestartAndOldWatchesAreGone) {
  auto dir =
      std::filesystem::temp_directory_path() / ("kube_local_persist_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  kube_local::LocalApiServerOptions so;
  so.persist_dir = dir.string();
  std::string old_rv;
  {
    ServerAndClient env(so);
    auto p = env.client().Create(kPods, "default", MakePod("kept", "node-a"));
    ASSERT_TRUE(p.ok());
    old_rv = ResourceVersionOf(*p);
    ASSERT_TRUE(env.client().Create(kNodes, "", {{"metadata", {{"name", "node-a"}}}}).ok());
  }
  {
    ServerAndClient env(so);
    auto p = env.client().Get(kPods, "default", "kept");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(ResourceVersionOf(*p), old_rv);
    EXPECT_TRUE(env.client().Get(kNodes, "", "node-a").ok());
    WatchOptions wo;
    wo.resource_version = old_rv;
    EXPECT_TRUE(IsGone(env.client().Watch(kPods, "", wo, [](WatchEvent&&) { return true; })));
    auto next = env.client().Create(kPods, "default", MakePod("new"));
    ASSERT_TRUE(next.ok());
    EXPECT_GT(std::stoll(ResourceVersionOf(*next)), std::stoll(old_rv));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace npushare::kube
