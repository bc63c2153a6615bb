// PlanContainer / ResolveKubeletIds / the response builders: pure, no API server.
#include "deviceplugin/allocate/container_plan.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "deviceplugin/allocate/container_response.h"
#include "deviceplugin/allocate/pod_locator.h"
#include "deviceplugin/allocate/preferred_allocation.h"
#include "deviceplugin/allocate/soft_slice_files.h"
#include "hami/pod_devices.h"
#include "hami/runtime_info.h"
#include "unit/deviceplugin/allocate/allocate_fixture.h"

namespace npushare::deviceplugin::allocate {
namespace {

using testing::Dev;
using testing::MakeNode;
using testing::Uuid;

constexpr char k910[] = "Ascend910B3";

kube::PodView Pod(std::vector<std::string> inits, std::vector<std::string> containers,
                  std::map<std::string, std::string> annotations) {
  kube::PodView p;
  p.meta.name = "p";
  p.meta.namespace_name = "default";
  p.meta.uid = "0f1e2d3c-aaaa-bbbb-cccc-000000000001";
  p.phase = "Pending";
  p.meta.annotations = std::move(annotations);
  for (auto& n : inits) {
    p.init_containers.push_back({n, {}, {}});
  }
  for (auto& n : containers) {
    p.containers.push_back({n, {}, {}});
  }
  return p;
}

std::map<std::string, std::string> Annotations(const hami::PodDevices& alloc,
                                               const std::string& runtime) {
  const std::string text = hami::EncodePodDevices(alloc);
  return {{hami::DevicesToAllocateKey(k910), text},
          {hami::DevicesAllocatedKey(k910), text},
          {hami::RuntimeInfoKey(k910), runtime}};
}

TEST(ContainerPlanTest, InitContainersComeFirstInTheAnnotation) {
  const NodeDevices node = MakeNode(k910, 2, false);
  hami::PodDevices alloc = {{}, {Dev(Uuid(k910, 1), k910, 100, 1)}, {}};
  auto pod = Pod({"init-a", "init-b"}, {"app"},
                 Annotations(alloc, R"([{"UUID":")" + Uuid(k910, 1) + R"("}])"));
  auto plan = PlanContainer(pod, node, {Uuid(k910, 1) + "-0"});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->container_index, 1u);
  EXPECT_EQ(plan->container_name, "init-b");
  EXPECT_TRUE(plan->init_container);
  EXPECT_TRUE(plan->last);
  EXPECT_EQ(plan->devices[0].phys_id, 5);
  EXPECT_EQ(plan->remaining_text, ";;;;");
}

TEST(ContainerPlanTest, EntryBeyondThePodsContainersIsAnError) {
  const NodeDevices node = MakeNode(k910, 2, false);
  hami::PodDevices alloc = {{}, {Dev(Uuid(k910, 1), k910, 100, 1)}};
  auto pod = Pod({}, {"only"}, Annotations(alloc, "[]"));
  EXPECT_EQ(PlanContainer(pod, node, {Uuid(k910, 1) + "-0"}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ContainerPlanTest, MisalignedRuntimeInfoFallsBackToUuidLookupLastWins) {
  const NodeDevices node = MakeNode(k910, 2, false);
  hami::PodDevices alloc = {{Dev(Uuid(k910, 0), k910, 100, 1)}, {Dev(Uuid(k910, 0), k910, 200, 1)}};
  const std::string u = Uuid(k910, 0);
  // Aligned: per container.
  auto aligned = Pod({}, {"a", "b"},
                     Annotations(alloc, "[{\"UUID\":\"" + u +
                                            "\",\"temp\":\"vir05_1c_16g\"},"
                                            "{\"UUID\":\"" +
                                            u + "\",\"temp\":\"vir10_3c_32g\"}]"));
  auto plan = PlanContainer(aligned, node, {u + "-0"});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->per_container_runtime_info);
  EXPECT_EQ(BuildHardAllocation(*plan).envs["ASCEND_VNPU_SPECS"], "vir05_1c_16g");
  // One element for two devices: cannot be positional; upstream's lookup applies.
  auto short_list = Pod({}, {"a", "b"},
                        Annotations(alloc, "[{\"UUID\":\"" + u + "\",\"temp\":\"vir10_3c_32g\"}]"));
  plan = PlanContainer(short_list, node, {u + "-0"});
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->per_container_runtime_info);
  EXPECT_EQ(BuildHardAllocation(*plan).envs["ASCEND_VNPU_SPECS"], "vir10_3c_32g");
}

TEST(ContainerPlanTest, KubeletIdsMustBeAdvertised) {
  const NodeDevices node = MakeNode(k910, 2, false, 4, /*vdevice_count=*/4);
  EXPECT_TRUE(ResolveKubeletIds(node, {Uuid(k910, 1) + "-3"}).ok());
  for (const std::string& bad : {Uuid(k910, 1) + "-4", Uuid(k910, 1) + "--1", Uuid(k910, 1),
                                 std::string("-0"), Uuid(k910, 9) + "-0", Uuid(k910, 1) + "-x"}) {
    EXPECT_EQ(ResolveKubeletIds(node, {bad}).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ContainerResponseTest, SoftGrantRejectsNegativeAndOversizedValues) {
  ContainerPlan plan;
  plan.devices.push_back({Dev("u", k910, -5, 10), 0, std::nullopt});
  EXPECT_EQ(BuildTenantGrant(plan, "t", false).status().code(), StatusCode::kInvalidArgument);
  plan.devices[0].device.usedmem = 10;
  plan.devices[0].device.usedcores = 101;
  EXPECT_EQ(BuildTenantGrant(plan, "t", false).status().code(), StatusCode::kInvalidArgument);
  plan.devices[0].device.usedcores = 100;
  auto grant = BuildTenantGrant(plan, "t", /*hard_cap=*/true);
  ASSERT_TRUE(grant.ok());
  EXPECT_TRUE(grant->devices[0].hard_cap);
  EXPECT_EQ(grant->devices[0].memory_mb, 10u);
}

TEST(ContainerResponseTest, TenantNames) {
  auto t = TenantNameFor("0f1e2d3c-aaaa-bbbb-cccc-000000000001", "vllm");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "0f1e2d3c-aaaa-bbbb-cccc-000000000001_vllm");
  EXPECT_EQ(PodUidOfTenant(*t), "0f1e2d3c-aaaa-bbbb-cccc-000000000001");
  EXPECT_EQ(PodUidOfTenant("no-underscore"), "");
  for (auto [uid, c] : {std::pair{"", "c"}, std::pair{"UPPER", "c"}, std::pair{"a/b", "c"},
                        std::pair{"a_b", "c"}, std::pair{"a", "../x"}}) {
    EXPECT_EQ(TenantNameFor(uid, c).status().code(), StatusCode::kInvalidArgument) << uid << c;
  }
}

TEST(PodLocatorTest, SelectPendingPodRulesAndOrder) {
  hami::PodDevices alloc = {{Dev("u", k910, 1, 1)}};
  auto make = [&](std::string ns, std::string name, std::string time) {
    auto p = Pod({}, {"c"}, Annotations(alloc, "[]"));
    p.meta.namespace_name = std::move(ns);
    p.meta.name = std::move(name);
    p.meta.annotations[hami::kBindTimeAnnotation] = std::move(time);
    p.meta.annotations[hami::kBindPhaseAnnotation] = "allocating";
    p.meta.annotations[hami::kAssignedNodeAnnotation] = "n";
    return p;
  };
  std::vector<kube::PodView> pods = {make("b", "x", "200"), make("a", "y", "200"),
                                     make("a", "z", "2024-01-01T00:00:00Z"), make("a", "w", "300")};
  EXPECT_EQ(SelectPendingPod(pods, "n", k910), std::optional<size_t>(1));  // time, then ns
  pods[1].meta.annotations[hami::kBindPhaseAnnotation] = "success";
  EXPECT_EQ(SelectPendingPod(pods, "n", k910), std::optional<size_t>(0));
  pods[0].meta.deletion_timestamp = "2024-01-01T00:00:00Z";
  EXPECT_EQ(SelectPendingPod(pods, "n", k910), std::optional<size_t>(3));  // numeric first
  pods[3].phase = "Running";
  EXPECT_EQ(SelectPendingPod(pods, "n", k910), std::optional<size_t>(2));
  pods[2].meta.annotations[hami::kAssignedNodeAnnotation] = "other";
  EXPECT_EQ(SelectPendingPod(pods, "n", k910), std::nullopt);
  EXPECT_EQ(SelectPendingPod(pods, "n", "Ascend310P"), std::nullopt);
}

TEST(PreferredAllocationTest, ScheduledChipsFirstThenSortedMustIncludeKept) {
  const std::vector<std::string> available = {"b-10", "b-2", "a-1", "a-0", "c-0", "b-2"};
  EXPECT_EQ(ChoosePreferred(available, {}, 2, {"b"}), (std::vector<std::string>{"b-2", "a-0"}));
  EXPECT_EQ(ChoosePreferred(available, {}, 2, {"c", "b"}),
            (std::vector<std::string>{"c-0", "b-2"}));
  EXPECT_EQ(ChoosePreferred(available, {"a-1"}, 2, {"b"}),
            (std::vector<std::string>{"a-1", "b-2"}));
  EXPECT_EQ(ChoosePreferred(available, {"a-1", "c-0"}, 1, {}),
            (std::vector<std::string>{"a-1", "c-0"}));
  EXPECT_EQ(ChoosePreferred(available, {}, 3, {}), (std::vector<std::string>{"a-0", "a-1", "b-2"}));
  EXPECT_TRUE(ChoosePreferred(available, {}, 0, {"a"}).empty());
}

TEST(SoftSliceFilesTest, StateDirectoryMustBeARealDirectoryAndLibvnpuMustExist) {
  npushare::testing::ScopedTempDir dir("npushare-softfiles");
  SoftSliceOptions o;
  for (const char* sub : {"shares", "quota", "tenants", "lib", "elsewhere"}) {
    std::filesystem::create_directories(dir.path() + "/" + sub);
  }
  o.shares_dir = dir.path() + "/shares";
  o.quota_root = dir.path() + "/quota";
  o.tenants_dir = dir.path() + "/tenants";
  o.libvnpu_path = dir.path() + "/lib/libvnpu.so";
  o.ld_so_preload_path = dir.path() + "/lib/ld.so.preload";
  softslice::TenantGrant grant;
  grant.tenant = "0f1e2d3c-aaaa-bbbb-cccc-000000000001_main";
  grant.devices.push_back({10, false, 0, 1024});
  EXPECT_EQ(WriteSoftSliceFiles(o, grant, {}).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(WriteFileAtomically(o.libvnpu_path, "x", 0644).ok());
  // A symlink where the state directory goes is refused, not followed, and the tenant's
  // quota and share files are taken back.
  ASSERT_EQ(
      symlink((dir.path() + "/elsewhere").c_str(), (o.tenants_dir + "/" + grant.tenant).c_str()),
      0);
  EXPECT_EQ(WriteSoftSliceFiles(o, grant, {}).code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(o.quota_root + "/" + grant.tenant));
  EXPECT_FALSE(std::filesystem::exists(o.shares_dir + "/" + grant.tenant + ".share"));
  ASSERT_TRUE(std::filesystem::remove(o.tenants_dir + "/" + grant.tenant));
  // A group/world-writable leftover directory is tightened to 0700.
  ASSERT_EQ(mkdir((o.tenants_dir + "/" + grant.tenant).c_str(), 0777), 0);
  ASSERT_EQ(chmod((o.tenants_dir + "/" + grant.tenant).c_str(), 0777), 0);
  ASSERT_TRUE(WriteSoftSliceFiles(o, grant, {}).ok());
  struct stat st;
  ASSERT_EQ(stat((o.tenants_dir + "/" + grant.tenant).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // RemoveSoftSliceFiles takes everything back and refuses names that could escape.
  ASSERT_TRUE(RemoveSoftSliceFiles(o, grant.tenant).ok());
  EXPECT_FALSE(std::filesystem::exists(o.tenants_dir + "/" + grant.tenant));
  EXPECT_EQ(RemoveSoftSliceFiles(o, "..").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::exists(o.tenants_dir));
}

}  // namespace
}  // namespace npushare::deviceplugin::allocate
