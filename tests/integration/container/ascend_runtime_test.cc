// The `ascend` runtime class (contract B) with real containers over npu-sim: a container with
// ASCEND_VISIBLE_DEVICES=1 sees exactly chip 1; ASCEND_VNPU_SPECS creates the vNPU through
// libdcmi.so, the application sees only the slice, and the vNPU is destroyed when the
// container stops (on its own or by Kill) and when the start fails. Runs for runc and the
// namespace runtime; needs root (and runc for the runc kind).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "integration/container/container_test_util.h"
#include "sim/container/runc_runtime.h"
#include "sim/container/subprocess.h"
#include "support/temp_dir.h"

namespace npushare::container_sim {
namespace {

using namespace std::chrono_literals;
using testing::BinDir;
using testing::Eventually;
using testing::LibDir;
using testing::ReadOr;

class AscendRuntimeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "containers need root (euid " << geteuid() << ")";
    }
    if (GetParam() == "runc" && !FindRunc().ok()) {
      GTEST_SKIP() << "runc is not installed";
    }
    ASSERT_FALSE(tmp_.path().empty());
    state_ = tmp_.path() + "/npu-state";
    std::ofstream(tmp_.path() + "/node.yaml") << "model: 910B3\ncards: 2\n";
    auto init = Host({BinDir() + "/npu-sim", "init", tmp_.path() + "/node.yaml"});
    ASSERT_EQ(init.exit_code, 0) << init.err;

    RuntimeOptions options;
    options.root_dir = tmp_.path() + "/root";
    options.kind = GetParam();
    options.ascend_hook = BinDir() + "/npushare-ascend-hook";
    options.driver_dirs = {std::filesystem::canonical(LibDir()).string(),
                           std::filesystem::canonical(BinDir()).string()};
    options.driver_env = {
        "NPU_SIM_STATE=" + state_,
        "LD_LIBRARY_PATH=" + std::filesystem::canonical(LibDir()).string(),
        "PATH=" + std::filesystem::canonical(BinDir()).string() + ":/usr/sbin:/usr/bin:/sbin:/bin"};
    auto runtime = MakeRuntime(options, nullptr);
    ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
    runtime_ = std::move(*runtime);
  }

  // Host: a tool run on the host against the same npu-sim state.
  CommandResult Host(const std::vector<std::string>& argv) {
    CommandOptions opts;
    opts.env = std::vector<std::string>{"NPU_SIM_STATE=" + state_, "LD_LIBRARY_PATH=" + LibDir(),
                                        "PATH=/usr/bin:/bin"};
    auto r = RunCommand(argv, opts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CommandResult{};
  }

  // VnpusOnChip1: the "Total number of vnpu" npu-smi reports for card 1 chip 0 (phy id 1).
  std::string VnpusOnChip1() {
    std::string out =
        Host({BinDir() + "/npu-smi", "info", "-t", "info-vnpu", "-i", "1", "-c", "0"}).out;
    size_t pos = out.find("Total number of vnpu: ");
    return pos == std::string::npos ? out
                                    : out.substr(pos + 22, out.find(' ', pos + 22) - pos - 22);
  }

  ContainerSpec Spec(const std::string& id, std::vector<std::string> env,
                     std::vector<std::string> args) {
    ContainerSpec spec;
    spec.id = id;
    spec.env = std::move(env);
    spec.args = std::move(args);
    spec.ascend_runtime = true;
    spec.log_path = tmp_.path() + "/logs/" + id + ".log";
    return spec;
  }

  std::string LogOf(const std::string& id) { return ReadOr(tmp_.path() + "/logs/" + id + ".log"); }

  npushare::testing::ScopedTempDir tmp_{"ascend-test"};
  std::string state_;
  std::unique_ptr<ContainerRuntime> runtime_;
};

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}

