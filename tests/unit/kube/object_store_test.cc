// The local API server's store (sim/kube/object_store.h): RVs, history, watches, persistence.
#include "sim/kube/object_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace npushare::kube_local {
namespace {

using nlohmann::json;

ObjectStore::Mutator Put(json obj) {
  return [obj](const ObjectPtr&) -> Result<ObjectPtr> { return std::make_shared<json>(obj); };
}

json Named(const std::string& name) {
  return {{"metadata", {{"name", name}}}};
}

TEST(ObjectStoreTest, WritesBumpOneGlobalResourceVersion) {
  ObjectStore store;
  auto a = store.Write("pods", "d/a", Put(Named("a")));
  auto b = store.Write("nodes", "b", Put(Named("b")));
  ASSERT_TRUE(a.ok() && b.ok());
  int64_t rva = std::stoll((**a)["metadata"]["resourceVersion"].get<std::string>());
  int64_t rvb = std::stoll((**b)["metadata"]["resourceVersion"].get<std::string>());
  EXPECT_EQ(rvb, rva + 1);
  EXPECT_EQ(store.CurrentRv(), rvb);
}

TEST(ObjectStoreTest, NoOpWriteKeepsVersionAndEmitsNothing) {
  ObjectStore store;
  auto a = store.Write("pods", "d/a", Put(Named("a")));
  ASSERT_TRUE(a.ok());
  int64_t rv = store.CurrentRv();
  auto same =
      store.Write("pods", "d/a", [](const ObjectPtr& cur) -> Result<ObjectPtr> { return cur; });
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(store.CurrentRv(), rv);
  auto batch = store.WaitEvents("pods", rv, std::chrono::steady_clock::now(), nullptr);
  EXPECT_TRUE(batch.events.empty());
}

TEST(ObjectStoreTest, MutatorErrorsAbortTheWrite) {
  ObjectStore store;
  auto r = store.Write("pods", "d/a", [](const ObjectPtr&) -> Result<ObjectPtr> {
    return AbortedError("conflict");
  });
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_EQ(store.Get("pods", "d/a"), nullptr);
}

TEST(ObjectStoreTest, HistoryLimitMakesOldWatchesGone) {
  StoreOptions o;
  o.history_limit = 3;
  ObjectStore store(o);
  int64_t start = store.CurrentRv();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store.Write("pods", "d/p" + std::to_string(i), Put(Named("p"))).ok());
  }
  EXPECT_TRUE(store.IsGone("pods", start));
  auto batch = store.WaitEvents("pods", start, std::chrono::steady_clock::now(), nullptr);
  EXPECT_TRUE(batch.gone);
  batch =
      store.WaitEvents("pods", store.CurrentRv() - 2, std::chrono::steady_clock::now(), nullptr);
  EXPECT_FALSE(batch.gone);
  EXPECT_EQ(batch.events.size(), 2u);
  EXPECT_TRUE(store.IsGone("pods", store.CurrentRv() + 1));  // from the future
}

TEST(ObjectStoreTest, PagedListingAfterKey) {
  ObjectStore store;
  for (const char* k : {"a/1", "a/2", "a/3", "b/1"}) {
    ASSERT_TRUE(store.Write("pods", k, Put(Named(k))).ok());
  }
  auto p1 = store.ListPage("pods", "a/", "", 2, nullptr);
  ASSERT_EQ(p1.items.size(), 2u);
  EXPECT_TRUE(p1.more);
  auto p2 = store.ListPage("pods", "a/", p1.last_key, 2, nullptr);
  ASSERT_EQ(p2.items.size(), 1u);
  EXPECT_FALSE(p2.more);
  EXPECT_EQ(store.ListPage("pods", "", "", 0, nullptr).items.size(), 4u);
}

TEST(ObjectStoreTest, SaveLoadRoundTripAndMalformedFiles) {
  auto dir = std::filesystem::temp_directory_path() / ("kube_store_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "s.json").string();
  {
    ObjectStore store;
    json pod = {{"metadata", {{"name", "a"}, {"namespace", "d"}}}};
    ASSERT_TRUE(store.Write("pods", "d/a", Put(pod)).ok());
    ASSERT_TRUE(store.Save(path).ok());
    EXPECT_FALSE(store.dirty());
  }
  ObjectStore loaded;
  ASSERT_TRUE(loaded.Load(path).ok());
  ASSERT_NE(loaded.Get("pods", "d/a"), nullptr);
  EXPECT_EQ(loaded.CurrentRv(), 2);
  EXPECT_TRUE(loaded.IsGone("pods", 1));
  for (const char* bad : {"", "[1]", R"({"resourceVersion":"x","resources":{}})",
                          R"({"resourceVersion":3,"resources":{"pods":[{"metadata":{}}]}})"}) {
    std::ofstream(path) << bad;
    EXPECT_EQ(loaded.Load(path).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(loaded.Load((dir / "missing").string()).code(), StatusCode::kFailedPrecondition);
  std::ofstream(path) << R"({"resourceVersion":3,"resources":{}})" << std::string(2048, ' ');
  EXPECT_TRUE(loaded.Load(path).ok());
  Status too_big = loaded.Load(path, /*max_bytes=*/1024);
  EXPECT_EQ(too_big.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(too_big.message().find(path), std::string::npos) << too_big.message();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace npushare::kube_local
