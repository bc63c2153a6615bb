// AllocateService against kube-local (in process, real HTTP): the annotation flow of
// hami-protocol.md §5.3 with npushare's fixes (lock and bind phase after the LAST container,
// per-container RuntimeInfo, deterministic pod choice, a lock naming a deleted pod).
#include "deviceplugin/allocate/allocate_service.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "deviceplugin/allocate/tenant_reaper.h"
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
constexpr char k310[] = "Ascend310P";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const MountSpec* FindMount(const ContainerAllocation& a, const std::string& container_path) {
  for (const MountSpec& m : a.mounts) {
    if (m.container_path == container_path) {
      return &m;
    }
  }
  return nullptr;
}

class HardNodeTest : public ::testing::Test {
 protected:
  AllocateFixture f_{MakeNode(k910, 4, /*soft=*/false)};
};

class SoftNodeTest : public ::testing::Test {
 protected:
  AllocateFixture f_{MakeNode(k910, 4, /*soft=*/true, /*first_phys=*/4, /*vdevice_count=*/64)};
};

TEST_F(HardNodeTest, TwoContainersReleaseTheLockOnlyAfterTheSecond) {
  PodSpec p;
  p.name = "two";
  p.containers = {"a", "b"};
  p.alloc = {{Dev(Uuid(k910, 1), k910, 16384, 25)}, {Dev(Uuid(k910, 2), k910, 32768, 50)}};
  p.temps = {"vir05_1c_16g", "vir10_3c_32g"};
  f_.CreatePod(p);
  ASSERT_TRUE(f_.LockValue().has_value());

  auto first = f_.Allocate(KubeletIds(k910, {1}));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->envs["ASCEND_VISIBLE_DEVICES"], "5");
  EXPECT_EQ(first->envs["ASCEND_VNPU_SPECS"], "vir05_1c_16g");
  EXPECT_TRUE(first->mounts.empty());
  EXPECT_TRUE(f_.LockValue().has_value());  // upstream would have released it here
  EXPECT_EQ(f_.Annotation("two", hami::kBindPhaseAnnotation), "allocating");
  EXPECT_EQ(f_.Annotation("two", hami::DevicesToAllocateKey(k910)),
            ";" + Uuid(k910, 2) + ",Ascend910B3,32768,50:;;");

  auto second = f_.Allocate(KubeletIds(k910, {2}));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->envs["ASCEND_VISIBLE_DEVICES"], "6");
  EXPECT_EQ(second->envs["ASCEND_VNPU_SPECS"], "vir10_3c_32g");
  EXPECT_FALSE(f_.LockValue().has_value());
  EXPECT_EQ(f_.Annotation("two", hami::kBindPhaseAnnotation), "success");
  EXPECT_EQ(f_.Annotation("two", hami::DevicesToAllocateKey(k910)), ";;;;");
  // -devices-allocated is never touched (the scheduler rebuilds usage from it).
  EXPECT_EQ(f_.Annotation("two", hami::DevicesAllocatedKey(k910)), hami::EncodePodDevices(p.alloc));
}

TEST_F(HardNodeTest, InitContainerIsAllocatedFirstAndCounts) {
  PodSpec p;
  p.name = "with-init";
  p.init_containers = {"prepare"};
  p.containers = {"idle", "work"};
  p.alloc = {{Dev(Uuid(k910, 0), k910, 65536, 100)}, {}, {Dev(Uuid(k910, 3), k910, 65536, 100)}};
  f_.CreatePod(p);
  auto init = f_.Allocate(KubeletIds(k910, {0}));
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  EXPECT_EQ(init->envs["ASCEND_VISIBLE_DEVICES"], "4");
  EXPECT_EQ(init->envs.count("ASCEND_VNPU_SPECS"), 0u);  // whole chip
  EXPECT_TRUE(f_.LockValue().has_value());
  auto work = f_.Allocate(KubeletIds(k910, {3}));
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  EXPECT_EQ(work->envs["ASCEND_VISIBLE_DEVICES"], "7");
  EXPECT_FALSE(f_.LockValue().has_value());
  EXPECT_EQ(f_.Annotation("with-init", hami::kBindPhaseAnnotation), "success");
}

