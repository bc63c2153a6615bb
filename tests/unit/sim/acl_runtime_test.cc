// libascendcl.so + libruntime.so through the public ACL API, cross-checked through DCMI.
// Tests that need a different environment (visibility, no device set) run in a forked child,
// which gets a fresh runtime (runtime.h) and reports through its exit status.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "acl/acl.h"
#include "dcmi_interface_api.h"
#include "runtime/rt.h"
#include "unit/sim/sim_test_util.h"

namespace {

// Two 910B4 chips: 32768 MB each, 3072 MB reserved -> 29696 MB allocatable.
constexpr char kNode[] = "model: 910B4\ncards: 2\n";
constexpr size_t kCapacity = 29696ull << 20;

class AclRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    unsetenv("ASCEND_VISIBLE_DEVICES");
    unsetenv("ASCEND_RT_VISIBLE_DEVICES");
    unsetenv("ASCEND_RUNTIME_OPTIONS");
    npushare::sim::testing::UseNewState(kNode);
    ASSERT_EQ(dcmi_init(), DCMI_OK);
  }
  void SetUp() override { ASSERT_EQ(aclrtSetDevice(0), ACL_SUCCESS); }

  // ProcessBytes: bytes DCMI reports for this process on card `card`.
  static uint64_t ProcessBytes(int card) {
    dcmi_proc_mem_info procs[MAX_PROC_NUM_IN_DEVICE];
    int n = 0;
    EXPECT_EQ(dcmi_get_device_resource_info(card, 0, procs, &n), DCMI_OK);
    for (int i = 0; i < n; ++i) {
      if (procs[i].proc_id == getpid()) {
        return procs[i].proc_mem_usage;
      }
    }
    return 0;
  }

  // InChild: runs `body` in a forked child and returns its exit status (0 = passed).
  static int InChild(const std::function<int()>& body) {
    pid_t pid = fork();
    if (pid == 0) {
      _exit(body());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
  }

  static aclrtFuncHandle Kernel(const char* name) {
    static aclrtBinHandle bin = nullptr;
    if (bin == nullptr) {
      static const char kData[] = "npusim:duration_us=10";
      EXPECT_EQ(aclrtBinaryLoadFromData(kData, sizeof(kData), nullptr, &bin), ACL_SUCCESS);
    }
    aclrtFuncHandle f = nullptr;
    EXPECT_EQ(aclrtBinaryGetFunction(bin, name, &f), ACL_SUCCESS);
    return f;
  }
};

