// Issue 10, integration over the real wire: the npushare-device-plugin binary on npu-sim,
// kube-local (REST) and the kubelet stand-in (gRPC), plus npushare-arbiter for soft slicing.
// Pods are created the way HAMi's scheduler leaves them after Bind (allocation annotations
// built with the hami codecs, bind-phase allocating, the node lock taken with NodeLockClient);
// the stand-in then calls Allocate per container as kubelet does.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hami/node_register.h"
#include "hami/pod_devices.h"
#include "hami/runtime_info.h"
#include "hami/types.h"
#include "integration/deviceplugin/e2e/daemon_fixture.h"
#include "kube/clock.h"
#include "kube/node_lock_client.h"
#include "kube/objects.h"
#include "softslice/shared_state.h"

namespace npushare::deviceplugin::e2e {
namespace {

using kubelet_sim::KubeletState;
using nlohmann::json;
using sim::testing::BinPath;

// PodPlan: a pod as the scheduler bound it. `alloc` has one entry per container, init
// containers first; `temps` one template per device in flattened order ("" = whole chip).
struct PodPlan {
  std::string name{};
  std::vector<std::string> init_containers{};
  std::vector<std::string> containers = {"main"};
  hami::PodDevices alloc{};
  std::vector<std::string> temps{};
  bool soft = false;
  // to_allocate: overrides the devices-to-allocate text (malformed-annotation tests).
  std::optional<std::string> to_allocate{};
  // runtime_info: overrides the runtime-info annotation text.
  std::optional<std::string> runtime_info{};
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class E2eTest : public DaemonFixture {
 protected:
  // Chips: the node-register annotation of `cw` once the daemon has written it (uuid, index).
  std::vector<hami::DeviceInfo> Chips(const std::string& cw) {
    const std::string key = "hami.io/node-register-" + cw;
    EXPECT_TRUE(Eventually([&] { return NodeAnnotations().count(key) == 1; })) << key;
    auto decoded = hami::DecodeNodeRegister(NodeAnnotations()[key], cw);
    EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
    return decoded.ok() ? *decoded : std::vector<hami::DeviceInfo>{};
  }

  // CreateBoundPod: takes the node lock for the pod (as the scheduler's Bind does) and creates
  // it on this node with the scheduler's annotations for `cw`. Returns its UID.
  std::string CreateBoundPod(const PodPlan& plan, const std::string& cw) {
    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", plan.name}, {"namespace", "default"}}},
                {"spec", {{"nodeName", kNode}}}};
    for (const auto& c : plan.init_containers) {
      pod["spec"]["initContainers"].push_back({{"name", c}, {"image", "busybox"}});
    }
    for (const auto& c : plan.containers) {
      pod["spec"]["containers"].push_back({{"name", c}, {"image", "busybox"}});
    }
    std::vector<hami::RuntimeInfoEntry> rt;
    size_t k = 0;
    for (const auto& c : plan.alloc) {
      for (const auto& d : c) {
        hami::RuntimeInfoEntry e;
        e.uuid = d.uuid;
        e.temp = k < plan.temps.size() ? plan.temps[k] : "";
        e.memory = d.usedmem;
        e.core = d.usedcores;
        rt.push_back(e);
        ++k;
      }
    }
    const std::string text = hami::EncodePodDevices(plan.alloc);
    json& a = pod["metadata"]["annotations"];
    a[hami::DevicesToAllocateKey(cw)] = plan.to_allocate ? *plan.to_allocate : text;
    a[hami::DevicesAllocatedKey(cw)] = text;
    a[hami::RuntimeInfoKey(cw)] =
        plan.runtime_info ? *plan.runtime_info : hami::EncodeRuntimeInfo(rt);
    a[hami::kAssignedNodeAnnotation] = kNode;
    a[hami::kBindTimeAnnotation] = "1714557600";
    a[hami::kBindPhaseAnnotation] = "allocating";
    if (plan.soft) {
      a[hami::kVnpuModeAnnotation] = hami::kVnpuModeHamiCore;
    }
    kube::NodeLockClient locks(cluster_.client(), kube::RealClock());
    Status locked = locks.Acquire(kNode, {"default", plan.name});
    EXPECT_TRUE(locked.ok()) << locked.ToString();
    auto created = cluster_.client().Create(kube::kPods, "default", pod);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? kube::StringField((*created)["metadata"], "uid") : "";
  }

