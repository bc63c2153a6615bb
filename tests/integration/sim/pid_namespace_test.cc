// Process liveness across pid namespaces: npu-sim must tell whether a process using the chip
// is alive the way a driver does (its open file, here an OFD lock on its slot), not by pid,
// because inside a container getpid() is the container's pid (1, 7, ...) and on the host that
// number names another process (pid 1 is init). Drives the real npu-sim-workload in a new pid
// namespace (unshare(CLONE_NEWPID), as runc and sim/container do) and observes through
// libdcmi.so as the device plugin and the Ascend hook do.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dcmi_interface_api.h"
#include "state/shared_state.h"
#include "unit/sim/run_process.h"
#include "unit/sim/sim_test_util.h"

namespace npushare::sim {
namespace {

using testing::BinPath;
using testing::Child;
using testing::ReadLine;
using testing::Spawn;
using testing::SpawnOptions;
using testing::Wait;

constexpr int kNoNamespaceExit = 90;  // the intermediate could not create the namespace

// WriteNumberLine: "<prefix><n>\n" to fd 1 without allocating (runs between fork and exec).
void WriteNumberLine(const char* prefix, long n) {
  char buf[64];
  size_t len = 0;
  for (const char* p = prefix; *p != '\0' && len < 32; ++p) {
    buf[len++] = *p;
  }
  char digits[24];
  size_t d = 0;
  do {
    digits[d++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0 && d < sizeof(digits));
  while (d > 0) {
    buf[len++] = digits[--d];
  }
  buf[len++] = '\n';
  if (write(1, buf, len) < 0) {
    _exit(kNoNamespaceExit);
  }
}

// InNamespace: a workload running in its own pid namespace. `host_init` is the host pid of the
// namespace's init (killing it kills the namespace); `shell` is the host-side intermediate.
struct InNamespace {
  Child shell;
  pid_t host_init = -1;
};

// SpawnInPidNamespace: runs `argv` in a new pid namespace with pid `ns_pid` there (1: it is the
// namespace's init; otherwise an init forks it after setting ns_last_pid). The intermediate
// prints "HOSTPID <host pid of the namespace init>" first, then the workload's output follows.
InNamespace SpawnInPidNamespace(const std::vector<std::string>& argv, pid_t ns_pid,
                                const std::vector<std::string>& env) {
  const std::string last_pid = std::to_string(ns_pid - 1);
  SpawnOptions options;
  options.env = env;
  options.pre_exec = [ns_pid, &last_pid] {
    if (unshare(CLONE_NEWPID) != 0) {
      _exit(kNoNamespaceExit);
    }
    pid_t init = fork();
    if (init < 0) {
      _exit(kNoNamespaceExit);
    }
    if (init > 0) {
      // Never exec'd: drop the inherited (CLOEXEC) descriptors, such as the write ends of other
      // children's stdin pipes, which would keep them from seeing EOF.
      close_range(3, ~0u, 0);
      WriteNumberLine("HOSTPID ", init);
      int status = 0;
      waitpid(init, &status, 0);
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    // The namespace's init (pid 1 there).
    if (ns_pid == 1) {
      return;  // Spawn execs the workload as pid 1
    }
    // ns_last_pid acts on the writer's active pid namespace: the next fork gets ns_pid.
    int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, last_pid.data(), last_pid.size()) < 0) {
      _exit(kNoNamespaceExit);
    }
    close(fd);
    pid_t workload = fork();
    if (workload < 0) {
      _exit(kNoNamespaceExit);
    }
    if (workload > 0) {
      close_range(3, ~0u, 0);
      int status = 0;
      waitpid(workload, &status, 0);
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    if (getpid() != ns_pid) {
      _exit(kNoNamespaceExit);
    }
  };
  InNamespace ns;
  ns.shell = Spawn(argv, options);
  std::string line = ReadLine(ns.shell.out_fd);
  if (line.rfind("HOSTPID ", 0) == 0) {
    ns.host_init = static_cast<pid_t>(std::atol(line.c_str() + 8));
  }
  return ns;
}

// kNode: one 910B3 (65536 MB, 4096 reserved) with templates for vNPUs.
constexpr const char* kNode = "model: 910B3\ncards: 1\n";

class PidNamespaceTest : public ::testing::Test {
 protected:
  // One state for the suite: libdcmi keeps the state it was initialised with. Every test
  // leaves no process and no vNPU behind.
  static void SetUpTestSuite() {
    if (!state_dir_.empty()) {
      return;  // --gtest_repeat: libdcmi still observes the first state
    }
    unsetenv("ASCEND_VISIBLE_DEVICES");
    unsetenv("ASCEND_RUNTIME_OPTIONS");
    state_dir_ = testing::UseNewState(kNode);
    ASSERT_EQ(dcmi_init(), DCMI_OK);
  }

  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "pid namespaces need root";
    }
    ASSERT_EQ(TotalBytes(), 0u) << "a previous test left memory charged";
  }

