#include "scheduler/http/scheduler_flags.h"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <sstream>

namespace npushare::scheduler::http {
namespace {

std::optional<SchedulerFlags> Parse(std::vector<std::string> args, int* code = nullptr) {
  args.insert(args.begin(), "npushare-scheduler");
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  std::ostringstream out, err;
  int ignored = -1;
  auto f = ParseSchedulerFlags(static_cast<int>(argv.size()), argv.data(), out, err,
                               code != nullptr ? code : &ignored);
  if (!f) {
    std::cerr << "parse refused: " << err.str() << "\n";
  }
  return f;
}

TEST(SchedulerFlagsTest, DefaultsAreHamis) {
  auto f = Parse({});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->http_bind, "127.0.0.1:8080");
  EXPECT_EQ(f->metrics_bind_address, ":9395");
  EXPECT_EQ(f->scheduler_name, "hami-scheduler");
  EXPECT_EQ(f->node_lock_timeout, std::chrono::seconds(300));
  EXPECT_TRUE(f->force_overwrite_default_scheduler);
  EXPECT_FALSE(f->leader_elect);
}

TEST(SchedulerFlagsTest, HamiChartArgumentsAreAccepted) {
  auto f = Parse({"--http_bind=0.0.0.0:443", "--cert_file=/tls/tls.crt", "--key_file=/tls/tls.key",
                  "--scheduler-name=hami-scheduler", "--metrics-bind-address=:9395",
                  "--node-scheduler-policy=spread", "--gpu-scheduler-policy=binpack",
                  "--device-config-file=/device-config.yaml", "--node-lock-timeout=2m",
                  "--leader-elect=true", "--leader-elect-resource-name=hami-scheduler",
                  "--leader-elect-resource-namespace=hami", "--debug", "-v=4", "--profiling=false",
                  "--some-future-flag", "x"});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->http_bind, "0.0.0.0:443");
  EXPECT_EQ(f->cert_file, "/tls/tls.crt");
  EXPECT_EQ(f->key_file, "/tls/tls.key");
  EXPECT_EQ(f->node_policy, "spread");
  EXPECT_EQ(f->device_policy, "binpack");
  EXPECT_EQ(f->node_lock_timeout, std::chrono::seconds(120));
  EXPECT_TRUE(f->leader_elect);
  EXPECT_EQ(f->lease_name, "hami-scheduler");
  EXPECT_EQ(f->lease_namespace, "hami");
  EXPECT_TRUE(f->debug);
  EXPECT_FALSE(f->ignored.empty());
}

TEST(SchedulerFlagsTest, BoolFlagsTakeFalse) {
  auto f = Parse({"--leader-elect=false", "--force-overwrite-default-scheduler=false"});
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->leader_elect);
  EXPECT_FALSE(f->force_overwrite_default_scheduler);
}

TEST(SchedulerFlagsTest, BadValuesExit2AndHelpExits0) {
  int code = -1;
  EXPECT_FALSE(Parse({"--node-scheduler-policy=random"}, &code));
  EXPECT_EQ(code, 2) << "policy";
  code = -1;
  EXPECT_FALSE(Parse({"--node-lock-timeout=soon"}, &code));
  EXPECT_NE(code, 0);
  code = -1;
  EXPECT_FALSE(Parse({"--leader-elect-renew-deadline=20s"}, &code));
  EXPECT_EQ(code, 2);
  code = -1;
  EXPECT_FALSE(Parse({"--help"}, &code));
  EXPECT_EQ(code, 0);
}

TEST(SchedulerFlagsTest, FollowModeFlagsAreExclusiveAndKeepLeaderElectAccepted) {
  auto f = Parse({"--leader-elect=true", "--leader-elect-follow-config=/config/config.yaml"});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->leader_elect);
  EXPECT_EQ(f->leader_elect_follow_config, "/config/config.yaml");
  EXPECT_EQ(f->leader_elect_follow, "");
  f = Parse({"--leader-elect-follow", "kube-system/kube-scheduler"});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->leader_elect_follow, "kube-system/kube-scheduler");
  EXPECT_TRUE(f->ignored.empty());
  int code = -1;
  EXPECT_FALSE(Parse({"--leader-elect-follow=a/b", "--leader-elect-follow-config=/c.yaml"}, &code));
  EXPECT_EQ(code, 2);
}

TEST(SchedulerFlagsTest, NodeLabelSelectorIsHamisKeyValueMap) {
  auto f = Parse({"--node-label-selector=gpu=on,zone=a", "--node-label-selector", "rack=7"});
  ASSERT_TRUE(f);
  const std::map<std::string, std::string> want = {{"gpu", "on"}, {"zone", "a"}, {"rack", "7"}};
  EXPECT_EQ(f->node_label_selector, want);
  EXPECT_TRUE(Parse({})->node_label_selector.empty());
  int code = -1;
  EXPECT_FALSE(Parse({"--node-label-selector=gpu"}, &code));
  EXPECT_EQ(code, 2);
  EXPECT_FALSE(Parse({"--node-label-selector==on"}, &code));
  EXPECT_EQ(code, 2);
}

TEST(ParseGoDurationTest, Forms) {
  EXPECT_EQ(ParseGoDuration("300").value_or(std::chrono::seconds(-1)).count(), 300);
  EXPECT_EQ(ParseGoDuration("5m").value_or(std::chrono::seconds(-1)).count(), 300);
  EXPECT_EQ(ParseGoDuration("1h30m").value_or(std::chrono::seconds(-1)).count(), 5400);
  EXPECT_EQ(ParseGoDuration("1.5h").value_or(std::chrono::seconds(-1)).count(), 5400);
  EXPECT_EQ(ParseGoDuration("2500ms").value_or(std::chrono::seconds(-1)).count(), 2);
  for (const char* bad : {"", "m", "5x", "-5s", "5 m", "1e400h"}) {
    EXPECT_EQ(ParseGoDuration(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace npushare::scheduler::http