  std::string Annotation(const std::string& pod, const std::string& key) {
    auto obj = cluster_.client().Get(kube::kPods, "default", pod);
    EXPECT_TRUE(obj.ok()) << obj.status().ToString();
    if (!obj.ok()) {
      return "<no pod>";
    }
    auto meta = kube::ParseObjectMeta(*obj);
    auto it = meta->annotations.find(key);
    return it == meta->annotations.end() ? "<absent>" : it->second;
  }
  std::string BindPhase(const std::string& pod) {
    return Annotation(pod, hami::kBindPhaseAnnotation);
  }
  // LockHolder: the node lock's value, "" when nobody holds it.
  std::string Lock() {
    auto a = NodeAnnotations();
    auto it = a.find(hami::kNodeLockAnnotation);
    return it == a.end() ? "" : it->second;
  }

  static hami::ContainerDevice Dev(const std::string& uuid, const std::string& cw, int32_t mem,
                                   int32_t core) {
    return hami::ContainerDevice{uuid, cw, mem, core};
  }

  // StartArbiter: npushare-arbiter on the daemon's grant/tenants/shares directories; waits for
  // its READY line.
  void StartArbiter() {
    arbiter_ = sim::testing::Spawn(
        {BinPath("npushare-arbiter"), "--grant-dir", root_.path() + "/arbiter", "--tenants-dir",
         root_.path() + "/tenants", "--shares-dir", root_.path() + "/shares"},
        {.env = Env(), .pre_exec = {}});
    ASSERT_GT(arbiter_.pid, 0);
    close(arbiter_.in_fd);
    ASSERT_EQ(sim::testing::ReadLine(arbiter_.out_fd), "READY");
  }
  bool ArbiterAlive() const {
    int status = 0;
    return arbiter_.pid > 0 && waitpid(arbiter_.pid, &status, WNOHANG) == 0;
  }

  void TearDown() override {
    if (arbiter_.pid > 0) {
      kill(arbiter_.pid, SIGKILL);
      sim::testing::Wait(arbiter_.pid);
      close(arbiter_.out_fd);
    }
    DaemonFixture::TearDown();
  }

  // SoftFlags: --libvnpu (the built libvnpu.so) and --ld-so-preload (in the temp dir).
  void UseSoftSlicingFlags() {
    extra_args_ = {"--libvnpu", std::string(NPUSHARE_BIN_DIR) + "/../lib/libvnpu.so",
                   "--ld-so-preload", root_.path() + "/ld.so.preload"};
  }

  std::string Tenant(const std::string& uid, const std::string& container) const {
    return uid + "_" + container;
  }

  // ExpectTenantFiles: the share file, quota file and state directory of `tenant` exist, the
  // quota file names every memory grant in `mem_mb`.
  void ExpectTenantFiles(const std::string& tenant, const std::vector<int>& mem_mb) {
    const std::string share = root_.path() + "/shares/" + tenant + ".share";
    const std::string quota = root_.path() + "/quota/" + tenant + "/quota";
    EXPECT_TRUE(std::filesystem::is_regular_file(share)) << share;
    ASSERT_TRUE(std::filesystem::is_regular_file(quota)) << quota;
    const std::string q = ReadFile(quota);
    for (int m : mem_mb) {
      EXPECT_NE(q.find(std::to_string(m)), std::string::npos) << q;
    }
    struct stat st;
    const std::string state = root_.path() + "/tenants/" + tenant;
    ASSERT_EQ(stat(state.c_str(), &st), 0) << state;
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0700u);
  }

