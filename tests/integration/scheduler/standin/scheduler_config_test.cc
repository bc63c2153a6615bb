// KubeSchedulerConfiguration parsing for the stand-in: HAMi's rendered shape, defaults and
// kube-scheduler's validation rules.
#include "sim/scheduler/scheduler_config.h"

#include <gtest/gtest.h>

namespace npushare::kube_scheduler_sim {
namespace {

constexpr const char* kHamiLike = R"(
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
- schedulerName: hami-scheduler
extenders:
- urlPrefix: "https://127.0.0.1:443"
  filterVerb: filter
  bindVerb: bind
  nodeCacheCapable: true
  weight: 1
  httpTimeout: 30s
  enableHTTPS: true
  tlsConfig:
    insecure: true
  managedResources:
  - name: huawei.com/Ascend910B3
    ignoredByScheduler: true
  - name: huawei.com/Ascend910B3-memory
    ignoredByScheduler: true
  - name: example.com/other
)";

TEST(SchedulerConfigTest, ParsesHamiShape) {
  auto cfg = ParseSchedulerConfig(kHamiLike, "");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->scheduler_names, std::vector<std::string>{"hami-scheduler"});
  ASSERT_EQ(cfg->extenders.size(), 1u);
  const ExtenderConfig& x = cfg->extenders[0];
  EXPECT_EQ(x.url_prefix, "https://127.0.0.1:443");
  EXPECT_EQ(x.filter_verb, "filter");
  EXPECT_EQ(x.bind_verb, "bind");
  EXPECT_TRUE(x.node_cache_capable);
  EXPECT_TRUE(x.enable_https);
  EXPECT_TRUE(x.tls.insecure);
  EXPECT_EQ(x.http_timeout, std::chrono::seconds(30));
  EXPECT_FALSE(x.ignorable);
  ASSERT_EQ(x.managed_resources.size(), 3u);
  EXPECT_EQ(cfg->IgnoredResources(),
            (std::set<std::string>{"huawei.com/Ascend910B3", "huawei.com/Ascend910B3-memory"}));
  EXPECT_EQ(cfg->pod_initial_backoff, std::chrono::seconds(1));
  EXPECT_EQ(cfg->pod_max_backoff, std::chrono::seconds(10));
  EXPECT_EQ(cfg->qps, 50);  // kube-scheduler's client defaults
  EXPECT_EQ(cfg->burst, 100);
}

TEST(SchedulerConfigTest, DefaultsWithoutProfilesOrTimeout) {
  auto cfg = ParseSchedulerConfig(
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
      "podInitialBackoffSeconds: 2\npodMaxBackoffSeconds: 20\n"
      "clientConnection: {kubeconfig: /k, qps: 500, burst: 1000}\n"
      "extenders:\n- urlPrefix: http://x:80\n  filterVerb: f\n  httpTimeout: 0s\n"
      "- urlPrefix: http://y:80\n  filterVerb: f\n  ignorable: true\n"
      "- urlPrefix: http://z:80\n  filterVerb: f\n",
      "");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->scheduler_names, std::vector<std::string>{"default-scheduler"});
  EXPECT_EQ(cfg->extenders[0].http_timeout, std::chrono::seconds(5));
  EXPECT_EQ(cfg->pod_initial_backoff, std::chrono::seconds(2));
  EXPECT_EQ(cfg->pod_max_backoff, std::chrono::seconds(20));
  EXPECT_EQ(cfg->kubeconfig, "/k");
  EXPECT_EQ(cfg->qps, 500);
  EXPECT_EQ(cfg->burst, 1000);
  // Ignorable extenders go last, the others keep their order.
  ASSERT_EQ(cfg->extenders.size(), 3u);
  EXPECT_EQ(cfg->extenders[0].url_prefix, "http://x:80");
  EXPECT_EQ(cfg->extenders[1].url_prefix, "http://z:80");
  EXPECT_EQ(cfg->extenders[2].url_prefix, "http://y:80");
}

TEST(SchedulerConfigTest, RejectsWhatKubeSchedulerRejects) {
  const std::string head =
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";
  for (const std::string& bad : {
           std::string("apiVersion: v1\nkind: KubeSchedulerConfiguration\n"),
           std::string("apiVersion: kubescheduler.config.k8s.io/v1\nkind: Policy\n"),
           head + "extenders:\n- urlPrefix: http://x\n  prioritizeVerb: p\n",  // weight 0
           head + "extenders:\n- urlPrefix: http://x\n  bindVerb: b\n"
                  "- urlPrefix: http://y\n  bindVerb: b\n",  // two binders
           head + "extenders:\n- urlPrefix: http://x\n  managedResources: [{name: a.io/r}]\n"
                  "- urlPrefix: http://y\n  managedResources: [{name: a.io/r}]\n",  // duplicate
           head + "extenders:\n- urlPrefix: http://x\n  filterVerbs: filter\n",     // unknown key
           head + "extenders:\n- urlPrefix: ftp://x\n",
           head + "extenders:\n- urlPrefix: http://x\n  httpTimeout: 30\n",  // no unit
           head + "extenders:\n- urlPrefix: http://x\n  managedResources: [{name: cpu}]\n",
           head + "extenders:\n- urlPrefix: http://x\n  tlsConfig: {caData: '!!'}\n",
           head + "profiles:\n- schedulerName: a\n- schedulerName: a\n",
           head + "podInitialBackoffSeconds: 0\n",
           std::string("{not: yaml: at all"),
       }) {
    EXPECT_EQ(ParseSchedulerConfig(bad, "").status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseSchedulerConfig(head + "extenders:\n- urlPrefix: http://x\n"
                                        "  tlsConfig: {caFile: /no/such/file}\n",
                                 "")
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace npushare::kube_scheduler_sim