  static std::vector<std::string> Env(const std::string& visible, bool virtual_ids) {
    // This process's environment (library paths as the test runner set them), with the
    // state and visibility of the container.
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      if (kv.rfind("NPU_SIM_STATE=", 0) != 0 && kv.rfind("ASCEND_", 0) != 0) {
        env.push_back(kv);
      }
    }
    env.push_back("NPU_SIM_STATE=" + state_dir_);
    env.push_back("ASCEND_VISIBLE_DEVICES=" + visible);
    if (virtual_ids) {
      env.push_back("ASCEND_RUNTIME_OPTIONS=VIRTUAL");
    }
    return env;
  }

  // Procs: (proc_id, bytes) rows DCMI reports for chip 0; the query forces a sweep.
  static std::vector<std::pair<int, uint64_t>> Procs() {
    dcmi_proc_mem_info procs[MAX_PROC_NUM_IN_DEVICE];
    int n = 0;
    EXPECT_EQ(dcmi_get_device_resource_info(0, 0, procs, &n), DCMI_OK);
    std::vector<std::pair<int, uint64_t>> rows;
    for (int i = 0; i < n; ++i) {
      rows.emplace_back(procs[i].proc_id, procs[i].proc_mem_usage);
    }
    return rows;
  }

  static uint64_t TotalBytes() {
    uint64_t total = 0;
    for (const auto& row : Procs()) {
      total += row.second;
    }
    return total;
  }

  // AwaitTotal: polls (each poll a forced sweep) until chip 0's charged bytes are `want`.
  static bool AwaitTotal(uint64_t want) {
    for (int i = 0; i < 10'000; ++i) {  // generous: 10 s
      if (TotalBytes() == want) {
        return true;
      }
      usleep(1000);
    }
    return false;
  }

  static InNamespace StartHolder(uint64_t mb, pid_t ns_pid, const std::string& visible,
                                 bool virtual_ids) {
    InNamespace ns = SpawnInPidNamespace(
        {BinPath("npu-sim-workload"), "--weights-mb", std::to_string(mb), "--hold"}, ns_pid,
        Env(visible, virtual_ids));
    EXPECT_GT(ns.host_init, 0) << "no pid namespace (CLONE_NEWPID refused?)";
    std::string ready = ReadLine(ns.shell.out_fd);
    EXPECT_EQ(ready.rfind("READY", 0), 0u) << ready;
    return ns;
  }

  static int Kill(InNamespace& ns) {
    kill(ns.host_init, SIGKILL);  // the namespace's init: the kernel kills the rest
    close(ns.shell.in_fd);
    close(ns.shell.out_fd);
    return Wait(ns.shell.pid);
  }

  static inline std::string state_dir_;
};

constexpr uint64_t kPad = 32;  // aclrtMalloc adds 32 bytes

// The demo's bug: a container's process is pid 1 in its namespace; the host's pid 1 (init)
// is alive, so a pid check never reclaimed the container's memory and the vNPU stayed busy.
TEST_F(PidNamespaceTest, KilledContainerProcessIsSweptAndItsVnpuDestroyable) {
  dcmi_create_vdev_res_stru req{};
  req.vdev_id = DCMI_VDEV_INVALID_ID;
  req.vfg_id = DCMI_VDEV_INVALID_ID;
  std::strcpy(req.template_name, "vir05_1c_16g");
  dcmi_create_vdev_out out{};
  ASSERT_EQ(dcmi_create_vdevice(0, 0, &req, &out), DCMI_OK);
  const unsigned vnpu = out.vdev_id;

  InNamespace ns = StartHolder(1024, 1, std::to_string(vnpu), /*virtual_ids=*/true);
  ASSERT_GT(ns.host_init, 0);
  auto rows = Procs();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].first, 1) << "the pid is the one inside the container, for display";
  EXPECT_EQ(rows[0].second, (1024ull << 20) + kPad);
  EXPECT_NE(dcmi_set_destroy_vdevice(0, 0, vnpu), DCMI_OK) << "destroyed while in use";

  // SIGKILL: no library destructor runs; only the sweeper can release the slot.
  EXPECT_EQ(Kill(ns), 128 + SIGKILL);
  EXPECT_TRUE(AwaitTotal(0)) << "the dead container process still holds " << TotalBytes();
  EXPECT_TRUE(Procs().empty());
  EXPECT_EQ(dcmi_set_destroy_vdevice(0, 0, vnpu), DCMI_OK);
}

// The reverse: a live container process whose in-namespace pid is dead on the host must keep
// its memory (a pid check would have freed it under the running workload).
TEST_F(PidNamespaceTest, LiveContainerProcessWithADeadHostPidIsKept) {
  pid_t dead = fork();
  if (dead == 0) {
    _exit(0);
  }
  ASSERT_GT(dead, 1);
  ASSERT_EQ(Wait(dead), 0);
  ASSERT_FALSE(IsProcessAlive(dead));

  InNamespace ns = StartHolder(512, dead, "0", /*virtual_ids=*/false);
  ASSERT_GT(ns.host_init, 0);
  for (int i = 0; i < 5; ++i) {  // several forced sweeps
    auto rows = Procs();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].first, dead) << "the workload did not run with the chosen pid";
    EXPECT_EQ(rows[0].second, (512ull << 20) + kPad);
  }
  // A normal exit releases at once (library destructor).
  close(ns.shell.in_fd);
  EXPECT_EQ(Wait(ns.shell.pid), 0);
  close(ns.shell.out_fd);
  EXPECT_EQ(TotalBytes(), 0u);
}