// Upstream bug §9.10: two containers on one chip with different templates each keep their own.
TEST_F(HardNodeTest, Issue10RuntimeInfoIsLookedUpPerContainer) {
  PodSpec p;
  p.name = "same-chip";
  p.containers = {"small", "big"};
  p.alloc = {{Dev(Uuid(k910, 0), k910, 16384, 25)}, {Dev(Uuid(k910, 0), k910, 32768, 50)}};
  p.temps = {"vir05_1c_16g", "vir10_3c_32g"};
  f_.CreatePod(p);
  auto small = f_.Allocate(KubeletIds(k910, {0}));
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->envs["ASCEND_VNPU_SPECS"], "vir05_1c_16g");  // upstream: vir10_3c_32g
  auto big = f_.Allocate(KubeletIds(k910, {0}));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->envs["ASCEND_VNPU_SPECS"], "vir10_3c_32g");
}

TEST(Ascend310PTest, TemplatesOf310PAreHandedToTheRuntime) {
  AllocateFixture f(MakeNode(k310, 2, /*soft=*/false, /*first_phys=*/0, /*vdevice_count=*/7));
  PodSpec p;
  p.name = "infer";
  p.containers = {"a", "b"};
  p.alloc = {{Dev(Uuid(k310, 1), k310, 3072, 0)}, {Dev(Uuid(k310, 1), k310, 12288, 0)}};
  p.temps = {"vir01", "vir04"};
  f.CreatePod(p);
  auto a = f.Allocate({Uuid(k310, 1) + "-6"});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->envs["ASCEND_VISIBLE_DEVICES"], "1");
  EXPECT_EQ(a->envs["ASCEND_VNPU_SPECS"], "vir01");
  auto b = f.Allocate({Uuid(k310, 0) + "-0"});  // kubelet's pick does not decide the chip
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->envs["ASCEND_VISIBLE_DEVICES"], "1");
  EXPECT_EQ(b->envs["ASCEND_VNPU_SPECS"], "vir04");
}

