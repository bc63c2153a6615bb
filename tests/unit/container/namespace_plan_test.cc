// Pure parts of the container runtime: spec validation, env merging and the namespace
// runtime's reading of config.json (which must refuse what it does not understand).
#include "sim/container/namespace_plan.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include "sim/container/bundle.h"

namespace npushare::container_sim {
namespace {

nlohmann::json MinimalConfig() {
  return {{"root", {{"path", "/b/rootfs"}, {"readonly", true}}},
          {"process", {{"args", {"echo", "hi"}}, {"env", {"PATH=/bin:/usr/bin"}}, {"cwd", "/w"}}},
          {"mounts",
           {{{"destination", "/tmp"},
             {"type", "tmpfs"},
             {"source", "tmpfs"},
             {"options", {"nosuid", "nodev", "mode=1777"}}},
            {{"destination", "/data"},
             {"type", "bind"},
             {"source", "/"},
             {"options", {"rbind", "ro", "nosuid"}}}}}};
}

TEST(NamespacePlanTest, TranslatesMountsAndResolvesTheCommand) {
  auto plan = PlanFromConfig(MinimalConfig());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->mounts.size(), 2u);
  EXPECT_EQ(plan->mounts[0].fstype, "tmpfs");
  EXPECT_EQ(plan->mounts[0].flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV));
  EXPECT_EQ(plan->mounts[0].data, "mode=1777");
  EXPECT_EQ(plan->mounts[1].target, "/b/rootfs/data");
  EXPECT_EQ(plan->mounts[1].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(plan->mounts[1].remount_flags,
            static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID));
  EXPECT_EQ(plan->exec_candidates, (std::vector<std::string>{"/bin/echo", "/usr/bin/echo"}));
  EXPECT_EQ(plan->cwd_mkdirs, std::vector<std::string>{"/b/rootfs/w"});
}

TEST(NamespacePlanTest, RefusesWhatItCannotHonour) {
  auto with = [](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json c = MinimalConfig();
    edit(c);
    return PlanFromConfig(c).status();
  };
  EXPECT_FALSE(with([](auto& c) { c["mounts"][0]["type"] = "overlay"; }).ok());
  EXPECT_FALSE(with([](auto& c) { c["mounts"][1]["destination"] = "/data/../etc"; }).ok());
  EXPECT_FALSE(with([](auto& c) { c["mounts"][1]["source"] = "/no/such/source"; }).ok());
  EXPECT_FALSE(with([](auto& c) { c["root"]["path"] = "/"; }).ok());
  EXPECT_FALSE(with([](auto& c) { c.erase("process"); }).ok());
  EXPECT_FALSE(with([](auto& c) { c["process"]["args"] = nlohmann::json::array(); }).ok());
  EXPECT_FALSE(with([](auto& c) { c["process"]["args"] = "echo"; }).ok());
  EXPECT_FALSE(with([](auto& c) { c["process"]["cwd"] = "relative"; }).ok());
  EXPECT_FALSE(
      with([](auto& c) {
        c["linux"]["devices"] = {{{"path", "/dev/x"}, {"type", "p"}, {"major", 1}, {"minor", 3}}};
      }).ok());
}

TEST(ValidateSpecTest, RejectsMalformedSpecs) {
  ContainerSpec ok;
  ok.id = "a-1.b_c";
  ok.args = {"true"};
  ok.log_path = "/tmp/x.log";
  EXPECT_TRUE(ValidateSpec(ok).ok());
  auto bad = [&](const std::function<void(ContainerSpec&)>& edit) {
    ContainerSpec s = ok;
    edit(s);
    return ValidateSpec(s).code();
  };
  EXPECT_EQ(bad([](auto& s) { s.id = "-leading"; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.id = std::string(65, 'a'); }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.id = "a/b"; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.args = {}; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.env = {"=x"}; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.working_dir = "rel"; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.log_path = ""; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.mounts = {{"/tmp", "/", true}}; }), StatusCode::kInvalidArgument);
  // A missing source is a file-system error (its code follows common/status.h's errno table).
  EXPECT_NE(bad([](auto& s) { s.mounts = {{"/no/such/dir", "/x", true}}; }), StatusCode::kOk);
  EXPECT_EQ(bad([](auto& s) {
              s.devices = {{"/dev/null", "/etc/null", "rw"}};
            }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) {
              s.devices = {{"/dev/null", "/dev/null", "rwx"}};
            }),
            StatusCode::kInvalidArgument);
}

TEST(MergeEnvTest, DefaultPathThenBaseThenOverridesLaterWins) {
  EXPECT_EQ(MergeEnv({}, {}), std::vector<std::string>{std::string("PATH=") + kDefaultPath});
  EXPECT_EQ(MergeEnv({"A=1", "PATH=/d"}, {"B=2", "A=3", "A=4"}),
            (std::vector<std::string>{"PATH=/d", "A=4", "B=2"}));
}

}  // namespace
}  // namespace npushare::container_sim