  sim::testing::Child arbiter_;
};

constexpr const char* k910 = "Ascend910B3";
constexpr const char* k910Resource = "huawei.com/Ascend910B3";

// A 910B3 node with soft slicing enabled in the device config (hamiVnpuCore: true).
class E2eSoftNodeTest : public E2eTest {
 protected:
  DaemonNode Node() const override { return {.golden = "node_910b3.yaml", .soft = true}; }
  void SetUp() override {
    E2eTest::SetUp();
    UseSoftSlicingFlags();
  }
  static constexpr size_t kHealthy = 8 * size_t{VNPU_MAX_TENANTS};
};

class E2e310P3NodeTest : public E2eTest {
 protected:
  DaemonNode Node() const override { return {.golden = "node_310p3.yaml"}; }
};

TEST_F(E2eTest, TwoContainerPodFinishesOnlyAfterTheSecondContainer) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, 8 * 4, kWait));
  auto chips = Chips(k910);
  ASSERT_EQ(chips.size(), 8u);
  PodPlan plan{.name = "two", .containers = {"a", "b"}};
  plan.alloc = {{Dev(chips[1].id, k910, 16384, 25)}, {Dev(chips[3].id, k910, 32768, 50)}};
  plan.temps = {"vir05_1c_16g", "vir10_3c_32g"};
  CreateBoundPod(plan, k910);
  ASSERT_NE(Lock().find("two"), std::string::npos) << Lock();

  auto a = kubelet_->Allocate({.owner = "two/a", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[1].index));
  EXPECT_EQ(a->response.envs["ASCEND_VNPU_SPECS"], "vir05_1c_16g");
  // Half done: still allocating, the lock still held, the first entry consumed.
  EXPECT_EQ(BindPhase("two"), "allocating");
  EXPECT_NE(Lock().find("two"), std::string::npos) << Lock();
  auto pending = hami::DecodePodDevices(Annotation("two", hami::DevicesToAllocateKey(k910)));
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  std::vector<std::string> left;
  for (const auto& c : *pending) {
    for (const auto& d : c) {
      left.push_back(d.uuid);
    }
  }
  EXPECT_EQ(left, std::vector<std::string>{chips[3].id});
  auto popped = hami::PopFirstNonEmptyContainer(*pending);
  ASSERT_TRUE(popped.ok()) << popped.status().ToString();
  EXPECT_EQ(popped->container_index, 1u);  // container "b" is next

  auto b = kubelet_->Allocate({.owner = "two/b", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[3].index));
  EXPECT_EQ(b->response.envs["ASCEND_VNPU_SPECS"], "vir10_3c_32g");
  EXPECT_EQ(BindPhase("two"), "success");
  EXPECT_EQ(Lock(), "");
  EXPECT_EQ(kubelet_->State().resources[k910Resource].allocated.size(), 2u);
}

TEST_F(E2eTest, InitContainerThenAppContainer) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, 8 * 4, kWait));
  auto chips = Chips(k910);
  ASSERT_EQ(chips.size(), 8u);
  PodPlan plan{.name = "withinit", .init_containers = {"setup"}, .containers = {"main"}};
  plan.alloc = {{Dev(chips[4].id, k910, 16384, 25)}, {Dev(chips[5].id, k910, 16384, 25)}};
  plan.temps = {"vir05_1c_16g", "vir05_1c_16g"};
  CreateBoundPod(plan, k910);

  auto init =
      kubelet_->Allocate({.owner = "withinit/setup", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  EXPECT_EQ(init->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[4].index));
  EXPECT_EQ(BindPhase("withinit"), "allocating");
  EXPECT_NE(Lock(), "");
  // kubelet offers the init container's devices to the app container for reuse.
  auto app = kubelet_->Allocate({.owner = "withinit/main",
                                 .resource_name = k910Resource,
                                 .count = 1,
                                 .reusable = init->device_ids});
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  EXPECT_EQ(app->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[5].index));
  EXPECT_EQ(app->response.envs["ASCEND_VNPU_SPECS"], "vir05_1c_16g");
  EXPECT_EQ(BindPhase("withinit"), "success");
  EXPECT_EQ(Lock(), "");
}

TEST_F(E2eTest, WholeChipOn910B3) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, 8 * 4, kWait));
  auto chips = Chips(k910);
  ASSERT_EQ(chips.size(), 8u);
  EXPECT_EQ(NodeAnnotations()["hami-vnpu-core"], "false");
  PodPlan plan{.name = "whole"};
  plan.alloc = {{Dev(chips[6].id, k910, 65536, 100)}};
  plan.temps = {""};
  CreateBoundPod(plan, k910);
  auto g = kubelet_->Allocate({.owner = "whole/main", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[6].index));
  EXPECT_EQ(g->response.envs.count("ASCEND_VNPU_SPECS"), 0u);
  EXPECT_TRUE(g->response.mounts.empty());
  EXPECT_EQ(BindPhase("whole"), "success");
  EXPECT_EQ(Lock(), "");
}