TEST_F(SoftNodeTest, TwoChipSoftSliceWritesTenantFilesAndMounts) {
  PodSpec p;
  p.name = "vllm-tp2";
  p.soft = true;
  p.alloc = {{Dev(Uuid(k910, 1), k910, 20000, 30), Dev(Uuid(k910, 3), k910, 20000, 30)}};
  const std::string uid = f_.CreatePod(p);
  auto r = f_.Allocate(KubeletIds(k910, {1, 3}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string tenant = uid + "_main";
  EXPECT_EQ(r->envs["ASCEND_VISIBLE_DEVICES"], "5,7");
  EXPECT_EQ(r->envs["NPUSHARE_VNPU_MEM_MB"], "20000,20000");
  EXPECT_EQ(r->envs["NPUSHARE_VNPU_CORE_PCT"], "30,30");
  EXPECT_EQ(r->envs["NPU_MEM_QUOTA"], "20000");
  EXPECT_EQ(r->envs["NPU_PRIORITY"], "30");
  EXPECT_EQ(r->envs["NPUSHARE_VNPU_STATE_DIR"], "/run/npushare/state");
  EXPECT_EQ(r->envs["NPUSHARE_VNPU_ARBITER_DIR"], "/run/npushare/arbiter");
  EXPECT_EQ(r->envs.count("ASCEND_VNPU_SPECS"), 0u);

  const auto& soft = f_.options_.soft;
  const MountSpec* preload = FindMount(*r, "/etc/ld.so.preload");
  ASSERT_NE(preload, nullptr);
  EXPECT_TRUE(preload->read_only);
  EXPECT_EQ(ReadFile(preload->host_path), soft.container_libvnpu_path + "\n");
  const MountSpec* lib = FindMount(*r, soft.container_libvnpu_path);
  ASSERT_NE(lib, nullptr);
  EXPECT_EQ(lib->host_path, soft.libvnpu_path);
  EXPECT_TRUE(lib->read_only);
  const MountSpec* quota = FindMount(*r, "/run/npushare/vnpu");
  ASSERT_NE(quota, nullptr);
  EXPECT_TRUE(quota->read_only);
  EXPECT_EQ(quota->host_path, soft.quota_root + "/" + tenant);
  EXPECT_EQ(ReadFile(quota->host_path + "/quota"), "20000,20000\n");
  const MountSpec* grants = FindMount(*r, "/run/npushare/arbiter");
  ASSERT_NE(grants, nullptr);
  EXPECT_TRUE(grants->read_only);
  EXPECT_EQ(grants->host_path, soft.grant_dir);
  const MountSpec* state = FindMount(*r, "/run/npushare/state");
  ASSERT_NE(state, nullptr);
  EXPECT_FALSE(state->read_only);
  EXPECT_EQ(state->host_path, soft.tenants_dir + "/" + tenant);
  struct stat st;
  ASSERT_EQ(lstat(state->host_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);  // owner-only, never 0777
  const std::string share = ReadFile(soft.shares_dir + "/" + tenant + ".share");
  EXPECT_NE(share.find("0 30 chip=5"), std::string::npos) << share;
  EXPECT_NE(share.find("1 30 chip=7"), std::string::npos) << share;
  EXPECT_FALSE(f_.LockValue().has_value());
}

TEST_F(SoftNodeTest, StateDirectoryBelongsToTheContainersUser) {
  PodSpec p;
  p.name = "nonroot";
  p.soft = true;
  p.alloc = {{Dev(Uuid(k910, 0), k910, 4096, 0)}};
  // runAsUser on the pod, runAsGroup on the container.
  p.pod_security_context = {{"runAsUser", 1234}};
  p.container_security_context = {{"runAsGroup", 5678}};
  const std::string uid = f_.CreatePod(p);
  auto r = f_.Allocate(KubeletIds(k910, {0}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->envs.count("NPU_PRIORITY"), 0u);  // core 0 is not serialised, as upstream
  struct stat st;
  ASSERT_EQ(lstat((f_.options_.soft.tenants_dir + "/" + uid + "_main").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
}

TEST_F(SoftNodeTest, HardAndSoftPodsShareOneNode) {
  PodSpec hard;
  hard.name = "hard";
  hard.alloc = {{Dev(Uuid(k910, 0), k910, 16384, 25)}};
  hard.temps = {"vir05_1c_16g"};
  f_.CreatePod(hard);
  auto h = f_.Allocate(KubeletIds(k910, {0}));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->envs["ASCEND_VNPU_SPECS"], "vir05_1c_16g");
  EXPECT_TRUE(h->mounts.empty());

  PodSpec soft;
  soft.name = "soft";
  soft.soft = true;
  soft.alloc = {{Dev(Uuid(k910, 0), k910, 8192, 10)}};
  const std::string uid = f_.CreatePod(soft);
  auto s = f_.Allocate(KubeletIds(k910, {0}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->envs["ASCEND_VISIBLE_DEVICES"], "4");
  EXPECT_EQ(s->envs["NPUSHARE_VNPU_MEM_MB"], "8192");
  EXPECT_EQ(s->mounts.size(), 5u);
  EXPECT_EQ(ReadFile(f_.options_.soft.quota_root + "/" + uid + "_main/quota"), "8192\n");
}

TEST_F(HardNodeTest, SoftPodOnAHardNodeFailsClearly) {
  PodSpec p;
  p.name = "soft-on-hard";
  p.soft = true;
  p.alloc = {{Dev(Uuid(k910, 0), k910, 4096, 10)}};
  f_.CreatePod(p);
  auto r = f_.Allocate(KubeletIds(k910, {0}));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(f_.Annotation("soft-on-hard", hami::kBindPhaseAnnotation), "failed");
  EXPECT_FALSE(f_.LockValue().has_value());
}

TEST_F(HardNodeTest, MalformedAnnotationsFailClearlyAndReleaseTheLock) {
  struct Case {
    const char* name;
    std::string key;
    nlohmann::json value;
    StatusCode code;
  };
  const std::vector<Case> cases = {
      {"garbage-alloc", hami::DevicesToAllocateKey(k910), "u,T,notanumber,1:;",
       StatusCode::kInvalidArgument},
      {"missing-alloc", hami::DevicesToAllocateKey(k910), nullptr, StatusCode::kInvalidArgument},
      {"garbage-runtime", hami::RuntimeInfoKey(k910), "{not json", StatusCode::kInvalidArgument},
      {"missing-runtime", hami::RuntimeInfoKey(k910), nullptr, StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    PodSpec p;
    p.name = c.name;
    p.alloc = {{Dev(Uuid(k910, 0), k910, 16384, 25)}};
    f_.CreatePod(p);
    f_.SetAnnotation(c.name, c.key, c.value);
    auto r = f_.Allocate(KubeletIds(k910, {0}));
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_EQ(f_.Annotation(c.name, hami::kBindPhaseAnnotation), "failed") << c.name;
    EXPECT_FALSE(f_.LockValue().has_value()) << c.name;
  }
}

TEST_F(HardNodeTest, DeviceCountMismatchFails) {
  PodSpec p;
  p.name = "count";
  p.alloc = {{Dev(Uuid(k910, 0), k910, 65536, 100), Dev(Uuid(k910, 1), k910, 65536, 100)}};
  f_.CreatePod(p);
  auto r = f_.Allocate(KubeletIds(k910, {0}));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f_.Annotation("count", hami::kBindPhaseAnnotation), "failed");
  EXPECT_FALSE(f_.LockValue().has_value());
}

TEST_F(HardNodeTest, UnknownDeviceInTheAnnotationFails) {
  PodSpec p;
  p.name = "elsewhere";
  p.alloc = {{Dev("chip-of-another-node", k910, 65536, 100)}};
  f_.CreatePod(p);
  auto r = f_.Allocate(KubeletIds(k910, {0}));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f_.Annotation("elsewhere", hami::kBindPhaseAnnotation), "failed");
  EXPECT_FALSE(f_.LockValue().has_value());
}

TEST_F(HardNodeTest, WrongResourceFailsWithoutTouchingThePod) {
  PodSpec p;
  p.name = "fine";
  p.alloc = {{Dev(Uuid(k910, 0), k910, 65536, 100)}};
  f_.CreatePod(p);
  EXPECT_EQ(f_.service_->AllocateContainer("huawei.com/Ascend310P", KubeletIds(k910, {0}))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(f_.Annotation("fine", hami::kBindPhaseAnnotation), "allocating");
  EXPECT_TRUE(f_.LockValue().has_value());
  EXPECT_TRUE(f_.Allocate(KubeletIds(k910, {0})).ok());
}

// Kubelet rejects a pod whose Allocate fails, so an ID we never advertised fails the pod
// like any other inconsistency (phase failed, lock released).
TEST_F(HardNodeTest, UnknownKubeletIdFailsThePod) {
  for (const std::string& bad : {std::string("not-ours-0"), Uuid(k910, 0)}) {
    PodSpec p;
    p.name = "kubelet-id-" + std::to_string(bad.size());
    p.alloc = {{Dev(Uuid(k910, 0), k910, 65536, 100)}};
    f_.CreatePod(p);
    EXPECT_EQ(f_.Allocate({bad}).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(f_.Annotation(p.name, hami::kBindPhaseAnnotation), "failed");
    EXPECT_FALSE(f_.LockValue().has_value());
  }
}

TEST_F(HardNodeTest, VanishedPodIsNotFound) {
  PodSpec p;
  p.name = "vanished";
  p.alloc = {{Dev(Uuid(k910, 0), k910, 65536, 100)}};
  f_.CreatePod(p);
  ASSERT_TRUE(f_.env_.client().Delete(kube::kPods, "default", "vanished", {0, ""}).ok());
  auto r = f_.Allocate(KubeletIds(k910, {0}));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

// Upstream bug §9.14: a lock naming a deleted pod made Allocate fail; we fall back to the list.
TEST_F(HardNodeTest, Issue10LockNamingADeletedPodFallsBackToTheList) {
  PodSpec gone;
  gone.name = "gone";
  gone.alloc = {{Dev(Uuid(k910, 0), k910, 65536, 100)}};
  f_.CreatePod(gone);
  ASSERT_TRUE(f_.env_.client().Delete(kube::kPods, "default", "gone", {0, ""}).ok());
  PodSpec waiting;
  waiting.name = "waiting";
  waiting.alloc = {{Dev(Uuid(k910, 2), k910, 65536, 100)}};
  f_.CreatePod(waiting, /*lock=*/false);  // e.g. bound by a scheduler that skipped the lock
  auto r = f_.Allocate(KubeletIds(k910, {2}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->envs["ASCEND_VISIBLE_DEVICES"], "6");
  EXPECT_EQ(f_.Annotation("waiting", hami::kBindPhaseAnnotation), "success");
  EXPECT_TRUE(f_.LockValue().has_value());  // not ours: "gone"'s stale lock is left alone
}

TEST_F(HardNodeTest, PendingPodsAreTakenOldestBindTimeFirst) {
  for (auto [name, time] : {std::pair{"late", "1714557900"}, std::pair{"early", "1714557800"},
                            std::pair{"b-same", "1714557850"}, std::pair{"a-same", "1714557850"}}) {
    PodSpec p;
    p.name = name;
    p.bind_time = time;
    p.alloc = {{Dev(Uuid(k910, 0), k910, 65536, 100)}};
    f_.CreatePod(p, /*lock=*/false);
  }
  for (const char* expected : {"early", "a-same", "b-same", "late"}) {
    ASSERT_TRUE(f_.Allocate(KubeletIds(k910, {0})).ok());
    EXPECT_EQ(f_.Annotation(expected, hami::kBindPhaseAnnotation), "success") << expected;
  }
  EXPECT_EQ(f_.Allocate(KubeletIds(k910, {0})).status().code(), StatusCode::kNotFound);
}

TEST_F(HardNodeTest, ApiServerDownBeforeThePodIsKnownFailsClearly) {
  PodSpec p;
  p.name = "blind";
  p.alloc = {{Dev(Uuid(k910, 0), k910, 65536, 100)}};
  f_.CreatePod(p);
  f_.faulty_.fail = [](const kube::HttpRequest&) { return true; };
  auto r = f_.Allocate(KubeletIds(k910, {0}));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  f_.faulty_.fail = nullptr;
  // The scheduler's lock is still there; kubelet rejects the pod (phase Failed), and the
  // reaper then releases the lock: it is not left held for the lock timeout.
  EXPECT_TRUE(f_.LockValue().has_value());
  f_.SetPhase("blind", "Failed");
  TenantReaperOptions ro;
  ro.soft = f_.options_.soft;
  TenantReaper reaper(*f_.client_, testing::kNodeName, ro, f_.clock_);
  auto reaped = reaper.ReconcileOnce();
  ASSERT_TRUE(reaped.ok()) << reaped.status().ToString();
  EXPECT_TRUE(reaped->lock_released);
  EXPECT_FALSE(f_.LockValue().has_value());
}

TEST_F(HardNodeTest, ApiServerDownWhilePatchingThePodStillReleasesTheLock) {
  PodSpec p;
  p.name = "half";
  p.alloc = {{Dev(Uuid(k910, 0), k910, 65536, 100)}};
  f_.CreatePod(p);
  // Pod writes fail (the API server goes away for them); node writes still work.
  f_.faulty_.fail = [](const kube::HttpRequest& r) {
    return r.method == "PATCH" && r.target.find("/pods/") != std::string::npos;
  };
  auto r = f_.Allocate(KubeletIds(k910, {0}));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_GT(f_.faulty_.failed(), 0);
  EXPECT_FALSE(f_.LockValue().has_value());
  f_.faulty_.fail = nullptr;
  // Nothing was consumed: the annotation still lists the container.
  EXPECT_EQ(f_.Annotation("half", hami::DevicesToAllocateKey(k910)),
            hami::EncodePodDevices(p.alloc));
}

TEST_F(HardNodeTest, PreferredAllocationSteersKubeletToTheScheduledChip) {
  PodSpec p;
  p.name = "pref";
  p.alloc = {{Dev(Uuid(k910, 2), k910, 16384, 25)}};
  f_.CreatePod(p);
  std::vector<std::string> available;
  for (int c = 0; c < 4; ++c) {
    for (int k = 3; k >= 0; --k) {
      available.push_back(Uuid(k910, c) + "-" + std::to_string(k));
    }
  }
  auto pick = f_.service_->PreferredAllocation(f_.resource(), available, {}, 1);
  EXPECT_EQ(pick, std::vector<std::string>{Uuid(k910, 2) + "-0"});
  // No pod: sorted fill; never an error.
  f_.faulty_.fail = [](const kube::HttpRequest&) { return true; };
  pick = f_.service_->PreferredAllocation(f_.resource(), available, {}, 2);
  EXPECT_EQ(pick, (std::vector<std::string>{Uuid(k910, 0) + "-0", Uuid(k910, 0) + "-1"}));
}

}  // namespace
}  // namespace npushare::deviceplugin::allocate