TEST_F(AclRuntimeTest, MallocPadsAndChargesTheChip) {
  void* p = nullptr;
  uint64_t before = ProcessBytes(0);
  ASSERT_EQ(aclrtMalloc(&p, 100, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
  EXPECT_EQ(ProcessBytes(0) - before, 160u);  // roundup32(100) + 32
  std::memset(p, 0xAB, 100);                  // device memory is real memory
  void* q = nullptr;
  ASSERT_EQ(aclrtMallocAlign32(&q, 100, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
  EXPECT_EQ(ProcessBytes(0) - before, 160u + 128u);
  ASSERT_EQ(aclrtFree(p), ACL_SUCCESS);
  ASSERT_EQ(aclrtFree(q), ACL_SUCCESS);
  EXPECT_EQ(ProcessBytes(0), before);
  EXPECT_EQ(aclrtFree(p), ACL_ERROR_RT_MEMORY_FREE);
  EXPECT_EQ(aclrtMalloc(&p, 0, ACL_MEM_MALLOC_HUGE_FIRST), ACL_ERROR_INVALID_PARAM);
}

TEST_F(AclRuntimeTest, OverCapacityIs207001AndMemInfoTracksUse) {
  size_t free0 = 0;
  size_t total = 0;
  ASSERT_EQ(aclrtGetMemInfo(ACL_HBM_MEM, &free0, &total), ACL_SUCCESS);
  EXPECT_EQ(total, kCapacity);
  void* big = nullptr;
  EXPECT_EQ(aclrtMalloc(&big, kCapacity, ACL_MEM_MALLOC_HUGE_FIRST),
            ACL_ERROR_RT_MEMORY_ALLOCATION);  // padding pushes it over
  ASSERT_EQ(aclrtMallocCached(&big, 1ull << 30, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
  size_t free1 = 0;
  ASSERT_EQ(aclrtGetMemInfo(ACL_HBM_MEM, &free1, &total), ACL_SUCCESS);
  EXPECT_EQ(free0 - free1, 1ull << 30);
  void* rest = nullptr;
  EXPECT_EQ(aclrtMallocWithCfg(&rest, free1 + 1, ACL_MEM_MALLOC_HUGE_FIRST, nullptr),
            ACL_ERROR_RT_MEMORY_ALLOCATION);
  ASSERT_EQ(aclrtMallocWithCfg(&rest, free1, ACL_MEM_MALLOC_HUGE_FIRST, nullptr), ACL_SUCCESS);
  ASSERT_EQ(aclrtFree(rest), ACL_SUCCESS);
  ASSERT_EQ(aclrtFree(big), ACL_SUCCESS);
}

TEST_F(AclRuntimeTest, PhysicalHandlesMapIntoReservedAddresses) {
  aclrtPhysicalMemProp prop{};
  prop.location.type = ACL_MEM_LOCATION_TYPE_DEVICE;
  aclrtDrvMemHandle h = nullptr;
  uint64_t before = ProcessBytes(0);
  ASSERT_EQ(aclrtMallocPhysical(&h, 2 << 20, &prop, 0), ACL_SUCCESS);
  EXPECT_EQ(ProcessBytes(0) - before, 2u << 20);
  void* va = nullptr;
  ASSERT_EQ(aclrtReserveMemAddress(&va, 4 << 20, 0, nullptr, 0), ACL_SUCCESS);
  ASSERT_EQ(aclrtMapMem(va, 2 << 20, 0, h, 0), ACL_SUCCESS);
  static_cast<char*>(va)[12345] = 7;
  EXPECT_EQ(static_cast<char*>(va)[12345], 7);
  EXPECT_EQ(aclrtMapMem(va, 4 << 20, 0, h, 0), ACL_ERROR_RT_PARAM_INVALID);  // beyond handle
  ASSERT_EQ(aclrtUnmapMem(va), ACL_SUCCESS);
  ASSERT_EQ(aclrtReleaseMemAddress(va), ACL_SUCCESS);
  ASSERT_EQ(aclrtFreePhysical(h), ACL_SUCCESS);
  EXPECT_EQ(ProcessBytes(0), before);
}

TEST_F(AclRuntimeTest, SynchronizeWaitsForTheKernels) {
  aclrtStream s = nullptr;
  aclrtEvent begin = nullptr;
  aclrtEvent end = nullptr;
  ASSERT_EQ(aclrtCreateStream(&s), ACL_SUCCESS);
  ASSERT_EQ(aclrtCreateEvent(&begin), ACL_SUCCESS);
  ASSERT_EQ(aclrtCreateEvent(&end), ACL_SUCCESS);
  aclrtFuncHandle k = Kernel("sim_200000us");
  ASSERT_EQ(aclrtRecordEvent(begin, s), ACL_SUCCESS);
  ASSERT_EQ(aclrtLaunchKernel(k, 20, nullptr, 0, s), ACL_SUCCESS);
  ASSERT_EQ(aclrtRecordEvent(end, s), ACL_SUCCESS);
  aclrtEventRecordedStatus st = ACL_EVENT_RECORDED_STATUS_COMPLETE;
  ASSERT_EQ(aclrtQueryEventStatus(end, &st), ACL_SUCCESS);
  EXPECT_EQ(st, ACL_EVENT_RECORDED_STATUS_NOT_READY);  // 200 ms of device work is queued
  float ms = 0;
  EXPECT_EQ(aclrtEventElapsedTime(&ms, begin, end), ACL_ERROR_RT_PARAM_INVALID);
  ASSERT_EQ(aclrtSynchronizeStream(s), ACL_SUCCESS);
  ASSERT_EQ(aclrtQueryEventStatus(end, &st), ACL_SUCCESS);
  EXPECT_EQ(st, ACL_EVENT_RECORDED_STATUS_COMPLETE);
  ASSERT_EQ(aclrtEventElapsedTime(&ms, begin, end), ACL_SUCCESS);
  EXPECT_GE(ms, 200.0f);
  ASSERT_EQ(aclrtDestroyEvent(begin), ACL_SUCCESS);
  ASSERT_EQ(aclrtDestroyEvent(end), ACL_SUCCESS);
  ASSERT_EQ(aclrtDestroyStream(s), ACL_SUCCESS);
}

TEST_F(AclRuntimeTest, StreamsOrderThroughEvents) {
  aclrtStream a = nullptr;
  aclrtStream b = nullptr;
  aclrtEvent done_a = nullptr;
  aclrtEvent done_b = nullptr;
  aclrtEvent start = nullptr;
  ASSERT_EQ(aclrtCreateStream(&a), ACL_SUCCESS);
  ASSERT_EQ(aclrtCreateStream(&b), ACL_SUCCESS);
  ASSERT_EQ(aclrtCreateEvent(&done_a), ACL_SUCCESS);
  ASSERT_EQ(aclrtCreateEvent(&done_b), ACL_SUCCESS);
  ASSERT_EQ(aclrtCreateEvent(&start), ACL_SUCCESS);
  ASSERT_EQ(aclrtRecordEvent(start, a), ACL_SUCCESS);
  // Five 2 ms kernels on stream a, each on 10 of the 20 cores.
  aclrtFuncHandle k = Kernel("sim_2000us_10c");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(aclrtLaunchKernel(k, 1, nullptr, 0, a), ACL_SUCCESS);
  }
  ASSERT_EQ(aclrtRecordEvent(done_a, a), ACL_SUCCESS);
  ASSERT_EQ(aclrtStreamWaitEvent(b, done_a), ACL_SUCCESS);
  ASSERT_EQ(aclrtRecordEvent(done_b, b), ACL_SUCCESS);
  ASSERT_EQ(aclrtSynchronizeEvent(done_b), ACL_SUCCESS);
  float a_ms = 0;
  float b_ms = 0;
  ASSERT_EQ(aclrtEventElapsedTime(&a_ms, start, done_a), ACL_SUCCESS);
  ASSERT_EQ(aclrtEventElapsedTime(&b_ms, start, done_b), ACL_SUCCESS);
  EXPECT_GE(a_ms, 10.0f);  // in order on one stream: 5 x 2 ms
  EXPECT_GE(b_ms, a_ms);   // b could not pass the event
  ASSERT_EQ(aclrtSynchronizeDevice(), ACL_SUCCESS);
  for (aclrtEvent e : {done_a, done_b, start}) {
    ASSERT_EQ(aclrtDestroyEvent(e), ACL_SUCCESS);
  }
  ASSERT_EQ(aclrtDestroyStream(a), ACL_SUCCESS);
  ASSERT_EQ(aclrtDestroyStream(b), ACL_SUCCESS);
}

TEST_F(AclRuntimeTest, BadHandlesAreRejected) {
  int bogus = 0;
  EXPECT_EQ(aclrtLaunchKernel(&bogus, 1, nullptr, 0, nullptr), ACL_ERROR_RT_INVALID_HANDLE);
  EXPECT_EQ(aclrtSynchronizeStream(&bogus), ACL_ERROR_RT_PARAM_INVALID);
  EXPECT_EQ(aclrtSetDevice(2), ACL_ERROR_RT_INVALID_DEVICEID);
  EXPECT_EQ(aclrtLaunchKernel(Kernel("sim_1us"), 0, nullptr, 0, nullptr),
            ACL_ERROR_RT_PARAM_INVALID);  // zero blocks
  // The default stream works without creating one.
  EXPECT_EQ(aclrtLaunchKernel(Kernel("sim_1us"), 1, nullptr, 0, nullptr), ACL_SUCCESS);
  EXPECT_EQ(aclrtSynchronizeDevice(), ACL_SUCCESS);
}

TEST_F(AclRuntimeTest, UtilizationIsVisibleThroughDcmi) {
  aclrtFuncHandle k = Kernel("sim_300000us");
  ASSERT_EQ(aclrtLaunchKernel(k, 20, nullptr, 0, nullptr), ACL_SUCCESS);
  ASSERT_EQ(aclrtSynchronizeDevice(), ACL_SUCCESS);
  unsigned util = 0;
  ASSERT_EQ(dcmi_get_device_utilization_rate(0, 0, 2, &util), DCMI_OK);
  EXPECT_GE(util, 20u);  // >= 300 ms of full-chip work lies in the last second
  ASSERT_EQ(dcmi_get_device_utilization_rate(1, 0, 2, &util), DCMI_OK);
  EXPECT_EQ(util, 0u);  // the other chip stayed idle
}

TEST_F(AclRuntimeTest, VisibleDevicesRenumberInsideTheProcess) {
  int rc = InChild([] {
    setenv("ASCEND_VISIBLE_DEVICES", "1", 1);
    uint32_t count = 0;
    if (aclrtGetDeviceCount(&count) != ACL_SUCCESS || count != 1)
      return 1;
    if (aclrtSetDevice(1) != ACL_ERROR_RT_INVALID_DEVICEID)
      return 2;
    if (aclrtSetDevice(0) != ACL_SUCCESS)
      return 3;
    void* p = nullptr;
    if (aclrtMalloc(&p, 1 << 20, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS)
      return 4;
    // Charged to physical chip 1 = card 1.
    return ProcessBytes(1) > 0 && ProcessBytes(0) == 0 ? 0 : 5;
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(AclRuntimeTest, NoDeviceSelectedIsContextNull) {
  int rc = InChild([] {
    void* p = nullptr;
    return aclrtMalloc(&p, 64, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_ERROR_RT_CONTEXT_NULL ? 0 : 1;
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(AclRuntimeTest, ProcessInsideAVnpuSeesOnlyItsSlice) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "vNPU creation requires root";
  }
  dcmi_create_vdev_res_stru req{};
  req.vdev_id = DCMI_VDEV_INVALID_ID;
  req.vfg_id = DCMI_VDEV_INVALID_ID;
  std::strcpy(req.template_name, "vir05_1c_8g");
  dcmi_create_vdev_out out{};
  ASSERT_EQ(dcmi_create_vdevice(1, 0, &req, &out), DCMI_OK);
  unsigned id = out.vdev_id;
  int rc = InChild([id] {
    setenv("ASCEND_VISIBLE_DEVICES", std::to_string(id).c_str(), 1);
    setenv("ASCEND_RUNTIME_OPTIONS", "VIRTUAL", 1);
    if (aclrtSetDevice(0) != ACL_SUCCESS)
      return 1;
    size_t free_b = 0;
    size_t total = 0;
    if (aclrtGetMemInfo(ACL_HBM_MEM, &free_b, &total) != ACL_SUCCESS)
      return 2;
    if (total != (7168ull << 20))
      return 3;
    void* p = nullptr;
    if (aclrtMalloc(&p, 7168ull << 20, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_ERROR_RT_MEMORY_ALLOCATION)
      return 4;
    if (aclrtMalloc(&p, 7000ull << 20, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS)
      return 5;
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(dcmi_set_destroy_vdevice(1, 0, id), DCMI_OK);  // the child's memory went with it
}

}  // namespace