TEST_F(E2e310P3NodeTest, Vir01SliceOnA310P3Node) {
  StartDaemon();
  // Two cards (NPU ids 0 and 32), 7 slots each (21527 / 3072); card 32 reports a warning.
  ASSERT_TRUE(kubelet_->WaitForHealthy("huawei.com/Ascend310P", 7, kWait));
  EXPECT_EQ(kubelet_->State().resources["huawei.com/Ascend310P"].capacity(), 14u);
  auto chips = Chips("Ascend310P");
  ASSERT_EQ(chips.size(), 2u);
  EXPECT_TRUE(chips[0].health);
  EXPECT_FALSE(chips[1].health);
  PodPlan plan{.name = "infer"};
  plan.alloc = {{Dev(chips[0].id, "Ascend310P", 3072, 12)}};
  plan.temps = {"vir01"};
  CreateBoundPod(plan, "Ascend310P");
  auto g = kubelet_->Allocate(
      {.owner = "infer/main", .resource_name = "huawei.com/Ascend310P", .count = 1});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->response.envs["ASCEND_VISIBLE_DEVICES"], "0");
  EXPECT_EQ(g->response.envs["ASCEND_VNPU_SPECS"], "vir01");
  EXPECT_EQ(BindPhase("infer"), "success");
  EXPECT_EQ(Lock(), "");
}

// vLLM with tensor parallelism 2: one container, two chips, soft-sliced.
TEST_F(E2eSoftNodeTest, TwoChipSoftSliceWritesTenantFilesAndMounts) {
  StartArbiter();
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, kHealthy, kWait));
  ASSERT_TRUE(Eventually([&] { return NodeAnnotations()["hami-vnpu-core"] == "true"; }));
  auto chips = Chips(k910);
  ASSERT_EQ(chips.size(), 8u);
  PodPlan plan{.name = "vllm", .soft = true};
  plan.alloc = {{Dev(chips[2].id, k910, 24576, 40), Dev(chips[5].id, k910, 24576, 40)}};
  const std::string uid = CreateBoundPod(plan, k910);
  ASSERT_FALSE(uid.empty());

  auto g = kubelet_->Allocate({.owner = "vllm/main", .resource_name = k910Resource, .count = 2});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto& envs = g->response.envs;
  EXPECT_EQ(envs["ASCEND_VISIBLE_DEVICES"],
            std::to_string(chips[2].index) + "," + std::to_string(chips[5].index));
  EXPECT_EQ(envs["NPUSHARE_VNPU_MEM_MB"], "24576,24576");
  EXPECT_EQ(envs["NPUSHARE_VNPU_CORE_PCT"], "40,40");
  EXPECT_EQ(envs.count("ASCEND_VNPU_SPECS"), 0u);  // no hard vNPU on a soft slice
  const std::string tenant = Tenant(uid, "main");
  std::map<std::string, MountSpec> mounts;
  for (const auto& m : g->response.mounts) {
    mounts[m.container_path] = m;
  }
  ASSERT_EQ(mounts.count("/etc/ld.so.preload"), 1u);
  EXPECT_EQ(mounts["/etc/ld.so.preload"].host_path, root_.path() + "/ld.so.preload");
  EXPECT_TRUE(mounts["/etc/ld.so.preload"].read_only);
  ASSERT_EQ(mounts.count("/run/npushare/vnpu"), 1u);
  EXPECT_EQ(mounts["/run/npushare/vnpu"].host_path, root_.path() + "/quota/" + tenant);
  EXPECT_TRUE(mounts["/run/npushare/vnpu"].read_only);
  ASSERT_EQ(mounts.count(envs["NPUSHARE_VNPU_ARBITER_DIR"]), 1u);
  EXPECT_EQ(mounts[envs["NPUSHARE_VNPU_ARBITER_DIR"]].host_path, root_.path() + "/arbiter");
  EXPECT_TRUE(mounts[envs["NPUSHARE_VNPU_ARBITER_DIR"]].read_only);
  ASSERT_EQ(mounts.count(envs["NPUSHARE_VNPU_STATE_DIR"]), 1u);
  EXPECT_EQ(mounts[envs["NPUSHARE_VNPU_STATE_DIR"]].host_path, root_.path() + "/tenants/" + tenant);
  EXPECT_FALSE(mounts[envs["NPUSHARE_VNPU_STATE_DIR"]].read_only);
  bool libvnpu = false;
  for (const auto& [path, m] : mounts) {
    libvnpu = libvnpu || (m.host_path.ends_with("/libvnpu.so") && m.read_only);
  }
  EXPECT_TRUE(libvnpu);

  // The files the mounts point at, and the preload line naming the container's libvnpu.so.
  ExpectTenantFiles(tenant, {24576});
  const std::string preload = ReadFile(root_.path() + "/ld.so.preload");
  ASSERT_FALSE(preload.empty());
  EXPECT_EQ(mounts.count(preload.substr(0, preload.find('\n'))), 1u) << preload;
  const std::string share = ReadFile(root_.path() + "/shares/" + tenant + ".share");
  EXPECT_NE(share.find("40"), std::string::npos) << share;
  EXPECT_EQ(BindPhase("vllm"), "success");
  EXPECT_EQ(Lock(), "");
  // The arbiter serves the grant directory the containers mount, and survived the new tenant.
  EXPECT_FALSE(std::filesystem::is_empty(root_.path() + "/arbiter"));
  EXPECT_TRUE(ArbiterAlive());
}

