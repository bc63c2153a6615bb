// The device plugin's /metrics text.
#include "deviceplugin/daemon/metrics.h"

#include <gtest/gtest.h>

namespace npushare::deviceplugin::daemon {
namespace {

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = 0; (pos = text.find(needle, pos)) != std::string::npos; pos += needle.size()) {
    ++n;
  }
  return n;
}

MetricsSnapshot Snapshot() {
  auto nd = std::make_shared<NodeDevices>();
  nd->common_word = "Ascend910B3";
  nd->resource_name = "huawei.com/Ascend910B3";
  nd->memory_mb = 65536;
  nd->aicore = 20;
  nd->vdevice_count = 4;
  Chip a;
  a.index = 0;
  a.uuid = "u-0";
  a.healthy = true;
  Chip b;
  b.index = 1;
  b.uuid = "u\"1";  // must be escaped
  b.healthy = false;
  nd->chips = {a, b};
  MetricsSnapshot s;
  s.node_name = "node-a";
  s.devices = nd;
  PluginState p;
  p.resource = {"huawei.com/Ascend910B3", "Ascend910B3.sock"};
  p.serving = true;
  p.registered = true;
  p.restarts = 2;
  p.server.allocate_calls = 7;
  p.server.allocate_errors = 1;
  s.plugins = {p};
  s.node_register_ok = 5;
  s.kubelet_watch_active = true;
  return s;
}

TEST(Metrics, PerChipSeriesCarryHamisDeviceLabels) {
  const std::string text = RenderMetrics(Snapshot());
  EXPECT_NE(text.find("npushare_device_plugin_chip_healthy{node=\"node-a\",device_uuid=\"u-0\","
                      "device_index=\"0\",device_type=\"Ascend910B3\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("device_uuid=\"u\\\"1\",device_index=\"1\",device_type=\"Ascend910B3\"} 0\n"),
            std::string::npos);
  EXPECT_EQ(Count(text, "npushare_device_plugin_chip_memory_limit_bytes{"), 2u);
  EXPECT_NE(text.find("} 68719476736\n"), std::string::npos);  // 65536 MiB
  EXPECT_EQ(Count(text, "npushare_device_plugin_chip_vdevices{"), 2u);
}

TEST(Metrics, PerResourceAndDaemonSeries) {
  const std::string text = RenderMetrics(Snapshot());
  EXPECT_NE(text.find("npushare_device_plugin_registered{resource=\"huawei.com/Ascend910B3\"} 1"),
            std::string::npos);
  EXPECT_NE(
      text.find("npushare_device_plugin_restarts_total{resource=\"huawei.com/Ascend910B3\"} 2"),
      std::string::npos);
  EXPECT_NE(text.find("npushare_device_plugin_allocate_errors_total{resource=\"huawei.com/"
                      "Ascend910B3\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("npushare_device_plugin_node_register_total{result=\"ok\"} 5"),
            std::string::npos);
  EXPECT_NE(text.find("npushare_device_plugin_kubelet_watch_active 1"), std::string::npos);
  // Every series is declared once with HELP and TYPE.
  EXPECT_EQ(Count(text, "# TYPE npushare_device_plugin_allocate_total counter\n"), 1u);
  EXPECT_EQ(Count(text, "# HELP "), Count(text, "# TYPE "));
}

TEST(Metrics, NoSnapshotYetStillRenders) {
  MetricsSnapshot s;
  const std::string text = RenderMetrics(s);
  EXPECT_EQ(text.find("chip_healthy{"), std::string::npos);
  EXPECT_NE(text.find("npushare_device_plugin_kubelet_watch_active 0"), std::string::npos);
}

}  // namespace
}  // namespace npushare::deviceplugin::daemon
