// Informer against the local API server: initial sync, live changes, relist after 410, server
// restart mid-watch without lost or duplicated notifications, resync.
#include "kube/informer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "integration/kube/test_server.h"
#include "kube/objects.h"

namespace npushare::kube {
namespace {

using nlohmann::json;
using testing::MakePod;
using testing::ServerAndClient;
using testing::Waitable;

// Recorder: handlers that log "add/update/delete <key>" lines into a Waitable.
InformerHandlers Recorder(Waitable& log, bool record_resync = false) {
  InformerHandlers h;
  h.on_add = [&log](const json& o) { log.Add("add " + ObjectKey(o)); };
  h.on_update = [&log, record_resync](const json& a, const json& b) {
    bool resync = ResourceVersionOf(a) == ResourceVersionOf(b);
    if (resync && !record_resync)
      return;
    log.Add((resync ? "resync " : "update ") + ObjectKey(b));
  };
  h.on_delete = [&log](const json& o) { log.Add("delete " + ObjectKey(o)); };
  return h;
}

size_t CountOf(const std::vector<std::string>& v, const std::string& s) {
  return static_cast<size_t>(std::count(v.begin(), v.end(), s));
}

TEST(InformerTest, SyncsThenFollowsChanges) {
  ServerAndClient env;
  KubeClient& c = env.client();
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(c.Create(kPods, "default", MakePod("p" + std::to_string(i), "node-a")).ok());
  }
  ASSERT_TRUE(c.Create(kPods, "default", MakePod("elsewhere", "node-b")).ok());
  InformerOptions io;
  io.field_selector = "spec.nodeName=node-a";
  io.page_size = 3;  // forces paging
  Informer inf(c, kPods, io);
  Waitable log;
  inf.AddHandlers(Recorder(log));
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(std::chrono::seconds(20)));
  EXPECT_EQ(inf.Size(), 7u);
  EXPECT_EQ(inf.Get("default/elsewhere"), nullptr);
  ASSERT_NE(inf.Get("default/p3"), nullptr);
  EXPECT_EQ((*inf.Get("default/p3"))["kind"], "Pod");

  ASSERT_TRUE(c.Create(kPods, "default", MakePod("p7", "node-a")).ok());
  ASSERT_TRUE(c.Patch(kPods, "default", "p1", PatchType::kMerge,
                      {{"metadata", {{"annotations", {{"k", "v"}}}}}})
                  .ok());
  ASSERT_TRUE(c.Delete(kPods, "default", "p2", DeleteOptions{0, ""}).ok());
  ASSERT_TRUE(log.WaitFor(
      [](const std::vector<std::string>& v) { return CountOf(v, "delete default/p2") == 1; }));
  auto items = log.items();
  EXPECT_EQ(CountOf(items, "add default/p7"), 1u);
  EXPECT_EQ(CountOf(items, "update default/p1"), 1u);
  EXPECT_EQ(inf.Size(), 7u);
  EXPECT_EQ((*inf.Get("default/p1"))["metadata"]["annotations"]["k"], "v");
  inf.Stop();
  EXPECT_EQ(inf.Stats().lists, 1u);
}

