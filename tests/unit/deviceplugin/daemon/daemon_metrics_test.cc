// npushare-device-plugin as a process: /metrics renders the soft-slice containers of the
// arbiter's metrics file (--arbiter-metrics-file) with the pod's namespace and name resolved
// from the API server (PodNameCache), and the device_uuid of the chip the arbiter names.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "integration/deviceplugin/e2e/daemon_fixture.h"

namespace npushare::deviceplugin {
namespace {

using e2e::Eventually;
using e2e::kNode;
using e2e::kWait;

class DaemonMetricsTest : public e2e::DaemonFixture {};

TEST_F(DaemonMetricsTest, ArbiterFileBecomesPerContainerSeriesWithPodLabels) {
  nlohmann::json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", "train-0"}, {"namespace", "default"}}},
      {"spec", {{"nodeName", kNode}, {"containers", {{{"name", "main"}, {"image", "x"}}}}}}};
  Result<nlohmann::json> created = cluster_.client().Create(kube::kPods, "default", pod);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string uid = (*created)["metadata"]["uid"].get<std::string>();
  const std::string file = root_.path() + "/arbiter.metrics";
  std::ofstream(file) << "tenant=" << uid
                      << "_main index=0 dev=0 chip=0 weight=30 granted_ns=2000000000 "
                         "charged_ns=1000000000 device_ns=500000000\n"
                      << "tenant=" << uid
                      << "_main mem_dev=0 quota_bytes=4294967296 used_bytes=1048576 "
                         "live_procs=1 reclaimed_procs=0 denied_allocs=0\n";
  extra_args_ = {"--arbiter-metrics-file", file};
  const int port = StartDaemon();
  ASSERT_GT(port, 0);
  httplib::Client http("127.0.0.1", port);
  std::string body;
  const std::string labels_prefix = "{node=\"" + std::string(kNode) +
                                    "\",namespace=\"default\",pod=\"train-0\",container=\"main\","
                                    "vdevice_index=\"0\",device_uuid=\"";
  ASSERT_TRUE(Eventually([&] {
    auto m = http.Get("/metrics");
    body = m ? m->body : "";
    return body.find("hami_vgpu_memory_used_bytes" + labels_prefix) != std::string::npos &&
           body.find("npushare_device_plugin_chip_healthy{") != std::string::npos;
  })) << body;
  EXPECT_NE(body.find("npushare_device_plugin_arbiter_metrics_up 1\n"), std::string::npos);
  // The device_uuid is the die id of one of this node's chips.
  std::set<std::string> uuids;
  static const std::regex kChip(
      R"re(npushare_device_plugin_chip_healthy\{[^}]*device_uuid="([^"]+)")re");
  for (std::sregex_iterator it(body.begin(), body.end(), kChip), end; it != end; ++it) {
    uuids.insert((*it)[1]);
  }
  const std::regex used("hami_vgpu_memory_used_bytes\\{[^}]*device_uuid=\"([^\"]+)\",pod_uid=\"" +
                        uid + "\"\\} 1048576\n");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(body, match, used)) << body;
  EXPECT_EQ(uuids.count(match[1]), 1u) << match[1];
  EXPECT_NE(body.find("hami_vgpu_memory_limit_bytes" + labels_prefix), std::string::npos);
  EXPECT_NE(body.find("npushare_vnpu_core_share_percent" + labels_prefix), std::string::npos);
  EXPECT_EQ(StopDaemon(), 0);
}

// --log-format json reaches the process's logger: every stderr line is one JSON object.
TEST(DaemonLogFormat, JsonLogLinesOnStderr) {
  npushare::testing::ScopedTempDir dir("dp-log-format");
  const std::string log = dir.path() + "/stderr";
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  sim::testing::Child c = sim::testing::Spawn(
      {sim::testing::BinPath("npushare-device-plugin"), "--node_name", "n1", "--config_file",
       dir.path() + "/none.yaml", "--dcmi-library", dir.path() + "/no-libdcmi.so",
       "--metrics-bind-address", "", "--device-plugin-path", dir.path(), "--log-format", "json"},
      {.env = std::nullopt, .pre_exec = [fd] { dup2(fd, 2); }});
  close(fd);
  ASSERT_GT(c.pid, 0);
  close(c.in_fd);
  const int status = sim::testing::Wait(c.pid);
  close(c.out_fd);
  EXPECT_EQ(status, 1);  // start-up failure (no DCMI library)
  std::ifstream in(log);
  std::string line;
  size_t lines = 0;
  bool saw_failure = false;
  while (std::getline(in, line)) {
    ++lines;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
    saw_failure = saw_failure || (j["level"] == "critical" &&
                                  j["msg"].get<std::string>().find("start-up failed") == 0);
  }
  EXPECT_GE(lines, 1u);
  EXPECT_TRUE(saw_failure);
}

}  // namespace
}  // namespace npushare::deviceplugin
