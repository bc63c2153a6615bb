// The container runtimes (runc and the mount-namespace fallback) run real containers: each
// test runs for both kinds and checks what the contract promises from the outside (log file,
// exit code, env/cwd, read-only mounts refusing writes with EROFS, device nodes, nothing left
// behind after Kill). Needs root (and runc for the runc kind); skipped with the reason
// otherwise.
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/container/container_test_util.h"
#include "sim/container/bundle.h"
#include "sim/container/runc_runtime.h"
#include "sim/container/subprocess.h"
#include "support/temp_dir.h"

namespace npushare::container_sim {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;
using testing::ProcessGone;
using testing::ReadOr;

// CgroupDirs: where runc puts cgroup `name` (relative to our own cgroup): one directory per
// v1 hierarchy we can see (pids, memory, devices, freezer), or the v2 one.
std::vector<std::string> CgroupDirs(const std::string& name) {
  std::vector<std::string> out;
  std::stringstream lines(ReadOr("/proc/self/cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    size_t a = line.find(':');
    size_t b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) {
      continue;
    }
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (path == "/") {
      path = "";
    }
    if (controllers == "pids" || controllers == "memory" || controllers == "devices" ||
        controllers == "freezer") {
      out.push_back("/sys/fs/cgroup/" + controllers + path + "/" + name);
    } else if (controllers.empty() && !std::filesystem::exists("/sys/fs/cgroup/pids")) {
      out.push_back("/sys/fs/cgroup" + path + "/" + name);
    }
  }
  return out;
}

class ContainerRuntimeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "containers need root (euid " << geteuid() << ")";
    }
    if (GetParam() == "runc" && !FindRunc().ok()) {
      GTEST_SKIP() << "runc is not installed";
    }
    ASSERT_FALSE(tmp_.path().empty());
    root_ = tmp_.path() + "/root";
    RuntimeOptions options;
    options.root_dir = root_;
    options.kind = GetParam();
    std::string why;
    auto runtime = MakeRuntime(options, &why);
    ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
    EXPECT_EQ(why, "");
    runtime_ = std::move(*runtime);
    ASSERT_EQ(runtime_->name(), GetParam());
  }

  ContainerSpec Spec(const std::string& id, std::vector<std::string> args) {
    ContainerSpec spec;
    spec.id = id;
    spec.args = std::move(args);
    spec.log_path = tmp_.path() + "/logs/" + id + ".log";
    return spec;
  }

  // Run: starts, waits (30 s) and returns the exit code; the log is in LogOf(id).
  int Run(const ContainerSpec& spec) {
    auto c = runtime_->Start(spec);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) {
      return -1;
    }
    Result<int> code = (*c)->Wait(30s);
    EXPECT_TRUE(code.ok()) << code.status().ToString();
    EXPECT_TRUE((*c)->Kill(0ms).ok());
    return code.ok() ? *code : -1;
  }

  std::string LogOf(const std::string& id) { return ReadOr(tmp_.path() + "/logs/" + id + ".log"); }

  void ExpectNothingLeft(const std::string& id) {
    EXPECT_FALSE(std::filesystem::exists(root_ + "/bundles/" + id));
    EXPECT_EQ(MountPointsUnder(tmp_.path()), std::vector<std::string>{});
    if (GetParam() == "runc") {
      auto runc = FindRunc();
      ASSERT_TRUE(runc.ok());
      auto list = RunCommand({*runc, "--root", root_ + "/runc", "list", "-q"}, {});
      ASSERT_TRUE(list.ok());
      EXPECT_EQ(list->out.find(id), std::string::npos) << list->out;
    }
  }

  npushare::testing::ScopedTempDir tmp_{"container-test"};
  std::string root_;
  std::unique_ptr<ContainerRuntime> runtime_;
};

