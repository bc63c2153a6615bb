// NodeLockClient against kube-local (in process, real HTTP) for the decisions, and against the
// scripted transport for conflicts and lost responses, both with a fake clock for expiry and
// backoff.
#include "kube/node_lock_client.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hami/types.h"
#include "integration/kube/test_server.h"
#include "kube/api_error.h"
#include "kube/objects.h"
#include "mocks/kube/fake_clock.h"
#include "mocks/kube/scripted_transport.h"

namespace npushare::kube {
namespace {

using nlohmann::json;
using testing::FakeClock;
using testing::MakePod;
using testing::ScriptedTransport;
using testing::ServerAndClient;

constexpr char kNode[] = "node-a";

class NodeLockClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", kNode}}}};
    ASSERT_TRUE(env_.client().Create(kNodes, "", node).ok());
    for (const char* name : {"pod-a", "pod-b"}) {
      ASSERT_TRUE(env_.client().Create(kPods, "default", MakePod(name)).ok());
    }
  }

  std::optional<std::string> LockValue() {
    auto node = env_.client().Get(kNodes, "", kNode);
    EXPECT_TRUE(node.ok());
    auto meta = ParseObjectMeta(*node);
    EXPECT_TRUE(meta.ok());
    auto it = meta->annotations.find(hami::kNodeLockAnnotation);
    if (it == meta->annotations.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  void SetLockValue(const std::string& value) {
    json patch = {{"metadata", {{"annotations", {{hami::kNodeLockAnnotation, value}}}}}};
    ASSERT_TRUE(env_.client().Patch(kNodes, "", kNode, PatchType::kMerge, patch).ok());
  }

  ServerAndClient env_;
  FakeClock clock_;
  NodeLockClient locks_{env_.client(), clock_};
  const hami::PodRef a_{"default", "pod-a"};
  const hami::PodRef b_{"default", "pod-b"};
};

TEST_F(NodeLockClientTest, AcquireWritesOwnerAndIsReentrant) {
  ASSERT_TRUE(locks_.Acquire(kNode, a_).ok());
  const std::string expected = NodeLockClient::LockValueFor(a_, clock_.WallNow());
  EXPECT_EQ(LockValue(), expected);
  EXPECT_EQ(expected, "2024-05-01T10:00:00Z,default,pod-a");
  clock_.Advance(std::chrono::seconds(10));
  EXPECT_TRUE(locks_.Acquire(kNode, a_).ok());
  EXPECT_EQ(LockValue(), expected);  // re-entrant: not rewritten
}

TEST_F(NodeLockClientTest, LiveHolderMeansContention) {
  ASSERT_TRUE(locks_.Acquire(kNode, b_).ok());
  const auto held = LockValue();
  Status s = locks_.Acquire(kNode, a_);
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(LockValue(), held);
}

TEST_F(NodeLockClientTest, ExpiredLockIsTakenOver) {
  ASSERT_TRUE(locks_.Acquire(kNode, b_).ok());
  clock_.Advance(std::chrono::seconds(300));
  EXPECT_EQ(locks_.Acquire(kNode, a_).code(), StatusCode::kAborted);  // exactly 300 s: live
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(locks_.Acquire(kNode, a_).ok());
  EXPECT_EQ(LockValue(), NodeLockClient::LockValueFor(a_, clock_.WallNow()));
}

TEST_F(NodeLockClientTest, LockOfADeletedPodIsTakenOver) {
  SetLockValue(NodeLockClient::LockValueFor({"default", "gone"}, clock_.WallNow()));
  ASSERT_TRUE(locks_.Acquire(kNode, a_).ok());
  EXPECT_EQ(LockValue(), NodeLockClient::LockValueFor(a_, clock_.WallNow()));
}

TEST_F(NodeLockClientTest, FreshLegacyLockIsContention) {
  SetLockValue(hami::FormatNodeLock(1714557600, 0, "", ""));
  EXPECT_EQ(locks_.Acquire(kNode, a_).code(), StatusCode::kAborted);
}

TEST_F(NodeLockClientTest, MalformedValueIsInvalidArgumentAndLeftAlone) {
  for (const char* bad : {"lock", "2024-05-01T10:00:00Z,default", "x,y,z"}) {
    SetLockValue(bad);
    EXPECT_EQ(locks_.Acquire(kNode, a_).code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(LockValue(), bad);
  }
}

TEST_F(NodeLockClientTest, MissingNodeIsNotFound) {
  EXPECT_EQ(locks_.Acquire("no-such-node", a_).code(), StatusCode::kNotFound);
  EXPECT_TRUE(locks_.Release("no-such-node", a_).ok());
}

TEST_F(NodeLockClientTest, OwnerlessRequesterIsRefused) {
  EXPECT_EQ(locks_.Acquire(kNode, {"", ""}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LockValue(), std::nullopt);
}

TEST_F(NodeLockClientTest, ReleaseRemovesOnlyOwnLockUnlessForced) {
  ASSERT_TRUE(locks_.Acquire(kNode, b_).ok());
  const auto held = LockValue();
  EXPECT_TRUE(locks_.Release(kNode, a_).ok());
  EXPECT_EQ(LockValue(), held);  // someone else's: left
  EXPECT_TRUE(locks_.Release(kNode, b_).ok());
  EXPECT_EQ(LockValue(), std::nullopt);
  EXPECT_TRUE(locks_.Release(kNode, b_).ok());  // nothing to do

  ASSERT_TRUE(locks_.Acquire(kNode, b_).ok());
  EXPECT_TRUE(locks_.Release(kNode, a_, /*force=*/true).ok());
  EXPECT_EQ(LockValue(), std::nullopt);

  SetLockValue("2024-05-01T10:00:00Z");  // legacy: anyone releases it
  EXPECT_TRUE(locks_.Release(kNode, a_).ok());
  EXPECT_EQ(LockValue(), std::nullopt);
}

TEST_F(NodeLockClientTest, ConcurrentAcquiresGiveTheLockToExactlyOne) {
  constexpr int kThreads = 6;
  std::vector<hami::PodRef> pods;
  for (int i = 0; i < kThreads; ++i) {
    pods.push_back({"default", "racer-" + std::to_string(i)});
    ASSERT_TRUE(env_.client().Create(kPods, "default", MakePod(pods.back().name)).ok());
  }
  // Separate clients (as separate scheduler replicas would be): only the API server's
  // resourceVersion precondition keeps them apart, not the in-process mutex.
  std::vector<std::unique_ptr<NodeLockClient>> clients;
  for (int i = 0; i < kThreads; ++i) {
    clients.push_back(std::make_unique<NodeLockClient>(env_.client(), clock_));
  }
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i] = clients[i]->Acquire(kNode, pods[i]); });
  }
  for (auto& t : threads) {
    t.join();
  }
  int winners = 0;
  std::string winner;
  for (int i = 0; i < kThreads; ++i) {
    if (results[i].ok()) {
      ++winners;
      winner = pods[i].name;
    } else {
      EXPECT_EQ(results[i].code(), StatusCode::kAborted) << results[i].ToString();
    }
  }
  EXPECT_EQ(winners, 1);
  ASSERT_TRUE(LockValue().has_value());
  EXPECT_TRUE(LockValue()->ends_with(",default," + winner));
}

