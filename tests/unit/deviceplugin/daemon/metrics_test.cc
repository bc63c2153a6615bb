// The device plugin's /metrics text.
#include "deviceplugin/daemon/metrics.h"

#include <gtest/gtest.h>

#include "deviceplugin/daemon/utilization_tracker.h"

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

// The arbiter's file for one pod container on chips with physical ids 4 and 5, and a tenant
// that is not a pod container.
constexpr char kArbiterFile[] =
    "tenant=0f3c2a9e-1111_main index=0 dev=0 chip=4 weight=40 granted_ns=3000000000 "
    "charged_ns=2500000000 device_ns=1500000000\n"
    "tenant=0f3c2a9e-1111_main index=0 dev=1 chip=5 weight=40 granted_ns=1 charged_ns=2 "
    "device_ns=3\n"
    "tenant=0f3c2a9e-1111_main mem_dev=0 quota_bytes=8589934592 used_bytes=1073741824 "
    "live_procs=1 reclaimed_procs=0 denied_allocs=0\n"
    "tenant=memonly mem_dev=0 quota_bytes=0 used_bytes=4096 live_procs=1 reclaimed_procs=0 "
    "denied_allocs=0\n"
    "not a metrics line\n";

MetricsSnapshot SnapshotWithArbiter() {
  MetricsSnapshot s = Snapshot();
  auto nd = std::make_shared<NodeDevices>(*s.devices);
  nd->chips[0].phys_id = 4;
  nd->chips[1].phys_id = 5;
  nd->chips[1].uuid = "u-1";
  s.devices = nd;
  s.arbiter_metrics_configured = true;
  Result<ArbiterMetrics> m = ParseArbiterMetrics(kArbiterFile);
  EXPECT_TRUE(m.ok());
  s.arbiter = *m;
  s.pod_names["0f3c2a9e-1111"] = {"ml", "train-0"};
  return s;
}

