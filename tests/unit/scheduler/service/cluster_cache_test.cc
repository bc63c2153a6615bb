// ClusterCache: node decoding (garbled annotations skipped), usage rebuilt from pod
// annotations, assume/confirm/expire, re-filter, handshake liveness, config switch, and the
// no-overcommit invariant under concurrent ChooseAndAssume calls.
#include "scheduler/service/cluster_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "hami/handshake.h"
#include "scheduling/pod_json.h"
#include "unit/scheduler/service/service_fixtures.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;
using testing::DeployConfig;
using testing::NodeJson;
using testing::NodeSpec;
using testing::PodJson;
using testing::PodRequest;
using namespace std::chrono_literals;

// 2024-05-01 10:00:00 as civil seconds (UTC) - what the fixtures' handshakes say.
constexpr int64_t kT0 = 1714557600;

class ClusterCacheTest : public ::testing::Test {
 protected:
  ClusterCacheTest()
      : config_(DeployConfig()),
        cache_(config_, ClusterCacheOptions{std::chrono::seconds(60)},
               [this](const std::string& l) { logs_.push_back(l); }) {}

  scheduling::PodSpec Pod(const json& obj) {
    auto p = scheduling::PodSpecFromJson(obj);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return *p;
  }

  FilterDecision Choose(const json& pod_obj, std::vector<std::string> nodes,
                        SteadyTime now = SteadyTime{}) {
    return cache_.ChooseAndAssume(Pod(pod_obj), nodes, options_, now, kT0);
  }

  // Used: sum over the node's devices of (slots, memory, cores) in use.
  std::tuple<int, int64_t, int> Used(const std::string& node) {
    int slots = 0;
    int64_t mem = 0;
    int cores = 0;
    for (const auto& d : cache_.Devices()) {
      if (d.node == node) {
        slots += d.used;
        mem += d.usedmem;
        cores += d.usedcores;
      }
    }
    return {slots, mem, cores};
  }

  std::shared_ptr<const config::DeviceConfig> config_;
  std::vector<std::string> logs_;
  ClusterCache cache_;
  scheduling::FilterOptions options_;
};