TEST_P(AscendRuntimeTest, ContainerSeesExactlyItsChip) {
  auto c = runtime_->Start(Spec("onechip", {"ASCEND_VISIBLE_DEVICES=1"}, {"npu-smi", "info"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto code = (*c)->Wait(30s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << LogOf("onechip");
  std::string log = LogOf("onechip");
  EXPECT_EQ(Count(log, "910B3"), 1u) << log;
  EXPECT_EQ(Count(log, "0000:C2:00.0"), 1u) << log;  // chip 1's bus id; chip 0 is C1
  EXPECT_EQ(Count(log, "0000:C1:00.0"), 0u) << log;
  // The host still sees both.
  EXPECT_EQ(Count(Host({BinDir() + "/npu-smi", "info"}).out, "910B3"), 2u);
  EXPECT_TRUE((*c)->Kill(0ms).ok());
}

TEST_P(AscendRuntimeTest, VnpuIsCreatedSeenAndDestroyedAtKill) {
  ASSERT_EQ(VnpusOnChip1(), "0");
  auto c = runtime_->Start(
      Spec("vnpu", {"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir05_1c_16g"},
           {"sh", "-c",
            "echo \"$ASCEND_VISIBLE_DEVICES $ASCEND_RUNTIME_OPTIONS\"; "
            "npu-sim-workload --oom-probe --chunk-mb 1024; echo done; sleep 1000"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(Eventually([&] { return LogOf("vnpu").find("done") != std::string::npos; }))
      << LogOf("vnpu");
  std::string log = LogOf("vnpu");
  // npu-sim numbers vNPUs 100 + 16*phy + k: the first slice of chip 1 is 116.
  EXPECT_EQ(log.substr(0, log.find('\n')), "116 VIRTUAL") << log;
  // The application allocates until the slice is full: 16 GB template, 15360 MB usable.
  EXPECT_NE(log.find("oom_code=207001"), std::string::npos) << log;
  EXPECT_NE(log.find("total_mb=15360"), std::string::npos) << log;
  std::string info =
      Host({BinDir() + "/npu-smi", "info", "-t", "info-vnpu", "-i", "1", "-c", "0"}).out;
  EXPECT_NE(info.find("vir05_1c_16g"), std::string::npos) << info;
  EXPECT_EQ(VnpusOnChip1(), "1");
  EXPECT_TRUE((*c)->Kill(0ms).ok());
  EXPECT_EQ(VnpusOnChip1(), "0");
}

TEST_P(AscendRuntimeTest, VnpuIsDestroyedWhenTheContainerExitsOnItsOwn) {
  auto c = runtime_->Start(Spec("vnpuexit",
                                {"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir10_3c_32g"},
                                {"npu-sim-workload", "--weights-mb", "64", "--seconds", "0.1"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto code = (*c)->Wait(30s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << LogOf("vnpuexit");
  EXPECT_NE(LogOf("vnpuexit").find("alloc_mb=64"), std::string::npos) << LogOf("vnpuexit");
  // poststop ran when the container stopped, before Wait returned.
  EXPECT_EQ(VnpusOnChip1(), "0");
  EXPECT_TRUE((*c)->Kill(0ms).ok());
}

TEST_P(AscendRuntimeTest, RuntimeOptionsAreHonoured) {
  // NODRV: no driver mounts, so the tools are not there; the chip list still applies.
  auto c =
      runtime_->Start(Spec("nodrv", {"ASCEND_VISIBLE_DEVICES=0", "ASCEND_RUNTIME_OPTIONS=NODRV"},
                           {"sh", "-c",
                            "echo \"$ASCEND_VISIBLE_DEVICES $ASCEND_RUNTIME_OPTIONS\"; "
                            "test -e " +
                                BinDir() + "/npu-smi || echo no-driver"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Wait(30s).ok());
  EXPECT_EQ(LogOf("nodrv"), "0 NODRV\nno-driver\n");
  EXPECT_TRUE((*c)->Kill(0ms).ok());
}

TEST_P(AscendRuntimeTest, BadRequestsFailTheStartAndLeaveNoVnpu) {
  struct Case {
    const char* id;
    std::vector<std::string> env;
    const char* expect;
  } cases[] = {
      {"badtmpl", {"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir99"}, "vir99"},
      {"twochips",
       {"ASCEND_VISIBLE_DEVICES=0,1", "ASCEND_VNPU_SPECS=vir05_1c_16g"},
       "exactly one device"},
      {"virtual",
       {"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir05_1c_16g",
        "ASCEND_RUNTIME_OPTIONS=VIRTUAL"},
       "VIRTUAL"},
      {"nochip", {"ASCEND_VISIBLE_DEVICES=7"}, "chip 7"},
      {"badopts", {"ASCEND_VISIBLE_DEVICES=1", "ASCEND_RUNTIME_OPTIONS=FAST"}, "FAST"},
      {"mixed", {"ASCEND_VISIBLE_DEVICES=0,npu-1"}, "mixed"},
  };
  for (const auto& tc : cases) {
    auto c = runtime_->Start(Spec(tc.id, tc.env, {"true"}));
    ASSERT_FALSE(c.ok()) << tc.id;
    EXPECT_NE(c.status().message().find(tc.expect), std::string::npos)
        << tc.id << ": " << c.status().ToString();
    EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/root/bundles/" + tc.id)) << tc.id;
  }
  EXPECT_EQ(VnpusOnChip1(), "0");
}

TEST_P(AscendRuntimeTest, VnpuIsDestroyedWhenTheStartFails) {
  // The create step makes the vNPU; then the command cannot be started.
  auto c = runtime_->Start(Spec("failstart",
                                {"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir05_1c_16g"},
                                {"npushare-no-such-command"}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(VnpusOnChip1(), "0");
}

TEST_P(AscendRuntimeTest, HookStepsRunInOrder) {
  // A wrapper around the hook records each invocation: the runtime's create step, then the
  // createRuntime hook (run by runc, or by the namespace runtime), then poststop.
  std::string calls = tmp_.path() + "/calls";
  std::string wrapper = tmp_.path() + "/hook-wrapper";
  {
    std::ofstream w(wrapper);
    w << "#!/bin/sh\necho \"$1\" >> " << calls << "\nexec " << BinDir()
      << "/npushare-ascend-hook \"$@\"\n";
  }
  ASSERT_EQ(chmod(wrapper.c_str(), 0700), 0);
  RuntimeOptions options;
  options.root_dir = tmp_.path() + "/root2";
  options.kind = GetParam();
  options.ascend_hook = wrapper;
  options.driver_env = {"NPU_SIM_STATE=" + state_, "LD_LIBRARY_PATH=" + LibDir()};
  auto runtime = MakeRuntime(options, nullptr);
  ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
  auto c = (*runtime)->Start(Spec("steps",
                                  {"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir05_1c_16g"},
                                  {"sh", "-c", "echo $ASCEND_VISIBLE_DEVICES"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Wait(30s).ok());
  EXPECT_EQ(LogOf("steps"), "116\n");
  EXPECT_TRUE((*c)->Kill(0ms).ok());
  EXPECT_EQ(ReadOr(calls), "create\ncreateRuntime\npoststop\n");
  EXPECT_EQ(VnpusOnChip1(), "0");
}

TEST_P(AscendRuntimeTest, ANewRuntimeCleansUpAfterADeadOne) {
  auto c = runtime_->Start(Spec(
      "orphan", {"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir05_1c_16g"}, {"sleep", "1000"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  int pid = (*c)->pid();
  ASSERT_EQ(VnpusOnChip1(), "1");
  // The owner "dies": the container object is leaked, nothing is cleaned up.
  Container* leaked = c->release();
  (void)leaked;
  RuntimeOptions options;
  options.root_dir = tmp_.path() + "/root";
  options.kind = GetParam();
  options.ascend_hook = BinDir() + "/npushare-ascend-hook";
  options.driver_env = {"NPU_SIM_STATE=" + state_, "LD_LIBRARY_PATH=" + LibDir()};
  auto fresh = MakeRuntime(options, nullptr);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_TRUE(Eventually([&] { return testing::ProcessGone(pid); }));
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/root/bundles/orphan"));
  EXPECT_EQ(VnpusOnChip1(), "0");
}

INSTANTIATE_TEST_SUITE_P(Kinds, AscendRuntimeTest, ::testing::Values("runc", "namespace"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace npushare::container_sim
