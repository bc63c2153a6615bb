// LeaseFollower: npushare leads exactly while kube-scheduler's Lease names this pod's hostname
// ("<hostname>_<uuid>", live). The API is a scripted transport, time a fake clock.
#include "scheduler/service/lease_follower.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>
#include <vector>

#include "common/yaml_json.h"
#include "kube/objects.h"
#include "mocks/kube/fake_clock.h"
#include "mocks/kube/scripted_transport.h"
#include "support/temp_dir.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr const char* kUuid = "5f0c3a7e-8a39-4f6b-9d0e-2b7f4c1d9e61";

json Lease(const std::string& holder, std::chrono::system_clock::time_point renew,
           int64_t duration = 15) {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata",
           {{"name", "npushare-kube-scheduler"},
            {"namespace", "kube-system"},
            {"resourceVersion", "7"}}},
          {"spec",
           {{"holderIdentity", holder},
            {"leaseDurationSeconds", duration},
            {"acquireTime", kube::FormatRfc3339(renew, true)},
            {"renewTime", kube::FormatRfc3339(renew, true)},
            {"leaseTransitions", 0}}}};
}

class LeaseFollowerTest : public ::testing::Test {
 protected:
  LeaseFollowerTest() : client_(transport_, ClientOpts(), clock_) {}
  static kube::ClientOptions ClientOpts() {
    kube::ClientOptions o;
    o.max_retries = 0;
    o.qps = 0;
    return o;
  }
  LeaseFollowerOptions Options(const std::string& host = "npushare-scheduler-7d9f-abcde") {
    LeaseFollowerOptions o;
    o.namespace_name = "kube-system";
    o.lease_name = "npushare-kube-scheduler";
    o.hostname = host;
    o.poll_period = std::chrono::milliseconds(500);
    o.log = [this](const std::string& l) { log_.push_back(l); };
    return o;
  }
  std::unique_ptr<LeaseFollower> Follower(
      const std::string& host = "npushare-scheduler-7d9f-abcde") {
    return std::make_unique<LeaseFollower>(
        client_, Options(host), [this](bool leader) { changes_.push_back(leader); }, clock_);
  }
  void PushLease(const json& lease) { transport_.PushResponse(200, lease.dump()); }
  void PushNotFound() {
    transport_.PushResponse(
        404,
        R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404})");
  }

  kube::testing::ScriptedTransport transport_;
  kube::testing::FakeClock clock_;
  kube::KubeClient client_;
  std::vector<bool> changes_;
  std::vector<std::string> log_;
};

TEST(HolderNamesHostTest, ExactHostnameFollowedByUnderscoreAndSuffix) {
  EXPECT_TRUE(HolderNamesHost("pod-1_5f0c3a7e", "pod-1"));
  EXPECT_FALSE(HolderNamesHost("pod-10_5f0c3a7e", "pod-1"));  // prefix collision
  EXPECT_FALSE(HolderNamesHost("pod-1_5f0c3a7e", "pod-10"));
  EXPECT_FALSE(HolderNamesHost("pod-1_", "pod-1"));  // no uniquifier
  EXPECT_FALSE(HolderNamesHost("pod-1", "pod-1"));
  EXPECT_FALSE(HolderNamesHost("xpod-1_5f0c", "pod-1"));
  EXPECT_FALSE(HolderNamesHost("_5f0c", ""));
  EXPECT_FALSE(HolderNamesHost("", "pod-1"));
}

TEST_F(LeaseFollowerTest, LeadsWhenTheHolderIsThisHostWithAUuid) {
  auto f = Follower();
  PushLease(Lease(std::string("npushare-scheduler-7d9f-abcde_") + kUuid, clock_.WallNow()));
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kLeader);
  EXPECT_TRUE(f->IsLeader());
  EXPECT_EQ(changes_, std::vector<bool>{true});
  EXPECT_EQ(f->ObservedHolder(), std::string("npushare-scheduler-7d9f-abcde_") + kUuid);
  // It GETs exactly the configured Lease.
  auto reqs = transport_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_NE(reqs[0].target.find("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"
                                "npushare-kube-scheduler"),
            std::string::npos)
      << reqs[0].target;
}

TEST_F(LeaseFollowerTest, DoesNotLeadForAnotherHost) {
  auto f = Follower();
  PushLease(Lease(std::string("npushare-scheduler-7d9f-xyzzy_") + kUuid, clock_.WallNow()));
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kOtherHolder);
  EXPECT_FALSE(f->IsLeader());
  EXPECT_TRUE(changes_.empty());
}

TEST_F(LeaseFollowerTest, DoesNotLeadForAHostnameThatMerelyStartsWithOurs) {
  auto f = Follower("pod-1");
  PushLease(Lease(std::string("pod-10_") + kUuid, clock_.WallNow()));
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kOtherHolder);
  EXPECT_FALSE(f->IsLeader());
  // ... while "pod-10" itself does lead on that Lease.
  auto g = Follower("pod-10");
  PushLease(Lease(std::string("pod-10_") + kUuid, clock_.WallNow()));
  EXPECT_EQ(g->CheckOnce(), LeaseVerdict::kLeader);
}