// --- scripted transport: exact request sequences ---

std::string NodeJson(const std::string& rv, const std::optional<std::string>& lock) {
  json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", kNode}, {"resourceVersion", rv}}}};
  if (lock) {
    node["metadata"]["annotations"] = {{hami::kNodeLockAnnotation, *lock}};
  }
  return node.dump();
}

std::string ConflictJson() {
  return json{{"kind", "Status"},    {"apiVersion", "v1"},
              {"status", "Failure"}, {"reason", "Conflict"},
              {"code", 409},         {"message", "the object has been modified"}}
      .dump();
}

class ScriptedNodeLockTest : public ::testing::Test {
 protected:
  ScriptedNodeLockTest() : client_(transport_, Options(), clock_) {}
  static ClientOptions Options() {
    ClientOptions o;
    o.qps = 0;
    o.max_retries = 0;
    return o;
  }
  ScriptedTransport transport_;
  FakeClock clock_;
  KubeClient client_;
  NodeLockClient locks_{client_, clock_};
  const hami::PodRef a_{"default", "pod-a"};
};

TEST_F(ScriptedNodeLockTest, ConflictIsReReadAndRetriedWithBackoff) {
  transport_.PushResponse(200, NodeJson("7", std::nullopt));
  transport_.PushResponse(409, ConflictJson());
  transport_.PushResponse(200, NodeJson("9", std::nullopt));
  transport_.PushResponse(200, NodeJson("10", std::nullopt));
  ASSERT_TRUE(locks_.Acquire(kNode, a_).ok());
  auto reqs = transport_.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[1].method, "PATCH");
  EXPECT_EQ(json::parse(reqs[1].body)["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(json::parse(reqs[3].body)["metadata"]["resourceVersion"], "9");
  EXPECT_EQ(json::parse(reqs[3].body)["metadata"]["annotations"][hami::kNodeLockAnnotation],
            NodeLockClient::LockValueFor(a_, clock_.WallNow()));
  auto sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 1u);
  EXPECT_GE(sleeps[0], std::chrono::milliseconds(100));
  EXPECT_LE(sleeps[0], std::chrono::milliseconds(150));
}