TEST_F(E2eSoftNodeTest, HardAndSoftPodsOnOneNode) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, kHealthy, kWait));
  auto chips = Chips(k910);
  ASSERT_EQ(chips.size(), 8u);
  PodPlan hard{.name = "hard"};
  hard.alloc = {{Dev(chips[0].id, k910, 16384, 25)}};
  hard.temps = {"vir05_1c_16g"};
  CreateBoundPod(hard, k910);
  auto h = kubelet_->Allocate({.owner = "hard/main", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[0].index));
  EXPECT_EQ(h->response.envs["ASCEND_VNPU_SPECS"], "vir05_1c_16g");
  EXPECT_TRUE(h->response.mounts.empty());
  EXPECT_EQ(h->response.envs.count("NPUSHARE_VNPU_MEM_MB"), 0u);
  EXPECT_EQ(BindPhase("hard"), "success");

  PodPlan soft{.name = "soft", .soft = true};
  soft.alloc = {{Dev(chips[1].id, k910, 8192, 30)}};
  const std::string uid = CreateBoundPod(soft, k910);
  auto s = kubelet_->Allocate({.owner = "soft/main", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[1].index));
  EXPECT_EQ(s->response.envs["NPUSHARE_VNPU_MEM_MB"], "8192");
  EXPECT_EQ(s->response.mounts.size(), 5u);
  EXPECT_EQ(BindPhase("soft"), "success");
  EXPECT_EQ(Lock(), "");
  ExpectTenantFiles(Tenant(uid, "main"), {8192});
  // Only the soft pod is a tenant.
  size_t shares = 0;
  for (const auto& e : std::filesystem::directory_iterator(root_.path() + "/shares")) {
    shares += e.path().extension() == ".share" ? 1 : 0;
  }
  EXPECT_EQ(shares, 1u);
}