TEST_F(LeaseFollowerTest, StepsDownWhenTheLeaseExpiresAndWhenAnotherHostTakesIt) {
  auto f = Follower();
  const std::string me = std::string("npushare-scheduler-7d9f-abcde_") + kUuid;
  const auto renewed = clock_.WallNow();
  PushLease(Lease(me, renewed, 15));
  ASSERT_EQ(f->CheckOnce(), LeaseVerdict::kLeader);
  clock_.Advance(seconds(14));
  PushLease(Lease(me, renewed, 15));
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kLeader);  // 1 s left
  clock_.Advance(seconds(1));
  PushLease(Lease(me, renewed, 15));
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kExpired);  // renewTime + 15 s is now: no leader
  EXPECT_FALSE(f->IsLeader());
  PushLease(Lease(me, clock_.WallNow(), 15));  // kube-scheduler renewed again
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kLeader);
  PushLease(Lease("other-pod_1234", clock_.WallNow(), 15));
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kOtherHolder);
  EXPECT_EQ(changes_, (std::vector<bool>{true, false, true, false}));
}

TEST_F(LeaseFollowerTest, AMissingLeaseMeansNoLeader) {
  auto f = Follower();
  PushLease(Lease(std::string("npushare-scheduler-7d9f-abcde_") + kUuid, clock_.WallNow()));
  ASSERT_EQ(f->CheckOnce(), LeaseVerdict::kLeader);
  PushNotFound();
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kNotFound);
  EXPECT_FALSE(f->IsLeader());
  EXPECT_EQ(f->ObservedHolder(), "");
  EXPECT_EQ(changes_, (std::vector<bool>{true, false}));
}

TEST_F(LeaseFollowerTest, AReleasedLeaseMeansNoLeader) {
  auto f = Follower();
  PushLease(Lease("", clock_.WallNow()));
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kNoHolder);
  EXPECT_FALSE(f->IsLeader());
}

TEST_F(LeaseFollowerTest, AMalformedLeaseMeansNoLeaderAndNeverThrows) {
  const std::string me = std::string("npushare-scheduler-7d9f-abcde_") + kUuid;
  const auto now = clock_.WallNow();
  std::vector<json> bad;
  json l = Lease(me, now);
  l["spec"] = "not an object";
  bad.push_back(l);
  l = Lease(me, now);
  l.erase("spec");
  bad.push_back(l);
  l = Lease(me, now);
  l["spec"]["holderIdentity"] = 42;
  bad.push_back(l);
  l = Lease(me, now);
  l["spec"]["renewTime"] = "yesterday";
  bad.push_back(l);
  l = Lease(me, now);
  l["spec"].erase("renewTime");
  bad.push_back(l);
  l = Lease(me, now);
  l["spec"]["leaseDurationSeconds"] = "15";
  bad.push_back(l);
  l = Lease(me, now);
  l["spec"]["leaseDurationSeconds"] = 0;
  bad.push_back(l);
  l = Lease(me, now);
  l["spec"]["leaseDurationSeconds"] = 1.5;
  bad.push_back(l);
  l = Lease(me, now);
  l["spec"]["leaseDurationSeconds"] = int64_t{1} << 40;  // would never expire
  bad.push_back(l);
  for (const json& lease : bad) {
    auto f = Follower();
    PushLease(lease);
    EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kMalformed) << lease.dump();
    EXPECT_FALSE(f->IsLeader()) << lease.dump();
  }
  // A body that is not JSON at all.
  auto f = Follower();
  transport_.PushResponse(200, "{not json");
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kUnreadable);
  EXPECT_FALSE(f->IsLeader());
  EXPECT_TRUE(changes_.empty());
}

TEST_F(LeaseFollowerTest, AnApiOutageKeepsLeadingOnlyUntilTheLastLeaseReadExpires) {
  auto f = Follower();
  const auto renewed = clock_.WallNow();
  PushLease(Lease(std::string("npushare-scheduler-7d9f-abcde_") + kUuid, renewed, 15));
  ASSERT_EQ(f->CheckOnce(), LeaseVerdict::kLeader);
  transport_.PushResponse(503, "{}");
  clock_.Advance(seconds(10));
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kLeader);
  transport_.PushResponse(503, "{}");
  clock_.Advance(seconds(5));
  EXPECT_EQ(f->CheckOnce(), LeaseVerdict::kExpired);
  EXPECT_FALSE(f->IsLeader());
  // Without any Lease read, an error is "unreadable", not leadership.
  auto g = Follower();
  transport_.PushResponse(500, "{}");
  EXPECT_EQ(g->CheckOnce(), LeaseVerdict::kUnreadable);
  EXPECT_FALSE(g->IsLeader());
}

TEST_F(LeaseFollowerTest, LogsOnlyWhenTheVerdictChanges) {
  auto f = Follower();
  for (int i = 0; i < 3; ++i) {
    PushLease(Lease("other-pod_1234", clock_.WallNow()));
    f->CheckOnce();
  }
  EXPECT_EQ(log_.size(), 1u);
  PushNotFound();
  f->CheckOnce();
  EXPECT_EQ(log_.size(), 2u);
}

