// Issue 10: a real workload (npu-sim-workload, public ACL API only) started with exactly the
// environment and mounts AllocateService returned for a soft-sliced pod, with the built
// libvnpu.so, on npu-sim. The mounts are made in the child's private mount namespace the way a
// container runtime would make them (bind mounts, read-only ones remounted read-only): a
// tmpfs on /run holds the mount points of /run/npushare/..., and /etc/ld.so.preload is
// bound over the real path (through a private overlay of /etc when the host has no such
// file). The quota the node wrote must be what the workload gets.
#include <errno.h>
#include <gtest/gtest.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "integration/softslice/vnpu_test_util.h"
#include "support/read_only_mount.h"
#include "unit/deviceplugin/allocate/allocate_fixture.h"

namespace npushare::deviceplugin::allocate {
namespace {

using testing::AllocateFixture;
using testing::Dev;
using testing::KubeletIds;
using testing::MakeNode;
using testing::PodSpec;
using testing::Uuid;
using vnpu::testing::BinPath;
using vnpu::testing::Child;
using vnpu::testing::Fields;
using vnpu::testing::LibPath;
using vnpu::testing::ReadLine;
using vnpu::testing::U64;
using vnpu::testing::Wait;

constexpr char kCw[] = "Ascend910B4";
constexpr uint64_t kQuotaMb = 2048;
constexpr uint64_t kChunkMb = 256;

// MountPlan: everything the child needs, built before fork (the child must not allocate).
struct MountPlan {
  std::vector<std::string> dirs;   // to create under the /run tmpfs, parents first
  std::vector<std::string> files;  // empty mount-point files to create
  struct Bind {
    std::string host;
    std::string target;
    bool read_only;
  };
  std::vector<Bind> binds;
  bool overlay_etc = false;
  std::string scratch;  // a directory for the overlay's upper and work dirs
  std::string upper;
  std::string work;
  std::string overlay_options;
};

MountPlan PlanMounts(const ContainerAllocation& a, const std::string& scratch) {
  MountPlan plan;
  std::set<std::string> dirs;
  for (const MountSpec& m : a.mounts) {
    struct stat st;
    const bool is_dir = stat(m.host_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (m.container_path.rfind("/run/", 0) == 0) {
      std::filesystem::path p(m.container_path);
      for (auto parent = p.parent_path(); parent != "/run"; parent = parent.parent_path()) {
        dirs.insert(parent.string());
      }
      if (is_dir) {
        dirs.insert(m.container_path);
      } else {
        plan.files.push_back(m.container_path);
      }
    } else if (m.container_path == "/etc/ld.so.preload") {
      plan.overlay_etc = access("/etc/ld.so.preload", F_OK) != 0;
      if (plan.overlay_etc) {
        plan.files.push_back(m.container_path);
      }
    } else {
      ADD_FAILURE() << "unexpected container path " << m.container_path;
    }
    plan.binds.push_back({m.host_path, m.container_path, m.read_only});
  }
  plan.dirs.assign(dirs.begin(), dirs.end());  // std::set order puts parents first
  plan.scratch = scratch;
  plan.upper = scratch + "/upper";
  plan.work = scratch + "/work";
  plan.overlay_options = "lowerdir=/etc,upperdir=" + plan.upper + ",workdir=" + plan.work;
  return plan;
}

// ApplyMounts: runs in the child. "" on success, else why not (the test then skips).
std::string ApplyMounts(const MountPlan& plan) {
  std::string why = npushare::testing::EnterPrivateMountNamespace();
  if (!why.empty()) {
    return why;
  }
  const unsigned long flags = MS_NOSUID | MS_NODEV;
  if (mount("tmpfs", "/run", "tmpfs", flags, "mode=0755,size=1m") != 0) {
    return "cannot mount a tmpfs on /run";
  }
  if (plan.overlay_etc) {
    if (mount("tmpfs", plan.scratch.c_str(), "tmpfs", flags, "mode=0700,size=1m") != 0 ||
        mkdir(plan.upper.c_str(), 0755) != 0 || mkdir(plan.work.c_str(), 0700) != 0 ||
        mount("overlay", "/etc", "overlay", 0, plan.overlay_options.c_str()) != 0) {
      return "cannot overlay /etc for a mount point at /etc/ld.so.preload";
    }
  }
  for (const std::string& d : plan.dirs) {
    if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      return "cannot create a mount point directory";
    }
  }
  for (const std::string& f : plan.files) {
    int fd = open(f.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return "cannot create a mount point file";
    }
    close(fd);
  }
  for (const MountPlan::Bind& b : plan.binds) {
    if (mount(b.host.c_str(), b.target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return "cannot bind mount";
    }
    if (b.read_only && mount(nullptr, b.target.c_str(), nullptr,
                             MS_BIND | MS_REMOUNT | MS_RDONLY | flags, nullptr) != 0) {
      return "cannot remount read-only";
    }
  }
  return "";
}

class WorkloadQuotaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { vnpu::testing::UseFreshSim(1); }
};

TEST_F(WorkloadQuotaTest, Issue10WorkloadStartedWithAllocateOutputGetsItsQuota) {
  AllocateFixture f(MakeNode(kCw, 1, /*soft=*/true, /*first_phys=*/0, /*vdevice_count=*/64));
  f.options_.soft.libvnpu_path = LibPath("libvnpu.so");
  // Under /run so that the test's private tmpfs holds the mount point.
  f.options_.soft.container_libvnpu_path = "/run/npushare/lib/libvnpu.so";
  f.service_ = std::make_unique<AllocateService>(*f.client_, f.devices_, testing::kNodeName,
                                                 f.options_, f.clock_);
  PodSpec p;
  p.name = "llm";
  p.soft = true;
  p.alloc = {{Dev(Uuid(kCw, 0), kCw, kQuotaMb, 0)}};
  const std::string uid = f.CreatePod(p);
  auto alloc = f.Allocate(KubeletIds(kCw, {0}));
  ASSERT_TRUE(alloc.ok()) << alloc.status().ToString();
  // No API server needed from here on; stop its threads before forking children.
  f.env_.StopServer();

  const std::string scratch = f.dir_.path() + "/ns";
  ASSERT_EQ(mkdir(scratch.c_str(), 0700), 0);
  const MountPlan plan = PlanMounts(*alloc, scratch);
  std::vector<std::string> env;
  for (const auto& [k, v] : alloc->envs) {
    env.push_back(k + "=" + v);
  }
  auto run = [&](const std::vector<std::string>& environment) {
    Child c = vnpu::testing::SpawnEnv(
        {BinPath("npu-sim-workload"), "--oom-probe", "--chunk-mb", std::to_string(kChunkMb)},
        environment, [&plan] { return ApplyMounts(plan); });
    EXPECT_GT(c.pid, 0);
    std::string line = ReadLine(c.out_fd);
    close(c.in_fd);
    close(c.out_fd);
    const int status = Wait(c.pid);
    if (line.rfind("SKIP ", 0) == 0) {
      EXPECT_EQ(status, vnpu::testing::kSkipExit);
      return std::make_pair(line, -1);
    }
    return std::make_pair(line, status);
  };

  auto [line, status] = run(env);
  if (status == -1) {
    GTEST_SKIP() << line;
  }
  auto fields = Fields(line);
  EXPECT_EQ(status, 0) << line;                         // 0: the probe ended on an allocation error
  EXPECT_EQ(U64(fields, "oom_code"), 207001u) << line;  // ACL_ERROR_RT_MEMORY_ALLOCATION
  // ACL pads each 256 MiB request a little, so the last whole chunk may not fit.
  EXPECT_LE(U64(fields, "alloc_mb"), kQuotaMb) << line;
  EXPECT_GE(U64(fields, "alloc_mb"), kQuotaMb - kChunkMb) << line;
  EXPECT_EQ(U64(fields, "total_mb"), kQuotaMb) << line;
  // The ledger lives in the per-container state directory the node created (the mount
  // worked; not the per-process memfd fallback).
  const std::string state = f.options_.soft.tenants_dir + "/" + uid + "_main";
  EXPECT_EQ(access((state + "/" VNPU_LEDGER_FILE_NAME).c_str(), F_OK), 0);

  // The node-written quota file on its read-only mount is what holds: a container that
  // raises its own environment's quota does not get more.
  std::vector<std::string> raised = env;
  for (auto& e : raised) {
    if (e.rfind("NPUSHARE_VNPU_MEM_MB=", 0) == 0 || e.rfind("NPU_MEM_QUOTA=", 0) == 0) {
      e = e.substr(0, e.find('=') + 1) + "16384";
    }
  }
  std::tie(line, status) = run(raised);
  fields = Fields(line);
  EXPECT_LE(U64(fields, "alloc_mb"), kQuotaMb) << line;
  EXPECT_EQ(U64(fields, "total_mb"), kQuotaMb) << line;
  EXPECT_EQ(U64(fields, "oom_code"), 207001u) << line;
}

}  // namespace
}  // namespace npushare::deviceplugin::allocate
