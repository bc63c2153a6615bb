// AcquireNodeLockWithHint against kube-local (in process, real HTTP) with a fake clock: a
// current copy takes the lock in one conditional patch; a stale copy is refused by the API
// server (resourceVersion precondition) and the full protocol decides from the real node, so
// a stale "free" never overwrites a live lock.
#include "scheduler/service/cached_node_lock.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hami/types.h"
#include "integration/kube/test_server.h"
#include "kube/objects.h"
#include "kube/resource.h"
#include "mocks/kube/fake_clock.h"

namespace npushare::scheduler {
namespace {

using kube::testing::FakeClock;
using kube::testing::MakePod;
using kube::testing::ServerAndClient;
using nlohmann::json;

constexpr char kNode[] = "node-a";
constexpr int64_t kTimeout = 300;

class CachedNodeLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", kNode}}}};
    ASSERT_TRUE(env_.client().Create(kube::kNodes, "", node).ok());
    for (const char* name : {"pod-a", "pod-b"}) {
      ASSERT_TRUE(env_.client().Create(kube::kPods, "default", MakePod(name)).ok());
    }
  }

  // Read: the node as the API server has it now, as a hint.
  NodeLockHint Read() {
    auto node = env_.client().Get(kube::kNodes, "", kNode);
    EXPECT_TRUE(node.ok());
    auto meta = kube::ParseObjectMeta(*node);
    EXPECT_TRUE(meta.ok());
    NodeLockHint h;
    h.resource_version = meta->resource_version;
    auto it = meta->annotations.find(hami::kNodeLockAnnotation);
    if (it != meta->annotations.end()) {
      h.value = it->second;
    }
    return h;
  }

  void Annotate(const std::string& key, const json& value) {
    json patch = {{"metadata", {{"annotations", {{key, value}}}}}};
    ASSERT_TRUE(env_.client().Patch(kube::kNodes, "", kNode, kube::PatchType::kMerge, patch).ok());
  }

  Status Acquire(const hami::PodRef& pod, const std::optional<NodeLockHint>& hint,
                 LockHintOutcome* how) {
    return AcquireNodeLockWithHint(env_.client(), locks_, clock_, kTimeout, kNode, pod, hint, how);
  }

  ServerAndClient env_;
  FakeClock clock_;
  kube::NodeLockClient locks_{env_.client(), clock_};
  const hami::PodRef a_{"default", "pod-a"};
  const hami::PodRef b_{"default", "pod-b"};
};

TEST_F(CachedNodeLockTest, CurrentCopyTakesTheLockInOnePatch) {
  const NodeLockHint before = Read();
  LockHintOutcome how = LockHintOutcome::kNoHint;
  ASSERT_TRUE(Acquire(a_, before, &how).ok());
  EXPECT_EQ(how, LockHintOutcome::kHit);
  const NodeLockHint after = Read();
  EXPECT_EQ(after.value, kube::NodeLockClient::LockValueFor(a_, clock_.WallNow()));
  EXPECT_NE(after.resource_version, before.resource_version);
  EXPECT_TRUE(clock_.sleeps().empty());  // no conflict, no backoff
}

TEST_F(CachedNodeLockTest, StaleFreeCopyFallsBackAndStillTakesAFreeLock) {
  const NodeLockHint stale = Read();
  Annotate("unrelated", "changed");  // the node moves on; the copy's resourceVersion is old
  LockHintOutcome how = LockHintOutcome::kNoHint;
  ASSERT_TRUE(Acquire(a_, stale, &how).ok());
  EXPECT_EQ(how, LockHintOutcome::kStale);
  EXPECT_EQ(Read().value, kube::NodeLockClient::LockValueFor(a_, clock_.WallNow()));
}

TEST_F(CachedNodeLockTest, StaleFreeCopyNeverOverwritesALiveLock) {
  const NodeLockHint stale = Read();  // says free
  ASSERT_TRUE(locks_.Acquire(kNode, b_).ok());
  const auto held = Read().value;
  LockHintOutcome how = LockHintOutcome::kNoHint;
  Status s = Acquire(a_, stale, &how);
  EXPECT_EQ(how, LockHintOutcome::kStale);
  EXPECT_EQ(s.code(), StatusCode::kAborted);  // contention, decided from the real node
  EXPECT_EQ(Read().value, held);
}

TEST_F(CachedNodeLockTest, CopyShowingALockUsesTheFullProtocol) {
  // The copy still shows pod-b's lock, which has since been released (the device plugin's
  // unlock has not reached the watch yet): the full protocol reads the node and takes it.
  ASSERT_TRUE(locks_.Acquire(kNode, b_).ok());
  const NodeLockHint old = Read();
  ASSERT_TRUE(locks_.Release(kNode, b_).ok());
  LockHintOutcome how = LockHintOutcome::kNoHint;
  ASSERT_TRUE(Acquire(a_, old, &how).ok());
  EXPECT_EQ(how, LockHintOutcome::kNotFree);
  EXPECT_EQ(Read().value, kube::NodeLockClient::LockValueFor(a_, clock_.WallNow()));
}

TEST_F(CachedNodeLockTest, CopyNamingThisPodIsCheckedAgainstTheServer) {
  // A copy claiming we already hold the lock is not trusted either: the lock was removed.
  ASSERT_TRUE(locks_.Acquire(kNode, a_).ok());
  const NodeLockHint old = Read();
  Annotate(hami::kNodeLockAnnotation, nullptr);
  LockHintOutcome how = LockHintOutcome::kNoHint;
  ASSERT_TRUE(Acquire(a_, old, &how).ok());
  EXPECT_EQ(how, LockHintOutcome::kNotFree);
  EXPECT_TRUE(Read().value.has_value());  // written again by the full protocol
}

TEST_F(CachedNodeLockTest, NoCopyOrNoVersionUsesTheFullProtocol) {
  LockHintOutcome how = LockHintOutcome::kHit;
  ASSERT_TRUE(Acquire(a_, std::nullopt, &how).ok());
  EXPECT_EQ(how, LockHintOutcome::kNoHint);
  ASSERT_TRUE(locks_.Release(kNode, a_).ok());
  NodeLockHint no_version;  // free, but without a resourceVersion: no unconditional write
  ASSERT_TRUE(Acquire(b_, no_version, &how).ok());
  EXPECT_EQ(how, LockHintOutcome::kNoHint);
  EXPECT_EQ(Read().value, kube::NodeLockClient::LockValueFor(b_, clock_.WallNow()));
}

TEST_F(CachedNodeLockTest, MissingNodeIsNotFoundAfterTheRefusedPatch) {
  NodeLockHint hint;
  hint.resource_version = "1";
  LockHintOutcome how = LockHintOutcome::kNoHint;
  Status s = AcquireNodeLockWithHint(env_.client(), locks_, clock_, kTimeout, "no-such-node", a_,
                                     hint, &how);
  EXPECT_EQ(how, LockHintOutcome::kStale);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST_F(CachedNodeLockTest, GarbledCopyIsLeftToTheFullProtocol) {
  Annotate(hami::kNodeLockAnnotation, "not a lock");
  LockHintOutcome how = LockHintOutcome::kNoHint;
  Status s = Acquire(a_, Read(), &how);
  EXPECT_EQ(how, LockHintOutcome::kNotFree);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);  // as NodeLockClient: a human clears it
  EXPECT_EQ(Read().value, "not a lock");
}

}  // namespace
}  // namespace npushare::scheduler