TEST(Metrics, PerContainerSeriesFromTheArbiterFileUseHamisNamesAndLabels) {
  const std::string text = RenderMetrics(SnapshotWithArbiter());
  const std::string dev0 =
      "{node=\"node-a\",namespace=\"ml\",pod=\"train-0\",container=\"main\",vdevice_index=\"0\","
      "device_uuid=\"u-0\",pod_uid=\"0f3c2a9e-1111\"}";
  const std::string dev1 =
      "{node=\"node-a\",namespace=\"ml\",pod=\"train-0\",container=\"main\",vdevice_index=\"1\","
      "device_uuid=\"u-1\",pod_uid=\"0f3c2a9e-1111\"}";
  EXPECT_NE(text.find("hami_vgpu_memory_limit_bytes" + dev0 + " 8589934592\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("hami_vgpu_memory_used_bytes" + dev0 + " 1073741824\n"), std::string::npos);
  EXPECT_NE(text.find("npushare_vnpu_core_share_percent" + dev0 + " 40\n"), std::string::npos);
  EXPECT_NE(text.find("npushare_vnpu_core_share_percent" + dev1 + " 40\n"), std::string::npos);
  EXPECT_NE(text.find("npushare_vnpu_core_device_seconds_total" + dev0 + " 1.5\n"),
            std::string::npos);
  EXPECT_NE(text.find("npushare_vnpu_core_granted_seconds_total" + dev0 + " 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("npushare_vnpu_core_charged_seconds_total" + dev0 + " 2.5\n"),
            std::string::npos);
  // Device 1 has no memory line; the memory-only tenant has no quota (0 = none) and no chip.
  EXPECT_EQ(text.find("hami_vgpu_memory_used_bytes" + dev1), std::string::npos);
  EXPECT_NE(text.find("hami_vgpu_memory_used_bytes{node=\"node-a\",container=\"memonly\","
                      "vdevice_index=\"0\"} 4096\n"),
            std::string::npos);
  EXPECT_EQ(Count(text, "hami_vgpu_memory_limit_bytes{"), 1u);
  EXPECT_NE(text.find("npushare_device_plugin_arbiter_metrics_up 1\n"), std::string::npos);
  EXPECT_NE(text.find("npushare_device_plugin_arbiter_metrics_skipped_lines 1\n"),
            std::string::npos);
  EXPECT_EQ(Count(text, "# HELP "), Count(text, "# TYPE "));
  EXPECT_EQ(Count(text, "# TYPE hami_vgpu_memory_used_bytes gauge\n"), 1u);
}

// HAMi's container names: memory as hami_vgpu_memory_used_bytes; utilization only where the
// snapshot carries a tracker figure for that tenant device.
TEST(Metrics, HamiContainerSeriesMirrorMemoryAndCarryUtilization) {
  MetricsSnapshot s = SnapshotWithArbiter();
  s.utilization_percent[UtilizationTracker::Key("0f3c2a9e-1111_main", 0)] = 37.5;
  const std::string text = RenderMetrics(s);
  const std::string dev0 =
      "{node=\"node-a\",namespace=\"ml\",pod=\"train-0\",container=\"main\",vdevice_index=\"0\","
      "device_uuid=\"u-0\",pod_uid=\"0f3c2a9e-1111\"}";
  EXPECT_NE(text.find("hami_container_device_memory_bytes" + dev0 + " 1073741824\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(Count(text, "hami_container_device_memory_bytes{"),
            Count(text, "hami_vgpu_memory_used_bytes{"));
  EXPECT_NE(text.find("hami_container_device_utilization_ratio" + dev0 + " 37.5\n"),
            std::string::npos);
  EXPECT_EQ(Count(text, "hami_container_device_utilization_ratio{"), 1u);
}

using std::chrono::milliseconds;
using std::chrono::steady_clock;

ArbiterMetrics OneTenant(uint64_t device_ns, bool has_core = true) {
  ArbiterMetrics m;
  ArbiterContainer c;
  c.tenant = "pod_main";
  c.devices[0].has_core = has_core;
  c.devices[0].device_ns = device_ns;
  m.containers.push_back(c);
  return m;
}

TEST(UtilizationTracker, PercentOfWallTimeBetweenScrapes) {
  UtilizationTracker t(milliseconds(500));
  const std::string key = UtilizationTracker::Key("pod_main", 0);
  steady_clock::time_point t0{};
  EXPECT_TRUE(t.Update(OneTenant(1'000'000'000), t0).empty());  // first sight: no value
  auto pct = t.Update(OneTenant(1'300'000'000), t0 + milliseconds(1000));
  ASSERT_EQ(pct.count(key), 1u);
  EXPECT_DOUBLE_EQ(pct[key], 30.0);
  // Too close: no value, and the older baseline is kept for the next scrape.
  EXPECT_TRUE(t.Update(OneTenant(1'310'000'000), t0 + milliseconds(1100)).empty());
  pct = t.Update(OneTenant(1'800'000'000), t0 + milliseconds(2000));
  EXPECT_DOUBLE_EQ(pct[key], 50.0);
  // A counter that went backwards (a new container under the name) gives nothing, then counts
  // from the new baseline.
  EXPECT_TRUE(t.Update(OneTenant(5), t0 + milliseconds(3000)).empty());
  pct = t.Update(OneTenant(5 + 2'000'000'000), t0 + milliseconds(4000));
  EXPECT_DOUBLE_EQ(pct[key], 100.0);  // jitter above wall time is clamped
  // Devices without a core half are not tracked.
  EXPECT_TRUE(t.Update(OneTenant(1, false), t0 + milliseconds(5000)).empty());
  EXPECT_TRUE(t.Update(OneTenant(2, false), t0 + milliseconds(6000)).empty());
}

TEST(Metrics, UnknownPodNamesLeaveOutNamespaceAndPod) {
  MetricsSnapshot s = SnapshotWithArbiter();
  s.pod_names.clear();
  const std::string text = RenderMetrics(s);
  EXPECT_NE(text.find("npushare_vnpu_core_share_percent{node=\"node-a\",container=\"main\","
                      "vdevice_index=\"0\",device_uuid=\"u-0\",pod_uid=\"0f3c2a9e-1111\"} 40\n"),
            std::string::npos)
      << text;
}

TEST(Metrics, UnreadableArbiterFileIsReportedNotRendered) {
  MetricsSnapshot s = SnapshotWithArbiter();
  s.arbiter.reset();
  std::string text = RenderMetrics(s);
  EXPECT_NE(text.find("npushare_device_plugin_arbiter_metrics_up 0\n"), std::string::npos);
  EXPECT_EQ(text.find("hami_vgpu_memory_used_bytes"), std::string::npos);
  s.arbiter_metrics_configured = false;  // --arbiter-metrics-file ""
  text = RenderMetrics(s);
  EXPECT_EQ(text.find("arbiter_metrics_up"), std::string::npos);
}

}  // namespace
}  // namespace npushare::deviceplugin::daemon