TEST_F(E2eSoftNodeTest, PluginRestartKeepsRunningTenantsAndAllocatesAgain) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, kHealthy, kWait));
  auto chips = Chips(k910);
  ASSERT_EQ(chips.size(), 8u);
  PodPlan first{.name = "first", .soft = true};
  first.alloc = {{Dev(chips[0].id, k910, 4096, 20)}};
  const std::string uid1 = CreateBoundPod(first, k910);
  auto g1 = kubelet_->Allocate({.owner = "first/main", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(g1.ok()) << g1.status().ToString();
  ExpectTenantFiles(Tenant(uid1, "main"), {4096});

  EXPECT_EQ(StopDaemon(), 0);
  ASSERT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) { return !s.resources.at(k910Resource).connected; }, kWait));
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitFor(
      [](const KubeletState& s) {
        size_t ok = 0;
        for (const auto& r : s.registrations) {
          ok += r.resource_name == k910Resource && r.result.ok() ? 1 : 0;
        }
        return ok == 2;
      },
      kWait));
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, kHealthy, kWait));
  // The running pod's tenant survived the restart (its pod still exists on this node).
  ExpectTenantFiles(Tenant(uid1, "main"), {4096});
  // kubelet kept the first container's devices.
  EXPECT_EQ(kubelet_->State().resources[k910Resource].allocated.size(), 1u);

  PodPlan second{.name = "second", .soft = true};
  second.alloc = {{Dev(chips[0].id, k910, 8192, 30)}};
  const std::string uid2 = CreateBoundPod(second, k910);
  auto g2 = kubelet_->Allocate({.owner = "second/main", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(g2.ok()) << g2.status().ToString();
  EXPECT_EQ(g2->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[0].index));
  ExpectTenantFiles(Tenant(uid2, "main"), {8192});
  ExpectTenantFiles(Tenant(uid1, "main"), {4096});
  EXPECT_EQ(BindPhase("second"), "success");
  EXPECT_EQ(Lock(), "");
}

TEST_F(E2eTest, ApiServerDownDuringAllocateFailsCleanlyAndRecovers) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, 8 * 4, kWait));
  auto chips = Chips(k910);
  ASSERT_EQ(chips.size(), 8u);
  PodPlan plan{.name = "outage"};
  plan.alloc = {{Dev(chips[7].id, k910, 16384, 25)}};
  plan.temps = {"vir05_1c_16g"};
  CreateBoundPod(plan, k910);

  cluster_.StopServer();
  auto failed =
      kubelet_->Allocate({.owner = "outage/main", .resource_name = k910Resource, .count = 1});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("pending pod"), std::string::npos)
      << failed.status().ToString();
  EXPECT_TRUE(DaemonAlive());
  EXPECT_TRUE(kubelet_->State().resources[k910Resource].allocated.empty());

  // Same port, same store: nothing was written while the server was away, so the pod is
  // still allocating and holds the lock; kubelet's retry completes it and frees the lock.
  ASSERT_TRUE(cluster_.RestartServer());
  EXPECT_EQ(BindPhase("outage"), "allocating");
  EXPECT_NE(Lock().find("outage"), std::string::npos) << Lock();
  auto retried =
      kubelet_->Allocate({.owner = "outage/main", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(retried->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[7].index));
  EXPECT_EQ(BindPhase("outage"), "success");
  EXPECT_EQ(Lock(), "");
  EXPECT_TRUE(DaemonAlive());
}

// The API server goes bad after the plugin has found the pod: reads work, every write to the
// pod answers 503. The plugin gives up with an error naming the pod, cannot mark it failed,
// but still releases the node lock (a node write), so the node is not blocked until the lock
// expires. Once the server is healthy, kubelet's retry allocates the pod.
TEST_F(E2eTest, PodWritesFailingMidAllocateStillReleaseTheLock) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, 8 * 4, kWait));
  auto chips = Chips(k910);
  ASSERT_EQ(chips.size(), 8u);
  PodPlan plan{.name = "flaky"};
  plan.alloc = {{Dev(chips[2].id, k910, 16384, 25)}};
  plan.temps = {"vir05_1c_16g"};
  CreateBoundPod(plan, k910);
  ASSERT_NE(Lock().find("flaky"), std::string::npos) << Lock();

  auto refused = std::make_shared<std::atomic<int>>(0);
  faults_->Set([refused](const std::string& method,
                         const std::string& target) -> std::optional<kube_local::InjectedResponse> {
    if (method != "PATCH" || target.find("/namespaces/default/pods/flaky") == std::string::npos) {
      return std::nullopt;
    }
    refused->fetch_add(1);
    kube_local::InjectedResponse r;
    r.status = 503;
    r.body = R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected outage",)"
             R"("reason":"ServiceUnavailable","code":503})";
    return r;
  });
  auto failed =
      kubelet_->Allocate({.owner = "flaky/main", .resource_name = k910Resource, .count = 1});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("default/flaky"), std::string::npos)
      << failed.status().ToString();
  EXPECT_GT(refused->load(), 0);
  EXPECT_EQ(Lock(), "");
  EXPECT_EQ(BindPhase("flaky"), "allocating");  // the failed mark could not be written either
  EXPECT_TRUE(DaemonAlive());
  EXPECT_TRUE(kubelet_->State().resources[k910Resource].allocated.empty());

  faults_->Set(nullptr);
  auto retried =
      kubelet_->Allocate({.owner = "flaky/main", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(retried->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[2].index));
  EXPECT_EQ(BindPhase("flaky"), "success");
}

