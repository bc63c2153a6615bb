// Two npushare-scheduler replicas in follow mode on kube-local: each SchedulerService is driven
// by a LeaseFollower watching a kube-scheduler Lease that the test writes (as the two
// kube-schedulers of the Deployment would). Only the replica whose hostname the Lease names
// binds; when the Lease moves to the other replica's kube-scheduler, the other one binds.
#include "scheduler/service/lease_follower.h"

#include <gtest/gtest.h>

#include <thread>

#include "integration/scheduler/service/service_env.h"
#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;
using testing::ServiceEnv;
using testing::WaitUntil;

constexpr const char* kLeaseNamespace = "kube-system";
constexpr const char* kLeaseName = "npushare-kube-scheduler";

// Replica: one scheduler pod's npushare half: the service and the follower feeding SetLeader.
struct Replica {
  std::string hostname;
  std::unique_ptr<SchedulerService> svc;
  std::unique_ptr<LeaseFollower> follower;
  std::thread thread;

  void Follow(kube::KubeClient& client) {
    LeaseFollowerOptions o;
    o.namespace_name = kLeaseNamespace;
    o.lease_name = kLeaseName;
    o.hostname = hostname;
    o.poll_period = std::chrono::milliseconds(20);
    o.log = [](const std::string&) {};
    SchedulerService* s = svc.get();
    follower = std::make_unique<LeaseFollower>(
        client, o, [s](bool leader) { s->SetLeader(leader); }, kube::RealClock());
    thread = std::thread([this] { follower->Run(); });
  }
  void StopFollowing() {
    if (follower) {
      follower->Stop();
    }
    if (thread.joinable()) {
      thread.join();
    }
  }
  ~Replica() { StopFollowing(); }
};

class LeaseFollowerIntegrationTest : public ::testing::Test {
 protected:
  // WriteLease: creates or updates the kube-scheduler Lease as client-go's leader election
  // writes it, held by `holder`, renewed now, valid for an hour (expiry is unit-tested).
  void WriteLease(const std::string& holder) {
    const std::string now = kube::FormatRfc3339(kube::RealClock().WallNow(), true);
    json spec = {{"holderIdentity", holder},
                 {"leaseDurationSeconds", 3600},
                 {"acquireTime", now},
                 {"renewTime", now},
                 {"leaseTransitions", 0}};
    auto got = env_.client().Get(kube::kLeases, kLeaseNamespace, kLeaseName);
    if (kube::IsNotFound(got.status())) {
      json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                    {"kind", "Lease"},
                    {"metadata", {{"name", kLeaseName}, {"namespace", kLeaseNamespace}}},
                    {"spec", spec}};
      auto r = env_.client().Create(kube::kLeases, kLeaseNamespace, lease);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      return;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    json lease = *got;
    spec["leaseTransitions"] = kube::IntField(lease["spec"], "leaseTransitions", 0) + 1;
    lease["spec"] = spec;
    auto r = env_.client().Update(kube::kLeases, kLeaseNamespace, lease);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::unique_ptr<Replica> StartReplica(const std::string& hostname) {
    auto r = std::make_unique<Replica>();
    r->hostname = hostname;
    SchedulerServiceOptions o = env_.Options();
    o.pod_name = hostname;
    r->svc = env_.StartService(o, /*leader=*/false);
    if (r->svc) {
      r->Follow(env_.client());
    }
    return r;
  }

  // Filter: what the active kube-scheduler asks the npushare of its own pod first.
  void Filter(Replica& on, const json& pod) {
    auto f = on.svc->Filter(ServiceEnv::FilterArgsFor(pod, {"n1"}));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ((*f)["NodeNames"], json({"n1"})) << f->dump();
  }
  // Bind: the Bind's Error field ("" when bound).
  std::string Bind(Replica& on, const json& pod) {
    auto b = on.svc->Bind(ServiceEnv::BindArgsFor(pod, "n1"));
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? kube::StringField(*b, "Error", "<no Error field>") : "<bind failed>";
  }

  std::string NodeOf(const std::string& pod) {
    return kube::StringField(kube::Field(env_.GetPod(pod), "spec"), "nodeName");
  }

  ServiceEnv env_;
};

TEST_F(LeaseFollowerIntegrationTest, OnlyTheReplicaNamedByKubeSchedulersLeaseBindsAndItMoves) {
  env_.CreateNode({.name = "n1", .chips = 2});
  WriteLease("npushare-scheduler-6f7c-aaaaa_0b9e4f5c-1d2e-4a57-9a0c-7c1b2d3e4f50");
  // "npushare-scheduler-6f7c-aaaa" is a prefix of the holder's hostname: it must not lead.
  auto a = StartReplica("npushare-scheduler-6f7c-aaaaa");
  auto b = StartReplica("npushare-scheduler-6f7c-bbbbb");
  auto prefix = StartReplica("npushare-scheduler-6f7c-aaaa");
  ASSERT_TRUE(a->svc && b->svc && prefix->svc);

  // Every follower has read the Lease; only a leads.
  ASSERT_TRUE(WaitUntil([&] {
    return a->svc->IsLeader() && !b->follower->ObservedHolder().empty() &&
           !prefix->follower->ObservedHolder().empty();
  }));
  EXPECT_FALSE(b->svc->IsLeader());
  EXPECT_FALSE(prefix->svc->IsLeader());

  // kube-scheduler in a's pod filters and binds through a: bound. b and the prefix replica
  // refuse a bind (as they would if their own, standby kube-scheduler called them).
  json p1 = env_.CreatePod("p1", {.memory_mb = 16384});
  Filter(*a, p1);
  EXPECT_NE(Bind(*b, p1), "");
  EXPECT_NE(Bind(*prefix, p1), "");
  EXPECT_EQ(NodeOf("p1"), "");
  EXPECT_EQ(Bind(*a, p1), "");
  EXPECT_EQ(NodeOf("p1"), "n1");
  ASSERT_TRUE(env_.PluginAllocated("p1", "n1").ok());

  // b's kube-scheduler takes over the Lease: b leads, a steps down.
  WriteLease("npushare-scheduler-6f7c-bbbbb_3c1d9a77-52f0-4d8e-b6a1-0e9f8d7c6b5a");
  ASSERT_TRUE(WaitUntil([&] { return b->svc->IsLeader() && !a->svc->IsLeader(); }));
  EXPECT_FALSE(prefix->svc->IsLeader());
  json p2 = env_.CreatePod("p2", {.memory_mb = 16384});
  Filter(*b, p2);
  EXPECT_NE(Bind(*a, p2), "");
  EXPECT_EQ(NodeOf("p2"), "");
  EXPECT_EQ(Bind(*b, p2), "");
  EXPECT_EQ(NodeOf("p2"), "n1");

  // kube-scheduler releases the Lease (graceful shutdown): nobody leads.
  WriteLease("");
  ASSERT_TRUE(WaitUntil([&] { return !b->svc->IsLeader(); }));
  EXPECT_FALSE(a->svc->IsLeader());

  for (Replica* r : {a.get(), b.get(), prefix.get()}) {
    r->StopFollowing();
    r->svc->Stop();
  }
}

}  // namespace
}  // namespace npushare::scheduler