// Regression: HasSynced turned true when the cache was replaced, before the handlers had seen
// the first list, so a service whose index is built by the handlers could serve from a partial
// index right after WaitForSync returned.
TEST(InformerTest, SyncedOnlyAfterHandlersSawTheFirstList) {
  ServerAndClient env;
  KubeClient& c = env.client();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Create(kPods, "default", MakePod("s" + std::to_string(i))).ok());
  }
  Informer inf(c, kPods, {});
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int adds = 0;
  InformerHandlers h;
  h.on_add = [&](const json&) {
    std::unique_lock<std::mutex> lock(mu);
    ++adds;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });  // hold the first list's delivery
  };
  inf.AddHandlers(h);
  inf.Start();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return adds == 1; }));
  }
  EXPECT_FALSE(inf.HasSynced());  // one handler call is still running
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(inf.WaitForSync(std::chrono::seconds(20)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(adds, 3);
}

TEST(InformerTest, ServerRestartMidWatchResumesWithoutLossOrDuplicates) {
  ServerAndClient env;
  KubeClient& c = env.client();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.Create(kPods, "default", MakePod("r" + std::to_string(i))).ok());
  }
  Informer inf(c, kPods, {});
  Waitable log;
  inf.AddHandlers(Recorder(log));
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(std::chrono::seconds(20)));
  ASSERT_TRUE(log.WaitForCount(5));

  env.StopServer();
  // Changes while the server is down go straight into the store (its history is kept).
  auto api = env.api();
  const auto* pods = kube_local::FindResource("", "v1", "pods");
  ASSERT_EQ(api.Create(*pods, "default", MakePod("r5").dump()).code, 201);
  ASSERT_EQ(api.Delete(*pods, "default", "r0", "", 0).code, 200);
  ASSERT_EQ(api.Patch(*pods, "default", "r1", "", "application/merge-patch+json",
                      R"({"metadata":{"labels":{"x":"y"}}})")
                .code,
            200);
  ASSERT_TRUE(env.RestartServer());
  ASSERT_TRUE(c.Create(kPods, "default", MakePod("r6")).ok());

  ASSERT_TRUE(log.WaitFor(
      [](const std::vector<std::string>& v) { return CountOf(v, "add default/r6") == 1; }));
  auto items = log.items();
  EXPECT_EQ(items.size(), 5u + 4u) << ::testing::PrintToString(items);
  EXPECT_EQ(CountOf(items, "add default/r5"), 1u);
  EXPECT_EQ(CountOf(items, "delete default/r0"), 1u);
  EXPECT_EQ(CountOf(items, "update default/r1"), 1u);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(CountOf(items, "add default/r" + std::to_string(i)), 1u);
  inf.Stop();
  EXPECT_EQ(inf.Stats().lists, 1u);  // resumed, not relisted
  EXPECT_EQ(inf.Size(), 6u);
}

TEST(InformerTest, RelistsAfterGoneAndReportsOnlyRealChanges) {
  for (bool as_http : {false, true}) {
    kube_local::LocalApiServerOptions so;
    so.gone_as_http_status = as_http;
    ServerAndClient env(so);
    KubeClient& c = env.client();
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(c.Create(kPods, "default", MakePod("g" + std::to_string(i))).ok());
    }
    Informer inf(c, kPods, {});
    Waitable log;
    inf.AddHandlers(Recorder(log));
    inf.Start();
    ASSERT_TRUE(inf.WaitForSync(std::chrono::seconds(20)));
    ASSERT_TRUE(log.WaitForCount(4));

    env.StopServer();
    auto api = env.api();
    const auto* pods = kube_local::FindResource("", "v1", "pods");
    ASSERT_EQ(api.Create(*pods, "default", MakePod("g4").dump()).code, 201);
    ASSERT_EQ(api.Delete(*pods, "default", "g0", "", 0).code, 200);
    env.store().CompactForTest();  // the informer's RV is now too old: 410 on resume
    ASSERT_TRUE(env.RestartServer());

    ASSERT_TRUE(log.WaitFor([](const std::vector<std::string>& v) {
      return CountOf(v, "add default/g4") == 1 && CountOf(v, "delete default/g0") == 1;
    }));
    auto stats = inf.Stats();
    inf.Stop();
    EXPECT_GE(stats.gone, 1u) << as_http;
    EXPECT_EQ(stats.lists, 2u) << as_http;
    EXPECT_EQ(log.items().size(), 6u) << ::testing::PrintToString(log.items());
    EXPECT_EQ(inf.Size(), 4u);
  }
}

TEST(InformerTest, ResyncRedeliversCachedObjects) {
  ServerAndClient env;
  ASSERT_TRUE(env.client().Create(kPods, "default", MakePod("rs0")).ok());
  ASSERT_TRUE(env.client().Create(kPods, "default", MakePod("rs1")).ok());
  InformerOptions io;
  io.resync_period = std::chrono::milliseconds(20);
  Informer inf(env.client(), kPods, io);
  Waitable log;
  inf.AddHandlers(Recorder(log, /*record_resync=*/true));
  inf.Start();
  ASSERT_TRUE(log.WaitFor([](const std::vector<std::string>& v) {
    return CountOf(v, "resync default/rs0") >= 2 && CountOf(v, "resync default/rs1") >= 2;
  }));
  inf.Stop();
}