TEST_F(ScriptedNodeLockTest, PersistentConflictsGiveUpAfterMaxAttempts) {
  for (int i = 0; i < 5; ++i) {
    transport_.PushResponse(200, NodeJson(std::to_string(i), std::nullopt));
    transport_.PushResponse(409, ConflictJson());
  }
  EXPECT_EQ(locks_.Acquire(kNode, a_).code(), StatusCode::kAborted);
  EXPECT_EQ(transport_.requests().size(), 10u);
  auto sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 4u);
  EXPECT_GE(sleeps[3], std::chrono::milliseconds(800));  // 100 ms x 2^3
  EXPECT_LE(sleeps[3], std::chrono::milliseconds(1200));
}

TEST_F(ScriptedNodeLockTest, LostPatchResponseIsRecognisedByReReading) {
  transport_.PushResponse(200, NodeJson("7", std::nullopt));
  transport_.Push(AbortedError("connection reset after send"));  // the patch did land
  transport_.PushResponse(200, NodeJson("8", NodeLockClient::LockValueFor(a_, clock_.WallNow())));
  ASSERT_TRUE(locks_.Acquire(kNode, a_).ok());
  EXPECT_EQ(transport_.requests().size(), 3u);  // no second PATCH
}

TEST_F(ScriptedNodeLockTest, HolderLookupErrorIsReturnedNotTakenOver) {
  transport_.PushResponse(
      200, NodeJson("7", NodeLockClient::LockValueFor({"team", "holder"}, clock_.WallNow())));
  transport_.PushResponse(403, json{{"kind", "Status"},
                                    {"status", "Failure"},
                                    {"reason", "Forbidden"},
                                    {"code", 403},
                                    {"message", "no"}}
                                   .dump());
  EXPECT_EQ(locks_.Acquire(kNode, a_).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(transport_.requests().size(), 2u);  // no PATCH
}

TEST_F(ScriptedNodeLockTest, ReleaseDoesNotRemoveALockTakenInBetween) {
  const std::string ours = NodeLockClient::LockValueFor(a_, clock_.WallNow());
  const std::string theirs = NodeLockClient::LockValueFor({"default", "pod-b"}, clock_.WallNow());
  transport_.PushResponse(200, NodeJson("7", ours));
  transport_.PushResponse(409, ConflictJson());  // pod-b took it after our GET
  transport_.PushResponse(200, NodeJson("8", theirs));
  ASSERT_TRUE(locks_.Release(kNode, a_).ok());
  auto reqs = transport_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  json patch = json::parse(reqs[1].body);
  EXPECT_TRUE(patch["metadata"]["annotations"][hami::kNodeLockAnnotation].is_null());
  EXPECT_EQ(patch["metadata"]["resourceVersion"], "7");
}

TEST_F(ScriptedNodeLockTest, ForcedReleaseLeavesANewValueAlone) {
  const std::string first = NodeLockClient::LockValueFor({"default", "pod-b"}, clock_.WallNow());
  const std::string second = NodeLockClient::LockValueFor({"default", "pod-c"}, clock_.WallNow());
  transport_.PushResponse(200, NodeJson("7", first));
  transport_.PushResponse(409, ConflictJson());
  transport_.PushResponse(200, NodeJson("8", second));
  ASSERT_TRUE(locks_.Release(kNode, a_, /*force=*/true).ok());
  EXPECT_EQ(transport_.requests().size(), 3u);
}

}  // namespace
}  // namespace npushare::kube