TEST_F(LeaseFollowerTest, RunPollsEveryPeriodAndStepsDownOnStop) {
  const std::string me = std::string("npushare-scheduler-7d9f-abcde_") + kUuid;
  PushLease(Lease(me, clock_.WallNow(), 86400));
  PushLease(Lease(me, clock_.WallNow(), 86400));
  PushLease(Lease(me, clock_.WallNow(), 86400));
  LeaseFollower follower(
      client_, Options(), [&](bool leader) { changes_.push_back(leader); }, clock_);
  // The fake clock's SleepFor returns at once: stop once the third GET was made (later GETs
  // find the script exhausted, an API error, and re-judge the last Lease: still leading).
  std::thread runner([&] { follower.Run(); });
  while (transport_.requests().size() < 3) {
    std::this_thread::yield();
  }
  follower.Stop();
  runner.join();
  EXPECT_FALSE(follower.IsLeader());
  EXPECT_EQ(changes_, (std::vector<bool>{true, false}));  // led, then stepped down on Stop
  for (auto d : clock_.sleeps()) {
    EXPECT_EQ(d, std::chrono::milliseconds(500));
  }
}

TEST(ParseFollowedLeaseFlagTest, NamespaceSlashNameOrBareName) {
  auto a = ParseFollowedLeaseFlag("kube-system/npushare-kube-scheduler");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->namespace_name, "kube-system");
  EXPECT_EQ(a->lease_name, "npushare-kube-scheduler");
  EXPECT_TRUE(a->leader_elect);
  auto b = ParseFollowedLeaseFlag("my-scheduler");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->namespace_name, "kube-system");
  EXPECT_EQ(b->lease_name, "my-scheduler");
  for (const char* bad : {"", "/", "a/", "/b", "a/b/c", "Kube-System/x", "ns/UPPER", "ns/a_b"}) {
    auto r = ParseFollowedLeaseFlag(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(FollowedLeaseFromKubeSchedulerConfigTest, ReadsLeaderElectionWithKubeSchedulersDefaults) {
  auto full = FollowedLeaseFromKubeSchedulerConfig(
      "apiVersion: kubescheduler.config.k8s.io/v1\n"
      "kind: KubeSchedulerConfiguration\n"
      "leaderElection:\n"
      "  leaderElect: true\n"
      "  resourceName: npushare-kube-scheduler\n"
      "  resourceNamespace: npushare-system\n"
      "  leaseDuration: 15s\n"
      "profiles:\n- schedulerName: hami-scheduler\n");
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_TRUE(full->leader_elect);
  EXPECT_EQ(full->namespace_name, "npushare-system");
  EXPECT_EQ(full->lease_name, "npushare-kube-scheduler");

  auto defaults = FollowedLeaseFromKubeSchedulerConfig(
      "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_TRUE(defaults->leader_elect);
  EXPECT_EQ(defaults->namespace_name, "kube-system");
  EXPECT_EQ(defaults->lease_name, "kube-scheduler");

  auto off = FollowedLeaseFromKubeSchedulerConfig(
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
      "leaderElection:\n  leaderElect: false\n");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->leader_elect);

  const std::string head =
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";
  for (const std::string& bad : {
           std::string("apiVersion: v1\nkind: ConfigMap\n"),
           std::string("- a\n- b\n"),
           head + "---\n" + head,
           head + "leaderElection: [1]\n",
           head + "leaderElection:\n  leaderElect: yes-please\n",
           head + "leaderElection:\n  resourceName: 7\n",
           head + "leaderElection:\n  resourceName: Bad_Name\n",
           head + "leaderElection:\n  resourceLock: endpointsleases\n",
           std::string("{unclosed: ["),
       }) {
    auto r = FollowedLeaseFromKubeSchedulerConfig(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(FollowedLeaseFromKubeSchedulerConfigTest, TheShippedDeploymentConfigNamesItsLease) {
  // deploy/kustomize/base/scheduler-config.yaml is a ConfigMap; its config.yaml is the file
  // kube-scheduler and npushare-scheduler both read in the pod.
  npushare::testing::ScopedTempDir dir("lease_follower");
  auto docs = ParseYamlDocuments([] {
    std::ifstream in(std::string(NPUSHARE_SOURCE_DIR) +
                     "/deploy/kustomize/base/scheduler-config.yaml");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }());
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 1u);
  const std::string path = dir.path() + "/config.yaml";
  std::ofstream(path) << (*docs)[0]["data"]["config.yaml"].get<std::string>();
  auto lease = LoadFollowedLeaseFromKubeSchedulerConfig(path);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_TRUE(lease->leader_elect);
  EXPECT_EQ(lease->namespace_name, "kube-system");
  EXPECT_EQ(lease->lease_name, "npushare-kube-scheduler");
  auto missing = LoadFollowedLeaseFromKubeSchedulerConfig(dir.path() + "/absent.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace npushare::scheduler