TEST_F(ClusterCacheTest, DecodesNodesAndSkipsGarbledChipTypesWithALogLine) {
  cache_.UpsertNode(NodeJson(*config_, {.name = "good", .chips = 2}), kT0);
  json bad = NodeJson(*config_, {.name = "bad", .chips = 2});
  bad["metadata"]["annotations"]["hami.io/node-register-Ascend910B3"] = "[{\"id\":";  // cut off
  cache_.UpsertNode(bad, kT0);
  json empty = NodeJson(*config_, {.name = "empty", .chips = 2});
  empty["metadata"]["annotations"]["hami.io/node-register-Ascend910B3"] = "[]";
  cache_.UpsertNode(empty, kT0);
  // Not even a node: ignored without crashing.
  cache_.UpsertNode(json::array({1, 2}), kT0);
  cache_.UpsertNode(json{{"metadata", {{"annotations", 7}}}}, kT0);

  auto good = cache_.NodeForTest("good");
  ASSERT_TRUE(good.has_value());
  ASSERT_EQ(good->registered.at("Ascend910B3").size(), 2u);
  EXPECT_EQ(good->registered.at("Ascend910B3")[0].count, 4);  // 65536 / 16384
  EXPECT_FALSE(cache_.NodeForTest("bad").has_value());
  EXPECT_FALSE(cache_.NodeForTest("empty").has_value());
  EXPECT_EQ(cache_.Counts().garbled_annotations, 2u);
  int skipped_lines = 0;
  for (const auto& l : logs_) {
    skipped_lines += l.find("skipping Ascend910B3 devices") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(skipped_lines, 2);

  // The same garbled value again is not logged again; fixing it registers the node.
  cache_.UpsertNode(bad, kT0);
  EXPECT_EQ(cache_.Counts().garbled_annotations, 2u);
  cache_.UpsertNode(NodeJson(*config_, {.name = "bad", .chips = 2}), kT0);
  EXPECT_TRUE(cache_.NodeForTest("bad").has_value());

  FilterDecision d = Choose(PodJson(*config_, "p", {}), {"good", "empty", "nowhere"});
  ASSERT_TRUE(d.outcome.chosen.has_value());
  EXPECT_EQ(d.outcome.nodes[*d.outcome.chosen].node, "good");
  std::map<std::string, std::string> reasons;
  for (const auto& n : d.outcome.nodes) {
    reasons[n.node] = n.reason;
  }
  EXPECT_EQ(reasons["empty"], "node unregistered");
  EXPECT_EQ(reasons["nowhere"], "node unregistered");
}

TEST_F(ClusterCacheTest, UsageComesFromAllocatedAnnotationsOfLivePodsAndSurvivesRestart) {
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 2}), kT0);
  FilterDecision a = Choose(PodJson(*config_, "a", {.memory_mb = 16384}), {"n1"});
  ASSERT_TRUE(a.outcome.chosen.has_value());
  FilterDecision b = Choose(PodJson(*config_, "b", {.memory_mb = 32768}), {"n1"});
  ASSERT_TRUE(b.outcome.chosen.has_value());
  json pod_a =
      testing::WithAnnotations(PodJson(*config_, "a", {.memory_mb = 16384}), a.annotations);
  json pod_b =
      testing::WithAnnotations(PodJson(*config_, "b", {.memory_mb = 32768}), b.annotations);
  cache_.UpsertPod(pod_a);
  cache_.UpsertPod(pod_b);
  EXPECT_EQ(cache_.Counts().assumed, 0u);  // both confirmed by their own annotations
  EXPECT_EQ(std::get<1>(Used("n1")), 16384 + 32768);

  // A fresh cache fed the same objects (a restart) sees exactly the same usage.
  ClusterCache restarted(config_, {}, nullptr);
  restarted.UpsertPod(pod_b);  // pods before their node: indexed by name until it shows up
  restarted.UpsertPod(pod_a);
  restarted.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 2}), kT0);
  auto before = cache_.Devices();
  auto after = restarted.Devices();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].uuid, after[i].uuid);
    EXPECT_EQ(before[i].used, after[i].used);
    EXPECT_EQ(before[i].usedmem, after[i].usedmem);
    EXPECT_EQ(before[i].usedcores, after[i].usedcores);
  }

  // A terminated pod frees its devices; a deleted one too.
  json done = pod_a;
  done["status"]["phase"] = "Succeeded";
  cache_.UpsertPod(done);
  EXPECT_EQ(std::get<1>(Used("n1")), 32768);
  cache_.DeletePod(pod_b);
  EXPECT_EQ(Used("n1"), std::make_tuple(0, int64_t{0}, 0));
  EXPECT_EQ(cache_.Counts().pods_with_usage, 0u);
}

TEST_F(ClusterCacheTest, GarbledAllocationAnnotationIsLoggedAndNotCounted) {
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 1}), kT0);
  json pod = PodJson(*config_, "p", {});
  pod["metadata"]["annotations"] = {{"hami.io/vgpu-node", "n1"},
                                    {"hami.io/Ascend910B3-devices-allocated", "u,t,abc,1:;"}};
  cache_.UpsertPod(pod);
  EXPECT_EQ(Used("n1"), std::make_tuple(0, int64_t{0}, 0));
  EXPECT_EQ(cache_.Counts().garbled_annotations, 1u);
}

TEST_F(ClusterCacheTest, AssumedAllocationBlocksTheLastSlotUntilReleased) {
  // One 910B3 chip: 4 slots, 65536 MB. Whole-card pods: one fits.
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 1}), kT0);
  FilterDecision a = Choose(PodJson(*config_, "a", {}), {"n1"});
  ASSERT_TRUE(a.outcome.chosen.has_value());
  EXPECT_EQ(cache_.Counts().assumed, 1u);
  EXPECT_EQ(a.annotations.at("hami.io/vgpu-node"), "n1");
  EXPECT_TRUE(a.annotations.count("hami.io/Ascend910B3-devices-allocated"));

  FilterDecision b = Choose(PodJson(*config_, "b", {}), {"n1"});
  EXPECT_FALSE(b.outcome.chosen.has_value());
  ASSERT_EQ(b.outcome.nodes.size(), 1u);
  EXPECT_NE(b.outcome.nodes[0].reason.find("CardInsufficientMemory"), std::string::npos)
      << b.outcome.nodes[0].reason;

  // The annotation patch failed: Unassume with a stale token does nothing, the right one frees.
  cache_.Unassume("default/a", a.token + 100);
  EXPECT_EQ(cache_.Counts().assumed, 1u);
  cache_.Unassume("default/a", a.token);
  EXPECT_EQ(cache_.Counts().assumed, 0u);
  EXPECT_TRUE(Choose(PodJson(*config_, "b", {}), {"n1"}).outcome.chosen.has_value());
}