// Two containers both run their workload as pid 1: each needs its own slot, and one dying
// must free only its own memory while the other's live pid 1 keeps its memory.
TEST_F(PidNamespaceTest, ContainersWithTheSamePidHaveSeparateSlots) {
  InNamespace a = StartHolder(256, 1, "0", false);
  InNamespace b = StartHolder(512, 1, "0", false);
  ASSERT_GT(a.host_init, 0);
  ASSERT_GT(b.host_init, 0);
  auto rows = Procs();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].first, 1);
  EXPECT_EQ(rows[1].first, 1);
  EXPECT_EQ(rows[0].second + rows[1].second, (768ull << 20) + 2 * kPad);

  EXPECT_EQ(Kill(a), 128 + SIGKILL);
  EXPECT_TRUE(AwaitTotal((512ull << 20) + kPad)) << TotalBytes();
  rows = Procs();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].second, (512ull << 20) + kPad);
  EXPECT_EQ(Kill(b), 128 + SIGKILL);
  EXPECT_TRUE(AwaitTotal(0)) << TotalBytes();
}

// fork: the child inherits the slot-lock descriptor, which would keep the parent's slot alive
// after the parent died; the runtime's atfork handler closes the child's copy.
TEST_F(PidNamespaceTest, ForkChildDoesNotKeepADeadParentsSlotAlive) {
  int ready[2];
  int hold[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(hold, O_CLOEXEC), 0);
  const std::string lib = BinPath("../lib/libruntime.so");
  pid_t parent = fork();
  if (parent == 0) {
    using SetDevice = int (*)(int32_t);
    using Malloc = int (*)(void**, uint64_t, int, uint16_t);
    void* rt = dlopen(lib.c_str(), RTLD_NOW);
    auto set_device = rt ? reinterpret_cast<SetDevice>(dlsym(rt, "rtSetDevice")) : nullptr;
    auto malloc_fn = rt ? reinterpret_cast<Malloc>(dlsym(rt, "rtMalloc")) : nullptr;
    void* p = nullptr;
    if (set_device == nullptr || malloc_fn == nullptr || set_device(0) != 0 ||
        malloc_fn(&p, 1 << 20, 0, 0) != 0) {
      _exit(3);
    }
    if (fork() == 0) {  // the grandchild outlives its parent, holding nothing
      close(ready[1]);
      close(hold[1]);
      char c;
      while (read(hold[0], &c, 1) > 0) {
      }
      _exit(0);
    }
    if (write(ready[1], "r", 1) != 1) {
      _exit(4);
    }
    pause();
    _exit(5);
  }
  ASSERT_GT(parent, 0);
  close(ready[1]);
  close(hold[0]);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1) << "the forking process failed to allocate";
  EXPECT_EQ(TotalBytes(), 1u << 20);
  kill(parent, SIGKILL);
  EXPECT_EQ(Wait(parent), 128 + SIGKILL);
  EXPECT_TRUE(AwaitTotal(0)) << "the live fork child kept the dead parent's slot";
  close(hold[1]);  // the grandchild (reparented) exits
  close(ready[0]);
}

// The sweeper's rule on the state itself: a SLOT_LOCK slot lives exactly while some other open
// file description holds its byte lock, whatever its pid says; PID slots keep the pid check.
TEST_F(PidNamespaceTest, SweepFollowsTheSlotLockNotThePid) {
  auto state = SharedState::Open(state_dir_);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  Result<int> owner = (*state)->OpenSlotLockFd();
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  ASSERT_EQ(TryLockProcSlot(*owner, 7), 0);
  {
    StateLock lock(**state);
    lock->procs[7] = NpuSimProc{};
    lock->procs[7].pid = 1;  // alive on the host, irrelevant
    lock->procs[7].liveness = NPUSIM_PROC_LIVENESS_SLOT_LOCK;
    lock->procs[7].used_bytes[0] = 4096;
    lock->procs[9] = NpuSimProc{};
    lock->procs[9].pid = 1;  // no lock held for slot 9: its owner is gone
    lock->procs[9].liveness = NPUSIM_PROC_LIVENESS_SLOT_LOCK;
    lock->procs[9].used_bytes[0] = 8192;
  }
  {
    StateLock lock(**state, /*force_sweep=*/true);
    EXPECT_EQ(lock->procs[7].pid, 1);
    EXPECT_EQ(lock->procs[9].pid, 0);
    EXPECT_EQ(ChipUsedBytes(*lock, 0), 4096u);
  }
  close(*owner);  // the owner "dies"
  {
    StateLock lock(**state, /*force_sweep=*/true);
    EXPECT_EQ(lock->procs[7].pid, 0);
    EXPECT_EQ(ChipUsedBytes(*lock, 0), 0u);
  }
}

}  // namespace
}  // namespace npushare::sim