// A pod carrying managedFields, as kube-apiserver would serve it.
json PodWithManagedFields(const std::string& name) {
  json pod = MakePod(name, "node-a");
  pod["metadata"]["managedFields"] =
      json::array({{{"manager", "kubectl"}, {"operation", "Update"}, {"fieldsType", "FieldsV1"}}});
  return pod;
}

TEST(InformerTest, StripsManagedFieldsByDefaultFromCacheAndHandlers) {
  ServerAndClient env;
  ASSERT_TRUE(env.client().Create(kPods, "default", PodWithManagedFields("listed")).ok());
  for (bool strip : {true, false}) {
    InformerOptions io;
    if (!strip)
      io.strip_managed_fields = false;
    Informer inf(env.client(), kPods, io);
    Waitable seen;  // "<name> <has managedFields>" per add/update handler call
    InformerHandlers h;
    h.on_add = [&seen](const json& o) {
      seen.Add(o["metadata"]["name"].get<std::string>() + " " +
               (o["metadata"].contains("managedFields") ? "mf" : "-"));
    };
    inf.AddHandlers(h);
    inf.Start();
    ASSERT_TRUE(inf.WaitForSync(std::chrono::seconds(20)));
    std::string watched = strip ? "watched-strip" : "watched-keep";
    ASSERT_TRUE(env.client().Create(kPods, "default", PodWithManagedFields(watched)).ok());
    const std::string mark = strip ? "-" : "mf";
    ASSERT_TRUE(seen.WaitFor([&](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), watched + " " + mark) != v.end();
    })) << ::testing::PrintToString(seen.items());
    inf.Stop();
    EXPECT_EQ(CountOf(seen.items(), "listed " + mark), 1u) << strip;
    for (const auto& key : {std::string("default/listed"), "default/" + watched}) {
      auto obj = inf.Get(key);
      ASSERT_NE(obj, nullptr) << key;
      EXPECT_EQ((*obj)["metadata"].contains("managedFields"), !strip) << key;
      EXPECT_EQ((*obj)["spec"]["nodeName"], "node-a") << key;
    }
  }
}

TEST(InformerTest, ParsedAndCompactCachesHoldTheSameObjects) {
  ServerAndClient env;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        env.client().Create(kPods, "default", MakePod("same" + std::to_string(i), "n")).ok());
  }
  InformerOptions parsed_opts;
  parsed_opts.compact = false;
  Informer compact(env.client(), kPods, {});
  Informer parsed(env.client(), kPods, parsed_opts);
  Waitable adds;
  InformerHandlers hc;
  hc.on_add = [&adds](const json& o) { adds.Add("compact " + ObjectKey(o)); };
  InformerHandlers hp;
  hp.on_add = [&adds](const json& o) { adds.Add("parsed " + ObjectKey(o)); };
  compact.AddHandlers(hc);
  parsed.AddHandlers(hp);
  compact.Start();
  parsed.Start();
  ASSERT_TRUE(compact.WaitForSync(std::chrono::seconds(20)));
  ASSERT_TRUE(parsed.WaitForSync(std::chrono::seconds(20)));
  ASSERT_TRUE(env.client().Create(kPods, "default", MakePod("late", "n")).ok());
  ASSERT_TRUE(adds.WaitFor([](const std::vector<std::string>& v) {
    return CountOf(v, "compact default/late") == 1 && CountOf(v, "parsed default/late") == 1;
  }));
  compact.Stop();
  parsed.Stop();
  ASSERT_EQ(compact.Size(), 6u);
  ASSERT_EQ(parsed.Size(), 6u);
  for (const auto& obj : parsed.List()) {
    auto other = compact.Get(ObjectKey(*obj));
    ASSERT_NE(other, nullptr) << ObjectKey(*obj);
    EXPECT_EQ(*other, *obj);
  }
}

TEST(InformerTest, StopIsPromptWhileWatchIsIdle) {
  ServerAndClient env;
  Informer inf(env.client(), kNodes, {});
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(std::chrono::seconds(20)));
  inf.Stop();  // must not wait for the watch timeout (the test's bounded runtime checks this)
  EXPECT_EQ(inf.Size(), 0u);
}

}  // namespace
}  // namespace npushare::kube