TEST_F(ClusterCacheTest, StaleEventsDoNotConfirmAndUnconfirmedAssumptionsExpire) {
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 1}), kT0);
  const SteadyTime t0 = SteadyTime{} + 1000s;
  FilterDecision a = Choose(PodJson(*config_, "a", {}), {"n1"}, t0);
  ASSERT_TRUE(a.outcome.chosen.has_value());
  // The watch delivers the pod as it was before the patch (no annotations): still assumed.
  cache_.UpsertPod(PodJson(*config_, "a", {}));
  EXPECT_EQ(cache_.PodNodeForTest("default/a"), "n1");
  EXPECT_EQ(cache_.Counts().assumed, 1u);
  EXPECT_EQ(cache_.ExpireAssumed(t0 + 59s), 0u);
  EXPECT_EQ(cache_.ExpireAssumed(t0 + 61s), 1u);
  EXPECT_EQ(cache_.Counts().assume_expired, 1u);
  EXPECT_FALSE(cache_.PodNodeForTest("default/a").has_value());
  EXPECT_EQ(Used("n1"), std::make_tuple(0, int64_t{0}, 0));
}

TEST_F(ClusterCacheTest, ConfirmedThenDeletedOrRecreatedPodFreesItsDevices) {
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 1}), kT0);
  FilterDecision a = Choose(PodJson(*config_, "a", {}), {"n1"});
  ASSERT_TRUE(a.outcome.chosen.has_value());
  json annotated = testing::WithAnnotations(PodJson(*config_, "a", {}), a.annotations);
  annotated["metadata"]["uid"] = "uid-1";
  cache_.UpsertPod(annotated);
  EXPECT_EQ(cache_.Counts().assumed, 0u);
  EXPECT_EQ(std::get<0>(Used("n1")), 1);
  // Deleted while assumed-and-confirmed: freed.
  cache_.DeletePod(annotated);
  EXPECT_EQ(std::get<0>(Used("n1")), 0);
  // Assumed, then the pod is deleted before confirmation: freed too.
  FilterDecision again = Choose(PodJson(*config_, "a", {}), {"n1"});
  ASSERT_TRUE(again.outcome.chosen.has_value());
  cache_.DeletePod(PodJson(*config_, "a", {}));
  EXPECT_EQ(std::get<0>(Used("n1")), 0);
}

TEST_F(ClusterCacheTest, RefilterSetsAsideThePodsOwnAllocation) {
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 1}), kT0);
  FilterDecision a = Choose(PodJson(*config_, "a", {}), {"n1"});
  ASSERT_TRUE(a.outcome.chosen.has_value());
  cache_.UpsertPod(testing::WithAnnotations(PodJson(*config_, "a", {}), a.annotations));
  // kube-scheduler retries the same pod (e.g. after a failed bind): it must fit again on the
  // chip it already holds, and still count once.
  FilterDecision retry = Choose(PodJson(*config_, "a", {}), {"n1"});
  ASSERT_TRUE(retry.outcome.chosen.has_value());
  EXPECT_EQ(std::get<0>(Used("n1")), 1);
  // A pod that fits nowhere on retry keeps its earlier allocation counted.
  FilterDecision other = Choose(PodJson(*config_, "b", {}), {"n1"});
  EXPECT_FALSE(other.outcome.chosen.has_value());
  EXPECT_EQ(std::get<0>(Used("n1")), 1);
}

TEST_F(ClusterCacheTest, PodAskingForNoNpuPassesWithoutAssuming) {
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 1}), kT0);
  FilterDecision d = Choose(testing::PlainPodJson("plain"), {"n1", "n2"});
  EXPECT_FALSE(d.outcome.requests_devices);
  EXPECT_FALSE(d.outcome.chosen.has_value());
  EXPECT_EQ(cache_.Counts().assumed, 0u);
}

TEST_F(ClusterCacheTest, InitContainerRequestsAreAssumedToo) {
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 1}), kT0);
  FilterDecision d = Choose(PodJson(*config_, "init", {.init_container = true}), {"n1"});
  ASSERT_TRUE(d.outcome.chosen.has_value());
  EXPECT_EQ(std::get<0>(Used("n1")), 1);
  EXPECT_FALSE(Choose(PodJson(*config_, "b", {}), {"n1"}).outcome.chosen.has_value());
}

