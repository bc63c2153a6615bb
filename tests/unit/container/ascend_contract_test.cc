// The ascend RuntimeClass contract (ascend-abi.md §4.2) as npushare-ascend-hook applies it,
// against a fake driver; and the hook binary's answers to hostile input.
#include "sim/container/ascend_hook/ascend_contract.h"

#include <gtest/gtest.h>

#include <map>

#include "sim/container/subprocess.h"

namespace npushare::container_sim {
namespace {

using namespace std::chrono_literals;

class FakeDriver : public VnpuDriver {
 public:
  Result<ChipLocation> Locate(uint32_t phy_id) override {
    if (phy_id >= chips) {
      return NotFoundError("chip " + std::to_string(phy_id) + " does not exist");
    }
    return ChipLocation{static_cast<int32_t>(phy_id), 0};
  }
  Result<uint32_t> CreateVnpu(const ChipLocation& chip, const std::string& tmpl) override {
    uint32_t id = 100 + 16 * static_cast<uint32_t>(chip.card) + next++;
    vnpus[id] = tmpl;
    return id;
  }
  Status DestroyVnpu(const ChipLocation&, uint32_t vdev_id) override {
    if (busy_destroys > 0) {
      --busy_destroys;
      return AlreadyExistsError("in use");
    }
    if (vnpus.erase(vdev_id) == 0) {
      return NotFoundError("gone");
    }
    return OkStatus();
  }
  uint32_t chips = 2;
  uint32_t next = 0;
  int busy_destroys = 0;
  std::map<uint32_t, std::string> vnpus;
};

nlohmann::json Config(std::vector<std::string> env) {
  return {{"process", {{"env", env}, {"args", {"true"}}}},
          {"mounts", nlohmann::json::array()},
          {"linux", {{"devices", nlohmann::json::array()}}}};
}

struct Applied {
  Status status;
  nlohmann::json config;
  std::optional<nlohmann::json> record;
};

Applied Apply(FakeDriver& driver, std::vector<std::string> env,
              std::vector<std::string> driver_dirs = {"/opt/driver"}) {
  Applied out;
  out.config = Config(std::move(env));
  CreateInputs in{"/bundle", std::move(driver_dirs), "/run/npu-state"};
  out.status = ApplyCreate(in, driver, &out.config, [&](const nlohmann::json& rec) {
    out.record = rec;
    return OkStatus();
  });
  return out;
}

std::vector<std::string> EnvOf(const Applied& a) {
  return a.config["process"]["env"].get<std::vector<std::string>>();
}

TEST(RuntimeOptionsTest, AcceptsExactlyTheDocumentedForms) {
  EXPECT_FALSE(ParseRuntimeOptions("")->nodrv);
  EXPECT_TRUE(ParseRuntimeOptions("NODRV")->nodrv);
  EXPECT_TRUE(ParseRuntimeOptions("VIRTUAL")->virtual_ids);
  auto both = ParseRuntimeOptions("NODRV,VIRTUAL");
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE(both->nodrv && both->virtual_ids);
  for (const char* bad : {"nodrv", "FAST", "NODRV,", "NODRV,NODRV", ",VIRTUAL", "NODRV VIRTUAL"}) {
    EXPECT_FALSE(ParseRuntimeOptions(bad).ok()) << bad;
  }
}

TEST(VnpuTemplateTest, AllowListOnly) {
  EXPECT_TRUE(IsAllowedVnpuTemplate("vir05_1c_16g"));
  EXPECT_TRUE(IsAllowedVnpuTemplate("vir12_3c_32g"));
  EXPECT_FALSE(IsAllowedVnpuTemplate("vir05_1c_16g "));
  EXPECT_FALSE(IsAllowedVnpuTemplate("vir99"));
  EXPECT_FALSE(IsAllowedVnpuTemplate(""));
}

TEST(ApplyCreateTest, VnpuIsCreatedRecordedAndSubstituted) {
  FakeDriver driver;
  Applied a = Apply(driver, {"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir05_1c_16g"});
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  ASSERT_EQ(driver.vnpus.size(), 1u);
  EXPECT_EQ(driver.vnpus.begin()->first, 116u);
  EXPECT_EQ(driver.vnpus.begin()->second, "vir05_1c_16g");
  ASSERT_TRUE(a.record.has_value());
  EXPECT_EQ((*a.record)["vdev_id"], 116);
  EXPECT_EQ((*a.record)["card"], 1);
  std::vector<std::string> env = EnvOf(a);
  EXPECT_EQ(LastEnv(env, "ASCEND_VISIBLE_DEVICES"), "116");
  EXPECT_EQ(LastEnv(env, "ASCEND_RUNTIME_OPTIONS"), "VIRTUAL");
  // The driver dirs read-only, the simulator's state read-write.
  ASSERT_EQ(a.config["mounts"].size(), 2u);
  EXPECT_EQ(a.config["mounts"][0]["destination"], "/opt/driver");
  EXPECT_EQ(a.config["mounts"][0]["options"][1], "ro");
  EXPECT_EQ(a.config["mounts"][1]["destination"], "/run/npu-state");
  EXPECT_EQ(a.config["mounts"][1]["options"][1], "rw");
}

TEST(ApplyCreateTest, LastOccurrenceWinsAndDuplicatesAreRemoved) {
  FakeDriver driver;
  Applied a = Apply(driver, {"ASCEND_VISIBLE_DEVICES=0", "A=1", "ASCEND_VISIBLE_DEVICES=1",
                             "ASCEND_RUNTIME_OPTIONS=VIRTUAL", "ASCEND_RUNTIME_OPTIONS=NODRV"});
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  std::vector<std::string> env = EnvOf(a);
  EXPECT_EQ(std::count_if(
                env.begin(), env.end(),
                [](const std::string& kv) { return kv.rfind("ASCEND_VISIBLE_DEVICES=", 0) == 0; }),
            1);
  EXPECT_EQ(LastEnv(env, "ASCEND_VISIBLE_DEVICES"), "1");
  EXPECT_EQ(LastEnv(env, "ASCEND_RUNTIME_OPTIONS"), "NODRV");
  // NODRV: no driver mounts, only the simulator's state.
  ASSERT_EQ(a.config["mounts"].size(), 1u);
  EXPECT_EQ(a.config["mounts"][0]["destination"], "/run/npu-state");
}

TEST(ApplyCreateTest, NoDevicesMeansNoChipsForTheSimulator) {
  FakeDriver driver;
  Applied a = Apply(driver, {});
  ASSERT_TRUE(a.status.ok());
  EXPECT_EQ(LastEnv(EnvOf(a), "ASCEND_VISIBLE_DEVICES"), "void");
}

TEST(ApplyCreateTest, RefusesWhatTheRuntimeRefuses) {
  struct Case {
    std::vector<std::string> env;
  } cases[] = {
      {{"ASCEND_VISIBLE_DEVICES=0,1", "ASCEND_VNPU_SPECS=vir05_1c_16g"}},
      {{"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir05_1c_16g",
        "ASCEND_RUNTIME_OPTIONS=VIRTUAL"}},
      {{"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=bogus"}},
      {{"ASCEND_VISIBLE_DEVICES=5"}},
      {{"ASCEND_VISIBLE_DEVICES=0,npu-1"}},
      {{"ASCEND_VISIBLE_DEVICES=1-0"}},
      {{"ASCEND_VISIBLE_DEVICES=1", "ASCEND_RUNTIME_OPTIONS=X"}},
  };
  for (const auto& tc : cases) {
    FakeDriver driver;
    Applied a = Apply(driver, tc.env);
    EXPECT_FALSE(a.status.ok()) << ::testing::PrintToString(tc.env);
    EXPECT_TRUE(driver.vnpus.empty());
  }
}

TEST(ApplyCreateTest, RecordFailureDestroysTheNewVnpu) {
  FakeDriver driver;
  nlohmann::json config = Config({"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir05_1c_16g"});
  Status s = ApplyCreate({"/b", {}, ""}, driver, &config,
                         [](const nlohmann::json&) { return InternalError("disk full"); });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(driver.vnpus.empty());
}

TEST(DestroyRecordedTest, RetriesWhileBusyAndIsIdempotent) {
  FakeDriver driver;
  Applied a = Apply(driver, {"ASCEND_VISIBLE_DEVICES=1", "ASCEND_VNPU_SPECS=vir05_1c_16g"});
  ASSERT_TRUE(a.record.has_value());
  driver.busy_destroys = 3;
  EXPECT_TRUE(DestroyRecorded(*a.record, driver, 10s).ok());
  EXPECT_TRUE(driver.vnpus.empty());
  EXPECT_TRUE(DestroyRecorded(*a.record, driver, 10s).ok());  // already gone
  driver.busy_destroys = 1000;
  driver.vnpus[116] = "vir05_1c_16g";
  EXPECT_EQ(DestroyRecorded(*a.record, driver, 0ms).code(), StatusCode::kAlreadyExists);
}

TEST(CheckCreateRuntimeTest, EveryChipMustExist) {
  FakeDriver driver;
  EXPECT_TRUE(
      CheckCreateRuntime(Config({"ASCEND_VISIBLE_DEVICES=0,1"}), std::nullopt, driver).ok());
  EXPECT_FALSE(
      CheckCreateRuntime(Config({"ASCEND_VISIBLE_DEVICES=0,2"}), std::nullopt, driver).ok());
}

TEST(BundleFromStateTest, RejectsHostileStates) {
  EXPECT_EQ(*BundleFromState(R"({"ociVersion":"1.0.2","id":"x","bundle":"/b/x"})"), "/b/x");
  for (const std::string& bad : std::vector<std::string>{
           "", "null", "[]", "{", R"({"bundle":1})", R"({"bundle":"rel/path"})",
           R"({"bundle":"/a/../etc"})", R"({"bundle":"/a/.."})", R"({"id":"x"})",
           "{\"bundle\":\"/" + std::string(70000, 'a') + "\"}"}) {
    EXPECT_FALSE(BundleFromState(bad).ok()) << bad.substr(0, 40);
  }
}

TEST(AscendHookBinaryTest, HostileInputGetsAClearErrorAndNonZeroExit) {
  std::string hook = std::string(NPUSHARE_BIN_DIR) + "/npushare-ascend-hook";
  struct Case {
    std::vector<std::string> args;
    std::string stdin_data;
    int exit_code;
    const char* message;
  } cases[] = {
      {{}, "", 2, "usage"},
      {{"frobnicate"}, "", 2, "unknown command"},
      {{"poststop", "extra"}, "", 2, "unknown command"},
      {{"poststop"}, "not json", 1, "not a JSON object"},
      {{"poststop"}, std::string(100000, '{'), 1, "larger than 64 KiB"},
      {{"createRuntime"}, R"({"bundle":"../x"})", 1, "clean absolute path"},
      {{"createRuntime"}, R"({"bundle":"/nonexistent-npushare"})", 1, "config.json"},
      {{"create"}, "", 1, "--bundle is required"},
      {{"create", "--bundle"}, "", 1, "unexpected argument"},
      {{"create", "--bundle", "/x/../y"}, "", 1, "clean absolute path"},
  };
  for (const auto& tc : cases) {
    std::vector<std::string> argv = {hook};
    argv.insert(argv.end(), tc.args.begin(), tc.args.end());
    CommandOptions opts;
    opts.stdin_data = tc.stdin_data;
    opts.env = std::vector<std::string>{"PATH=/usr/bin:/bin"};
    auto r = RunCommand(argv, opts);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->exit_code, tc.exit_code) << ::testing::PrintToString(tc.args) << r->err;
    EXPECT_NE(r->err.find(tc.message), std::string::npos)
        << ::testing::PrintToString(tc.args) << ": " << r->err;
  }
  // No vNPU record: poststop has nothing to do (idempotent after a successful poststop).
  auto r = RunCommand({hook, "poststop"}, {.env = std::vector<std::string>{},
                                           .stdin_data = R"({"bundle":"/nonexistent-npushare"})"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
}

}  // namespace
}  // namespace npushare::container_sim