TEST_P(ContainerRuntimeTest, EchoGoesToTheLogFile) {
  EXPECT_EQ(Run(Spec("echo", {"echo", "hello", "world"})), 0);
  EXPECT_EQ(LogOf("echo"), "hello world\n");
  struct stat st;
  ASSERT_EQ(stat((tmp_.path() + "/logs/echo.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  ASSERT_EQ(stat((tmp_.path() + "/logs").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  ExpectNothingLeft("echo");
}

TEST_P(ContainerRuntimeTest, LogIsAppendedAcrossRuns) {
  EXPECT_EQ(Run(Spec("app", {"echo", "one"})), 0);
  EXPECT_EQ(Run(Spec("app", {"sh", "-c", "echo two >&2"})), 0);
  EXPECT_EQ(LogOf("app"), "one\ntwo\n");
}

TEST_P(ContainerRuntimeTest, ExitCodeAndSignalPropagate) {
  EXPECT_EQ(Run(Spec("exit7", {"sh", "-c", "exit 7"})), 7);
  // A signal that ends the init (sent from the host: inside, the init of a pid namespace is
  // immune to SIGKILL) is reported as 128 + signal.
  auto c = runtime_->Start(Spec("killed", {"sleep", "1000"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(kill((*c)->pid(), SIGKILL), 0);
  auto code = (*c)->Wait(30s);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 128 + SIGKILL);
  EXPECT_EQ((*c)->ExitCode(), 128 + SIGKILL);
  EXPECT_TRUE((*c)->Kill(0ms).ok());
}

TEST_P(ContainerRuntimeTest, EnvCwdPathAndHostname) {
  ContainerSpec spec = Spec("env", {"sh", "-c", "echo \"$FOO|$(pwd)|$PATH|$(hostname)\""});
  spec.env = {"FOO=bar", "FOO=baz"};
  spec.working_dir = "/tmp";
  EXPECT_EQ(Run(spec), 0);
  EXPECT_EQ(LogOf("env"), std::string("baz|/tmp|") + kDefaultPath + "|env\n");
}

TEST_P(ContainerRuntimeTest, MissingWorkingDirectoryIsCreated) {
  ContainerSpec spec = Spec("cwd", {"sh", "-c", "pwd; touch f && echo writable"});
  spec.working_dir = "/tmp/work/dir";
  EXPECT_EQ(Run(spec), 0);
  EXPECT_EQ(LogOf("cwd"), "/tmp/work/dir\nwritable\n");
}

TEST_P(ContainerRuntimeTest, UidAndGid) {
  ContainerSpec spec = Spec("user", {"sh", "-c", "echo $(id -u) $(id -g)"});
  spec.uid = 1234;
  spec.gid = 4321;
  EXPECT_EQ(Run(spec), 0);
  EXPECT_EQ(LogOf("user"), "1234 4321\n");
}

TEST_P(ContainerRuntimeTest, ReadOnlyMountsRefuseWritesAndReadWriteOnesAccept) {
  std::string ro = tmp_.path() + "/ro";
  std::string rw = tmp_.path() + "/rw";
  ASSERT_EQ(mkdir(ro.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(rw.c_str(), 0755), 0);
  std::ofstream(ro + "/data") << "kept";
  ContainerSpec spec = Spec("mounts", {"sh", "-c",
                                       "cat /data/ro/data; echo; "
                                       "{ echo x > /data/ro/new; } 2>/dev/null || echo ro-refused; "
                                       "touch /usr/npushare-probe 2>/dev/null || echo usr-refused; "
                                       "echo y > /data/rw/new && echo rw-ok; "
                                       "echo z > /etc/npushare-probe && echo etc-ok; "
                                       "echo t > /tmp/f && echo tmp-ok; "
                                       "touch /data/ro/new 2>&1 | sed 's/.*: //'"});
  spec.mounts = {{ro, "/data/ro", true}, {rw, "/data/rw", false}};
  EXPECT_EQ(Run(spec), 0);
  EXPECT_EQ(LogOf("mounts"), std::string("kept\nro-refused\nusr-refused\nrw-ok\netc-ok\ntmp-ok\n") +
                                 strerror(EROFS) + "\n");
  EXPECT_EQ(ReadOr(rw + "/new"), "y\n");
  EXPECT_FALSE(std::filesystem::exists(ro + "/new"));
  EXPECT_FALSE(std::filesystem::exists("/etc/npushare-probe"));
  EXPECT_FALSE(std::filesystem::exists("/usr/npushare-probe"));
  ExpectNothingLeft("mounts");
}

TEST_P(ContainerRuntimeTest, FileMountBelowReadOnlySystemDirectory) {
  // Soft-slice pods get /usr/local/bin/npu-smi and /etc/ld.so.preload as file mounts: the
  // mount point must be made although /usr is a read-only view of the host.
  std::string file = tmp_.path() + "/tool";
  std::ofstream(file) << "tool-content";
  std::string preload = tmp_.path() + "/preload";
  std::ofstream(preload) << "";
  ContainerSpec spec =
      Spec("filemount", {"sh", "-c",
                         "cat /usr/local/npushare-test/deep/tool; echo; "
                         "wc -c < /etc/ld.so.preload; ls /usr/bin/sh; "
                         "{ echo x > /etc/ld.so.preload; } 2>/dev/null || echo preload-ro"});
  spec.mounts = {{file, "/usr/local/npushare-test/deep/tool", true},
                 {preload, "/etc/ld.so.preload", true}};
  EXPECT_EQ(Run(spec), 0);
  std::string log = LogOf("filemount");
  EXPECT_EQ(log, "tool-content\n0\n/usr/bin/sh\npreload-ro\n");
  EXPECT_FALSE(std::filesystem::exists("/usr/local/npushare-test"));
  ExpectNothingLeft("filemount");
}

TEST_P(ContainerRuntimeTest, DeviceNodeAppears) {
  ContainerSpec spec = Spec("device", {"sh", "-c",
                                       "test -c /dev/npushare-null && echo char; "
                                       "echo x > /dev/npushare-null && echo writable; "
                                       "stat -c '%t:%T' /dev/npushare-null"});
  spec.devices = {{"/dev/null", "/dev/npushare-null"}};  // permissions "rw" (the default)
  EXPECT_EQ(Run(spec), 0);
  EXPECT_EQ(LogOf("device"), "char\nwritable\n1:3\n");
}

TEST_P(ContainerRuntimeTest, KillOfSleepingContainerLeavesNothingBehind) {
  auto c = runtime_->Start(Spec("sleeper", {"sleep", "1000"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  int pid = (*c)->pid();
  ASSERT_GT(pid, 1);
  EXPECT_FALSE(ProcessGone(pid));
  EXPECT_EQ((*c)->ExitCode(), std::nullopt);
  EXPECT_EQ((*c)->Wait(10ms).status().code(), StatusCode::kDeadlineExceeded);
  std::string cgroups = ReadOr("/proc/" + std::to_string(pid) + "/cgroup");
  std::vector<std::string> cgroup_dirs = CgroupDirs(CgroupName(root_, "sleeper"));
  ASSERT_FALSE(cgroup_dirs.empty());
  if (GetParam() == "runc") {
    EXPECT_NE(cgroups.find(CgroupName(root_, "sleeper")), std::string::npos) << cgroups;
    for (const auto& dir : cgroup_dirs) {
      EXPECT_TRUE(std::filesystem::exists(dir)) << dir;
    }
  }
  // `sleep` is the init of its pid namespace and has no SIGTERM handler: the grace runs out
  // and SIGKILL ends it.
  Status killed = (*c)->Kill(200ms);
  EXPECT_TRUE(killed.ok()) << killed.ToString();
  EXPECT_EQ((*c)->ExitCode(), 128 + SIGKILL);
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_TRUE((*c)->Kill(0ms).ok());  // idempotent
  ExpectNothingLeft("sleeper");
  for (const auto& dir : cgroup_dirs) {
    EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
  }
}

TEST_P(ContainerRuntimeTest, KillSendsTermFirst) {
  auto c = runtime_->Start(Spec("trapper", {"sh", "-c",
                                            "trap 'echo got-term; exit 3' TERM; echo ready; "
                                            "while true; do sleep 0.05; done"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(Eventually([&] { return LogOf("trapper") == "ready\n"; }));
  EXPECT_TRUE((*c)->Kill(30s).ok());
  EXPECT_EQ((*c)->ExitCode(), 3);
  EXPECT_EQ(LogOf("trapper"), "ready\ngot-term\n");
  ExpectNothingLeft("trapper");
}

TEST_P(ContainerRuntimeTest, DestructorKills) {
  int pid = 0;
  {
    auto c = runtime_->Start(Spec("scoped", {"sleep", "1000"}));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    pid = (*c)->pid();
  }
  EXPECT_TRUE(ProcessGone(pid));
  ExpectNothingLeft("scoped");
}

TEST_P(ContainerRuntimeTest, DuplicateIdIsRefused) {
  auto a = runtime_->Start(Spec("dup", {"sleep", "1000"}));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = runtime_->Start(Spec("dup", {"sleep", "1000"}));
  EXPECT_EQ(b.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE((*a)->Kill(0ms).ok());
}

TEST_P(ContainerRuntimeTest, MissingCommandFailsStartAndLeavesNothing) {
  auto c = runtime_->Start(Spec("missing", {"npushare-no-such-command"}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("npushare-no-such-command"), std::string::npos)
      << c.status().ToString();
  ExpectNothingLeft("missing");
}

TEST_P(ContainerRuntimeTest, BadSpecsAreRejected) {
  EXPECT_EQ(runtime_->Start(Spec("Bad_Upper", {"true"})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(runtime_->Start(Spec("noargs", {})).status().code(), StatusCode::kInvalidArgument);
  ContainerSpec spec = Spec("badmount", {"true"});
  spec.mounts = {{"/tmp", "/data/../etc", true}};
  EXPECT_EQ(runtime_->Start(spec).status().code(), StatusCode::kInvalidArgument);
  spec = Spec("badenv", {"true"});
  spec.env = {"NOEQUALS"};
  EXPECT_EQ(runtime_->Start(spec).status().code(), StatusCode::kInvalidArgument);
  spec = Spec("ascend", {"true"});
  spec.ascend_runtime = true;  // no hook configured
  EXPECT_EQ(runtime_->Start(spec).status().code(), StatusCode::kFailedPrecondition);
  ExpectNothingLeft("ascend");
}

TEST_P(ContainerRuntimeTest, ConcurrentStartsFromManyThreads) {
  // The kubelet starts containers of different pods at the same time.
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  std::vector<int> codes(kThreads, -1);
  std::vector<ContainerSpec> specs;
  for (int i = 0; i < kThreads; ++i) {
    specs.push_back(Spec("par" + std::to_string(i), {"sh", "-c", "echo $N; exit $N"}));
    specs.back().env = {"N=" + std::to_string(i)};
  }
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto c = runtime_->Start(specs[i]);
      if (!c.ok()) {
        return;
      }
      auto code = (*c)->Wait(30s);
      codes[i] = code.ok() ? *code : -2;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(codes[i], i);
    EXPECT_EQ(LogOf("par" + std::to_string(i)), std::to_string(i) + "\n");
    ExpectNothingLeft("par" + std::to_string(i));
  }
}

TEST_P(ContainerRuntimeTest, HostNetworkIsShared) {
  // 127.0.0.1 services of the host must be reachable: the container has the host's network
  // namespace.
  std::string host_ns = std::filesystem::read_symlink("/proc/self/ns/net").string();
  auto c = runtime_->Start(Spec("net", {"sleep", "1000"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string ns =
      std::filesystem::read_symlink("/proc/" + std::to_string((*c)->pid()) + "/ns/net").string();
  std::string mnt =
      std::filesystem::read_symlink("/proc/" + std::to_string((*c)->pid()) + "/ns/mnt").string();
  EXPECT_EQ(ns, host_ns);
  EXPECT_NE(mnt, std::filesystem::read_symlink("/proc/self/ns/mnt").string());
  EXPECT_TRUE((*c)->Kill(0ms).ok());
}

INSTANTIATE_TEST_SUITE_P(Kinds, ContainerRuntimeTest, ::testing::Values("runc", "namespace"),
                         [](const auto& info) { return info.param; });

TEST(MakeRuntimeTest, AutoPicksRuncHereAndFallsBackWithTheReason) {
  if (geteuid() != 0 || !FindRunc().ok()) {
    GTEST_SKIP() << "needs root and runc";
  }
  npushare::testing::ScopedTempDir tmp("make-runtime");
  RuntimeOptions options;
  options.root_dir = tmp.path() + "/root";
  std::string why = "stale";
  auto runtime = MakeRuntime(options, &why);
  ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
  EXPECT_EQ((*runtime)->name(), "runc");
  EXPECT_EQ(why, "");

  // A runc that cannot run containers here: auto falls back and says why; "runc" refuses.
  std::string fake_dir = tmp.path() + "/fakebin";
  ASSERT_EQ(mkdir(fake_dir.c_str(), 0755), 0);
  {
    std::ofstream fake(fake_dir + "/runc");
    fake << "#!/bin/sh\necho 'fake runc: cgroups are not writable here' >&2\nexit 1\n";
  }
  ASSERT_EQ(chmod((fake_dir + "/runc").c_str(), 0755), 0);
  std::string old_path = getenv("PATH") != nullptr ? getenv("PATH") : "";
  setenv("PATH", (fake_dir + ":" + old_path).c_str(), 1);
  auto fallback = MakeRuntime(options, &why);
  options.kind = "runc";
  auto strict = MakeRuntime(options, nullptr);
  setenv("PATH", old_path.c_str(), 1);
  ASSERT_TRUE(fallback.ok()) << fallback.status().ToString();
  EXPECT_EQ((*fallback)->name(), "namespace");
  EXPECT_NE(why.find("cgroups are not writable here"), std::string::npos) << why;
  EXPECT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("cgroups are not writable here"), std::string::npos)
      << strict.status().ToString();

  options.kind = "podman";
  EXPECT_EQ(MakeRuntime(options, nullptr).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare::container_sim