TEST_F(E2eTest, MalformedDevicesToAllocateFailsThePodAndReleasesTheLock) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, 8 * 4, kWait));
  auto chips = Chips(k910);
  ASSERT_EQ(chips.size(), 8u);
  PodPlan plan{.name = "garbled"};
  plan.alloc = {{Dev(chips[0].id, k910, 16384, 25)}};
  plan.temps = {"vir05_1c_16g"};
  plan.to_allocate = chips[0].id + ",Ascend910B3,lots,25:;";
  CreateBoundPod(plan, k910);
  ASSERT_NE(Lock(), "");

  auto g = kubelet_->Allocate({.owner = "garbled/main", .resource_name = k910Resource, .count = 1});
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument) << g.status().ToString();
  EXPECT_NE(g.status().message().find("garbled"), std::string::npos) << g.status().ToString();
  EXPECT_EQ(BindPhase("garbled"), "failed");
  EXPECT_EQ(Lock(), "");
  EXPECT_TRUE(DaemonAlive());
  EXPECT_TRUE(kubelet_->State().resources[k910Resource].allocated.empty());

  // A well-formed pod right after is allocated: the plugin is not stuck on the bad one.
  PodPlan good{.name = "good"};
  good.alloc = {{Dev(chips[1].id, k910, 16384, 25)}};
  good.temps = {"vir05_1c_16g"};
  CreateBoundPod(good, k910);
  auto ok = kubelet_->Allocate({.owner = "good/main", .resource_name = k910Resource, .count = 1});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->response.envs["ASCEND_VISIBLE_DEVICES"], std::to_string(chips[1].index));
  EXPECT_EQ(BindPhase("good"), "success");
}

// Other annotations the scheduler (or someone editing the pod) can get wrong: each fails that
// pod's Allocate with kInvalidArgument naming the pod, marks it failed and frees the node.
TEST_F(E2eTest, OtherMalformedAnnotationsFailThePodAndReleaseTheLock) {
  StartDaemon();
  ASSERT_TRUE(kubelet_->WaitForHealthy(k910Resource, 8 * 4, kWait));
  auto chips = Chips(k910);
  ASSERT_EQ(chips.size(), 8u);
  const hami::ContainerDevice dev = Dev(chips[0].id, k910, 16384, 25);
  struct Case {
    std::string name;
    PodPlan plan;
    std::string error;  // part of the expected message
  };
  std::vector<Case> cases;
  cases.push_back(
      {"unknown-chip", {.alloc = {{Dev("not-a-chip-here", k910, 16384, 25)}}}, "unknown uuid"});
  cases.push_back({"bad-runtime-info",
                   {.alloc = {{dev}}, .runtime_info = "{not json"},
                   "annotation huawei.com/Ascend910B3 value"});
  cases.push_back({"extra-container", {.alloc = {{}, {}, {dev}}}, "container entry 2"});
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    c.plan.name = c.name;
    CreateBoundPod(c.plan, k910);
    ASSERT_NE(Lock().find(c.name), std::string::npos) << Lock();
    auto g =
        kubelet_->Allocate({.owner = c.name + "/main", .resource_name = k910Resource, .count = 1});
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument) << g.status().ToString();
    EXPECT_NE(g.status().message().find("default/" + c.name), std::string::npos)
        << g.status().ToString();
    EXPECT_NE(g.status().message().find(c.error), std::string::npos) << g.status().ToString();
    EXPECT_EQ(BindPhase(c.name), "failed");
    EXPECT_EQ(Lock(), "");
  }
  EXPECT_TRUE(DaemonAlive());
  EXPECT_TRUE(kubelet_->State().resources[k910Resource].allocated.empty());
}

}  // namespace
}  // namespace npushare::deviceplugin::e2e