TEST_F(ClusterCacheTest, HandshakeStampsRequestingAndUnregistersASilentPlugin) {
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 1}), kT0);
  cache_.UpsertNode(
      NodeJson(*config_, {.name = "kubelet-sees-it", .chips = 1, .allocatable = std::string("4")}),
      kT0);
  // Reported_ -> the tick asks to stamp Requesting_<now>.
  auto patches = cache_.HandshakeTick(kT0 + 5);
  ASSERT_EQ(patches.size(), 2u);
  for (const auto& p : patches) {
    EXPECT_EQ(p.key, "hami.io/node-handshake-Ascend910B3");
    EXPECT_EQ(p.value, hami::FormatRequestingHandshake(kT0 + 5));
  }
  // The leader's patch comes back through the watch.
  for (const char* n : {"n1", "kubelet-sees-it"}) {
    NodeSpec s{.name = n, .chips = 1, .handshake = hami::FormatRequestingHandshake(kT0 + 5)};
    if (std::string(n) == "kubelet-sees-it") {
      s.allocatable = "4";
    }
    cache_.UpsertNode(NodeJson(*config_, s), kT0 + 5);
  }
  EXPECT_TRUE(cache_.HandshakeTick(kT0 + 30).empty());
  EXPECT_TRUE(cache_.NodeForTest("n1").has_value());
  // 60 s after the stamp with no new report: n1 is unregistered (delete patch); the node the
  // kubelet still advertises stays.
  patches = cache_.HandshakeTick(kT0 + 66);
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].node, "n1");
  EXPECT_FALSE(patches[0].value.has_value());
  EXPECT_FALSE(cache_.NodeForTest("n1").has_value());
  EXPECT_TRUE(cache_.NodeForTest("kubelet-sees-it").has_value());
  EXPECT_EQ(cache_.Counts().handshake_unregistered, 1u);
  EXPECT_FALSE(Choose(PodJson(*config_, "p", {}), {"n1"}).outcome.chosen.has_value());

  // The handshake annotation is removed: the stale register annotation does not bring the
  // devices back (deliberate fix over upstream).
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 1, .handshake = std::nullopt}),
                    kT0 + 67);
  EXPECT_FALSE(cache_.NodeForTest("n1").has_value());
  EXPECT_TRUE(cache_.HandshakeTick(kT0 + 80).empty());
  // The plugin comes back and reports: registered again.
  cache_.UpsertNode(
      NodeJson(*config_, {.name = "n1", .chips = 1, .handshake = "Reported_2024.05.01 10:01:30"}),
      kT0 + 90);
  EXPECT_TRUE(cache_.NodeForTest("n1").has_value());
}

TEST_F(ClusterCacheTest, SetConfigRederivesNodesAndPods) {
  cache_.UpsertNode(NodeJson(*config_, {.name = "n1", .chips = 1}), kT0);
  cache_.UpsertNode(NodeJson(*config_, {.name = "p1", .cw = "Ascend310P", .chips = 1}), kT0);
  FilterDecision a = Choose(PodJson(*config_, "a", {}), {"n1"});
  ASSERT_TRUE(a.outcome.chosen.has_value());
  cache_.UpsertPod(testing::WithAnnotations(PodJson(*config_, "a", {}), a.annotations));
  // A config without 310P: that node loses its devices; the 910B3 usage stays.
  auto smaller = std::make_shared<config::DeviceConfig>(*config_);
  smaller->chips.erase(
      std::remove_if(smaller->chips.begin(), smaller->chips.end(),
                     [](const config::ChipConfig& c) { return c.common_word == "Ascend310P"; }),
      smaller->chips.end());
  cache_.SetConfig(smaller);
  EXPECT_FALSE(cache_.NodeForTest("p1").has_value());
  EXPECT_EQ(std::get<0>(Used("n1")), 1);
  cache_.SetConfig(config_);
  EXPECT_TRUE(cache_.NodeForTest("p1").has_value());
}

