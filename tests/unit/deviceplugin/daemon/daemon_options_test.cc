// npushare-device-plugin's command line: HAMi's flag names, NODE_NAME default, validation.
#include "deviceplugin/daemon/daemon_options.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

namespace npushare::deviceplugin::daemon {
namespace {

std::optional<int> Parse(std::vector<std::string> args, DaemonOptions* o) {
  args.insert(args.begin(), "npushare-device-plugin");
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  return ParseDaemonFlags(static_cast<int>(argv.size()), argv.data(), o);
}

TEST(DaemonOptions, AcceptsHamisFlagsAsItsDaemonSetPassesThem) {
  unsetenv("NODE_NAME");
  DaemonOptions o;
  auto r = Parse({"--config_file", "/device-config.yaml", "--v=4", "--node_name=n1",
                  "--node_config_file", "/node-config.yaml", "--check_idle_vnpu_interval", "30",
                  "--report_time_offset", "2", "--hw_loglevel", "3"},
                 &o);
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(o.device_config_path, "/device-config.yaml");
  EXPECT_EQ(o.node_config_path, "/node-config.yaml");
  EXPECT_EQ(o.node_name, "n1");
  EXPECT_EQ(o.verbosity, 4);
  EXPECT_EQ(o.check_idle_vnpu_interval, std::chrono::seconds(30));
  EXPECT_EQ(o.report_time_offset, std::chrono::seconds(2));
  EXPECT_TRUE(ValidateDaemonOptions(o).ok());
}

TEST(DaemonOptions, NodeNameDefaultsToTheEnvironment) {
  setenv("NODE_NAME", "from-env", 1);
  DaemonOptions o;
  EXPECT_FALSE(Parse({"-v", "2"}, &o).has_value());
  EXPECT_EQ(o.node_name, "from-env");
  EXPECT_EQ(o.verbosity, 2);
  EXPECT_EQ(o.device_plugin_path, "/var/lib/kubelet/device-plugins/");
  EXPECT_EQ(o.metrics_bind_address, ":9395");
  unsetenv("NODE_NAME");
  DaemonOptions none;
  EXPECT_FALSE(Parse({}, &none).has_value());
  EXPECT_EQ(ValidateDaemonOptions(none).code(), StatusCode::kInvalidArgument);
}

TEST(DaemonOptions, LogFormatAndArbiterMetricsFile) {
  DaemonOptions defaults;
  EXPECT_EQ(defaults.log_format, "klog");
  EXPECT_EQ(defaults.arbiter_metrics_file, "/run/npushare/arbiter.metrics");
  DaemonOptions o;
  o.node_name = "n1";
  EXPECT_FALSE(
      Parse({"--log-format", "json", "--arbiter-metrics-file", "/tmp/a.metrics"}, &o).has_value());
  EXPECT_EQ(o.log_format, "json");
  EXPECT_EQ(o.arbiter_metrics_file, "/tmp/a.metrics");
  EXPECT_TRUE(ValidateDaemonOptions(o).ok());
  EXPECT_FALSE(Parse({"--arbiter-metrics-file", ""}, &o).has_value());
  EXPECT_EQ(o.arbiter_metrics_file, "");  // "" = not read
  DaemonOptions bad;
  EXPECT_EQ(Parse({"--log-format", "xml"}, &bad), 2);
  bad.node_name = "n1";
  bad.log_format = "xml";
  EXPECT_FALSE(ValidateDaemonOptions(bad).ok());
}

TEST(DaemonOptions, BadValuesAreUsageErrors) {
  DaemonOptions o;
  EXPECT_EQ(Parse({"--check_idle_vnpu_interval", "0"}, &o), 2);
  EXPECT_EQ(Parse({"--v", "x"}, &o), 2);
  EXPECT_EQ(Parse({"--unknown"}, &o), 2);
  EXPECT_EQ(Parse({"--help"}, &o), 0);
}

TEST(DaemonOptions, BindAddresses) {
  auto any = ParseBindAddress(":9395");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->first, "0.0.0.0");
  EXPECT_EQ(any->second, 9395);
  auto local = ParseBindAddress("127.0.0.1:0");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->first, "127.0.0.1");
  EXPECT_EQ(local->second, 0);
  auto v6 = ParseBindAddress("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  for (const char* bad : {"9395", ":", ":x", ":65536", ":-1", "host:1 "}) {
    EXPECT_EQ(ParseBindAddress(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  DaemonOptions o;
  o.node_name = "n";
  o.metrics_bind_address = "nope";
  EXPECT_EQ(ValidateDaemonOptions(o).code(), StatusCode::kInvalidArgument);
  o.metrics_bind_address = "";  // disabled
  EXPECT_TRUE(ValidateDaemonOptions(o).ok());
}

}  // namespace
}  // namespace npushare::deviceplugin::daemon
