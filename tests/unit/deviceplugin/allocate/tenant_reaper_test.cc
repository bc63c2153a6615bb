// TenantReaper against kube-local: tenant files of pods that are gone or terminated are
// removed, those of live pods and names that are not ours are kept, and a lock whose holder
// terminated is released.
#include "deviceplugin/allocate/tenant_reaper.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "unit/deviceplugin/allocate/allocate_fixture.h"

namespace npushare::deviceplugin::allocate {
namespace {

using testing::AllocateFixture;
using testing::Dev;
using testing::KubeletIds;
using testing::MakeNode;
using testing::PodSpec;
using testing::Uuid;

constexpr char k910[] = "Ascend910B3";

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

class TenantReaperTest : public ::testing::Test {
 protected:
  TenantReaperTest() {
    options_.soft = f_.options_.soft;
    options_.interval = std::chrono::milliseconds(10);
  }

  // SoftPod: a soft-sliced pod allocated on chip `chip`; returns its tenant name.
  std::string SoftPod(const std::string& name, int chip) {
    PodSpec p;
    p.name = name;
    p.soft = true;
    p.alloc = {{Dev(Uuid(k910, chip), k910, 4096, 10)}};
    const std::string uid = f_.CreatePod(p);
    auto r = f_.Allocate(KubeletIds(k910, {chip}));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return uid + "_main";
  }
  bool HasFiles(const std::string& tenant) {
    const auto& soft = f_.options_.soft;
    return Exists(soft.quota_root + "/" + tenant + "/quota") &&
           Exists(soft.shares_dir + "/" + tenant + ".share") &&
           Exists(soft.tenants_dir + "/" + tenant);
  }
  bool HasNoFiles(const std::string& tenant) {
    const auto& soft = f_.options_.soft;
    return !Exists(soft.quota_root + "/" + tenant) &&
           !Exists(soft.shares_dir + "/" + tenant + ".share") &&
           !Exists(soft.tenants_dir + "/" + tenant);
  }

  AllocateFixture f_{MakeNode(k910, 2, /*soft=*/true, 0, 64)};
  TenantReaperOptions options_;
};

TEST_F(TenantReaperTest, RemovesFilesOfGoneAndTerminatedPodsOnly) {
  const std::string kept = SoftPod("running", 0);
  const std::string deleted = SoftPod("deleted", 1);
  const std::string finished = SoftPod("finished", 0);
  // A container wrote into its state directory: removal is recursive.
  ASSERT_TRUE(
      WriteFileAtomically(f_.options_.soft.tenants_dir + "/" + deleted + "/ledger.v1", "x", 0600)
          .ok());
  const std::string foreign = f_.options_.soft.tenants_dir + "/not-a-pod-tenant";
  ASSERT_EQ(mkdir(foreign.c_str(), 0700), 0);
  ASSERT_TRUE(f_.env_.client().Delete(kube::kPods, "default", "deleted", {0, ""}).ok());
  f_.SetPhase("finished", "Succeeded");
  f_.SetPhase("running", "Running");

  TenantReaper reaper(*f_.client_, testing::kNodeName, options_, f_.clock_);
  auto r = reaper.ReconcileOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tenants_seen, 3u);
  EXPECT_EQ(r->tenants_removed, 2u);
  EXPECT_EQ(r->removal_errors, 0u);
  EXPECT_TRUE(HasFiles(kept));
  EXPECT_TRUE(HasNoFiles(deleted));
  EXPECT_TRUE(HasNoFiles(finished));
  EXPECT_TRUE(Exists(foreign));
  // A second pass has nothing to do.
  r = reaper.ReconcileOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tenants_removed, 0u);
}

TEST_F(TenantReaperTest, ApiServerUnreachableRemovesNothing) {
  const std::string tenant = SoftPod("p", 0);
  ASSERT_TRUE(f_.env_.client().Delete(kube::kPods, "default", "p", {0, ""}).ok());
  f_.faulty_.fail = [](const kube::HttpRequest&) { return true; };
  TenantReaper reaper(*f_.client_, testing::kNodeName, options_, f_.clock_);
  EXPECT_EQ(reaper.ReconcileOnce().status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(HasFiles(tenant));
}

TEST_F(TenantReaperTest, LoopRemovesFilesUntilStopped) {
  const std::string tenant = SoftPod("p", 0);
  TenantReaper reaper(*f_.client_, testing::kNodeName, options_, f_.clock_);
  reaper.Start();
  ASSERT_TRUE(f_.env_.client().Delete(kube::kPods, "default", "p", {0, ""}).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!HasNoFiles(tenant) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a condition
  }
  reaper.Stop();
  EXPECT_TRUE(HasNoFiles(tenant));
  reaper.Stop();  // idempotent
}

TEST_F(TenantReaperTest, LockOfALivePendingPodIsKept) {
  PodSpec p;
  p.name = "binding";
  p.alloc = {{Dev(Uuid(k910, 0), k910, 4096, 10)}};
  f_.CreatePod(p);
  TenantReaper reaper(*f_.client_, testing::kNodeName, options_, f_.clock_);
  auto r = reaper.ReconcileOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->lock_released);
  EXPECT_TRUE(f_.LockValue().has_value());
  ASSERT_TRUE(f_.env_.client().Delete(kube::kPods, "default", "binding", {0, ""}).ok());
  r = reaper.ReconcileOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->lock_released);
  EXPECT_FALSE(f_.LockValue().has_value());
}

}  // namespace
}  // namespace npushare::deviceplugin::allocate