TEST_F(ClusterCacheTest, ConcurrentChooseNeverOvercommitsAChip) {
  // 3 nodes x 2 chips of 310P (7 slots, 21527 MB, 8 cores each); 8 threads x 40 pods asking
  // for a mix of slices. Whatever wins, every chip stays within count, memory and cores.
  for (int n = 0; n < 3; ++n) {
    cache_.UpsertNode(
        NodeJson(*config_, {.name = "n" + std::to_string(n), .cw = "Ascend310P", .chips = 2}), kT0);
  }
  const std::vector<std::string> names = {"n0", "n1", "n2"};
  std::atomic<int> placed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const int64_t mem = (i % 3 == 0) ? 6144 : 3072;
        json pod = PodJson(*config_, "p-" + std::to_string(t) + "-" + std::to_string(i),
                           {.cw = "Ascend310P", .memory_mb = mem});
        auto parsed = scheduling::PodSpecFromJson(pod);
        FilterDecision d = cache_.ChooseAndAssume(*parsed, names, options_, SteadyTime{}, kT0);
        if (d.outcome.chosen) {
          placed.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_GT(placed.load(), 0);
  EXPECT_LT(placed.load(), 320);  // 6 chips cannot take 320 slices
  for (const auto& d : cache_.Devices()) {
    EXPECT_LE(d.used, d.count) << d.uuid;
    EXPECT_LE(d.usedmem, d.totalmem) << d.uuid;
    EXPECT_LE(d.usedcores, std::max(d.totalcore, 100)) << d.uuid;
  }
  EXPECT_EQ(cache_.Counts().assumed, static_cast<size_t>(placed.load()));
}

// --node-label-selector: a node without the labels is not scheduled to; once labelled it is,
// and losing the label takes it out again.
TEST(ClusterCacheLabelSelectorTest, OnlyNodesWithTheLabelsAreRegistered) {
  auto config = DeployConfig();
  ClusterCacheOptions opts;
  opts.node_label_selector = {{"npu", "on"}};
  ClusterCache cache(config, opts, nullptr);
  json node = NodeJson(*config, {.name = "n1", .chips = 1});
  cache.UpsertNode(node, kT0);
  auto pod = scheduling::PodSpecFromJson(PodJson(*config, "p", {.count = 1}));
  ASSERT_TRUE(pod.ok());
  scheduling::FilterOptions options;
  FilterDecision d = cache.ChooseAndAssume(*pod, {"n1"}, options, SteadyTime{}, kT0);
  EXPECT_FALSE(d.outcome.chosen.has_value());
  EXPECT_EQ(d.outcome.nodes[0].reason, "node unregistered");
  EXPECT_EQ(cache.Counts().nodes, 0u);

  node["metadata"]["labels"] = {{"npu", "on"}};
  cache.UpsertNode(node, kT0);
  EXPECT_EQ(cache.Counts().nodes, 1u);
  d = cache.ChooseAndAssume(*pod, {"n1"}, options, SteadyTime{}, kT0);
  EXPECT_TRUE(d.outcome.chosen.has_value());

  node["metadata"]["labels"] = {{"npu", "off"}};
  cache.UpsertNode(node, kT0);
  EXPECT_EQ(cache.Counts().nodes, 0u);
  EXPECT_TRUE(cache.HandshakeTick(kT0).empty());
}

// Verdict reuse (ClusterCacheOptions::reuse_verdicts) is an optimisation only: a cache that
// reuses verdicts and one that evaluates every node decide the same, pod after pod, through
// placements, re-filters, deletions, node updates and unplaceable pods, with pods of several
// shapes (hard and soft slices, whole cards, policies, UUID lists, init containers).
TEST(ClusterCacheVerdictReuseTest, DecidesExactlyAsEvaluatingEveryNode) {
  auto config = DeployConfig();
  ClusterCacheOptions reuse_opts;
  ClusterCacheOptions fresh_opts;
  fresh_opts.reuse_verdicts = false;
  ClusterCache reuse(config, reuse_opts, nullptr);
  ClusterCache fresh(config, fresh_opts, nullptr);
  std::vector<std::string> names;
  auto add_node = [&](const NodeSpec& spec) {
    const json node = NodeJson(*config, spec);
    reuse.UpsertNode(node, kT0);
    fresh.UpsertNode(node, kT0);
    names.push_back(spec.name);
  };
  for (int i = 0; i < 4; ++i) {
    add_node({.name = "b3-" + std::to_string(i), .chips = 2 + i % 3, .hami_core = i % 2 == 1});
    add_node(
        {.name = "p-" + std::to_string(i), .cw = "Ascend310P", .chips = 2, .hami_core = i == 3});
  }
  names.push_back("ghost");  // not a cached node

  std::vector<std::function<json(const std::string&)>> shapes = {
      [&](const std::string& n) { return PodJson(*config, n, {.memory_mb = 16384}); },
      [&](const std::string& n) { return PodJson(*config, n, {.memory_mb = 32768}); },
      [&](const std::string& n) { return PodJson(*config, n, {.count = 1}); },
      [&](const std::string& n) { return PodJson(*config, n, {.count = 2}); },
      [&](const std::string& n) {
        return PodJson(*config, n, {.memory_mb = 8192, .cores = 30, .hami_core = true});
      },
      [&](const std::string& n) {
        return PodJson(*config, n, {.cw = "Ascend310P", .memory_mb = 3072});
      },
      [&](const std::string& n) {
        return PodJson(*config, n, {.cw = "Ascend310P", .memory_mb = 1024, .init_container = true});
      },
      [&](const std::string& n) {
        json p = PodJson(*config, n, {.memory_mb = 16384});
        p["metadata"]["annotations"] = {{"hami.io/node-scheduler-policy", "spread"},
                                        {"hami.io/gpu-scheduler-policy", "binpack"}};
        return p;
      },
      [&](const std::string& n) {
        json p = PodJson(*config, n, {.count = 1});
        p["metadata"]["annotations"] = {{"hami.io/use-Ascend910B3-uuid", "b3-2-npu-1,b3-3-npu-0"}};
        return p;
      },
  };
  std::mt19937 rng(20261203);
  scheduling::FilterOptions options;
  std::vector<std::string> placed;
  int chosen = 0, unplaceable = 0;
  for (int step = 0; step < 400; ++step) {
    const uint32_t r = rng() % 100;
    if (r < 12 && !placed.empty()) {  // a pod goes away
      const size_t k = rng() % placed.size();
      const json gone = {{"metadata", {{"name", placed[k]}, {"namespace", "default"}}}};
      reuse.DeletePod(gone);
      fresh.DeletePod(gone);
      placed.erase(placed.begin() + static_cast<std::ptrdiff_t>(k));
      continue;
    }
    if (r < 15) {  // a node update that changes nothing Filter reads (a lock, say)
      json node = NodeJson(*config, {.name = "b3-1", .chips = 3, .hami_core = true});
      node["metadata"]["annotations"]["hami.io/mutex.lock"] = "x" + std::to_string(step);
      reuse.UpsertNode(node, kT0);
      fresh.UpsertNode(node, kT0);
      continue;
    }
    // Mostly new pods; sometimes a placed pod is filtered again (a retry).
    const bool retry = r < 25 && !placed.empty();
    const std::string name = retry ? placed[rng() % placed.size()] : "pod-" + std::to_string(step);
    const size_t shape =
        retry ? std::hash<std::string>{}(name) % shapes.size() : rng() % shapes.size();
    auto pod = scheduling::PodSpecFromJson(shapes[shape](name));
    ASSERT_TRUE(pod.ok());
    FilterDecision a = reuse.ChooseAndAssume(*pod, names, options, SteadyTime{}, kT0);
    FilterDecision b = fresh.ChooseAndAssume(*pod, names, options, SteadyTime{}, kT0);
    ASSERT_EQ(a.outcome.error.ok(), b.outcome.error.ok()) << step;
    ASSERT_EQ(a.outcome.chosen, b.outcome.chosen) << "step " << step << " pod " << name;
    ASSERT_EQ(a.annotations, b.annotations) << step;
    ASSERT_EQ(a.outcome.nodes.size(), b.outcome.nodes.size());
    for (size_t i = 0; i < a.outcome.nodes.size(); ++i) {
      EXPECT_EQ(a.outcome.nodes[i].fit, b.outcome.nodes[i].fit) << step << " " << names[i];
      EXPECT_EQ(a.outcome.nodes[i].reason, b.outcome.nodes[i].reason) << step << " " << names[i];
      if (a.outcome.nodes[i].fit) {
        EXPECT_EQ(a.outcome.nodes[i].score, b.outcome.nodes[i].score) << step;
      }
    }
    EXPECT_EQ(a.outcome.Summary(), b.outcome.Summary()) << step;
    if (a.outcome.chosen) {
      ++chosen;
      if (!retry) {
        placed.push_back(name);
      }
    } else {
      ++unplaceable;
    }
  }
  // The sequence exercised both outcomes.
  EXPECT_GT(chosen, 50);
  EXPECT_GT(unplaceable, 10);
}

}  // namespace
}  // namespace npushare::scheduler
