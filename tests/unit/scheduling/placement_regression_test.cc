// Issue 11 regression: a dry run of 5,000 mixed pods on 1,000 nodes (shipped device config,
// fixed seed) must leave no chip that npu-sim would refuse to slice. Before the shared
// placement rule, 159 910B3 chips got both vir05_1c_16g and vir10_3c_32g slices.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "cli/dry_run.h"
#include "cli/manifest_reader.h"
#include "config/config_loader.h"
#include "scheduling/fit.h"
#include "scheduling/vnpu_placement.h"
#include "state/node_config.h"
#include "state/vnpu.h"

namespace npushare::scheduling {
namespace {

std::string Nodes() {
  std::string y = "nodes:\n";
  auto add = [&](int i, const char* chip, int count, bool soft) {
    y += "- name: node-" + std::to_string(i) + "\n  chip: " + chip +
         "\n  count: " + std::to_string(count) + "\n";
    if (soft) {
      y += "  hamiVnpuCore: true\n  vDeviceCount: 8\n";
    }
  };
  for (int i = 0; i < 1000; ++i) {
    if (i < 400) {
      add(i, "Ascend910B3", 8, false);
    } else if (i < 600) {
      add(i, "Ascend910B3", 8, true);
    } else if (i < 750) {
      add(i, "Ascend910B4", 8, false);
    } else {
      add(i, "310P3", 4, false);
    }
  }
  return y;
}

ContainerSpec Container(const std::string& name, const std::string& cw, const std::string& memory,
                        const std::string& core = "") {
  ContainerSpec c;
  c.name = name;
  c.limits = ResourceList{{"huawei.com/" + cw, "1"}};
  if (!memory.empty()) {
    (*c.limits)["huawei.com/" + cw + "-memory"] = memory;
  }
  if (!core.empty()) {
    (*c.limits)["huawei.com/" + cw + "-core"] = core;
  }
  return c;
}

std::vector<PodSpec> Pods() {
  std::mt19937 rng(11);
  auto pick = [&](std::initializer_list<const char*> list) {
    return std::string(*(list.begin() + rng() % list.size()));
  };
  std::vector<PodSpec> pods;
  for (int i = 0; i < 5000; ++i) {
    PodSpec p;
    p.name = "pod-" + std::to_string(i);
    const unsigned kind = rng() % 100;
    if (kind < 35) {
      p.containers.push_back(
          Container("main", "Ascend910B3", pick({"4096", "16384", "20000", "32768", ""})));
    } else if (kind < 50) {
      p.annotations["huawei.com/vnpu-mode"] = "hami-core";
      p.containers.push_back(Container("main", "Ascend910B3", std::to_string(1000 + rng() % 29000),
                                       std::to_string(10 + rng() % 41)));
    } else if (kind < 65) {
      p.containers.push_back(
          Container("main", "Ascend910B4", pick({"4096", "8192", "12000", "16384"})));
    } else if (kind < 90) {
      p.containers.push_back(
          Container("main", "Ascend310P", pick({"1000", "3072", "5000", "6144", "12288"})));
    } else if (kind < 95) {
      p.containers.push_back(Container("a", "Ascend910B3", pick({"16384", "32768"})));
      p.containers.push_back(Container("b", "Ascend910B3", pick({"16384", "32768"})));
    } else {
      p.init_containers.push_back(Container("init", "Ascend910B3", pick({"16384", "32768"})));
      p.containers.push_back(Container("main", "Ascend910B3", pick({"16384", "32768"})));
    }
    pods.push_back(std::move(p));
  }
  return pods;
}

std::string SimModel(const std::string& cw) {
  if (cw == "Ascend310P") {
    return "310P3";
  }
  return cw.substr(6);  // Ascend910B3 -> 910B3
}

TEST(Issue11RegressionTest, DryRunOf5000MixedPodsLeavesNoChipNpuSimRefuses) {
  auto cfg = config::LoadDeviceConfigFile(
      std::string(NPUSHARE_SOURCE_DIR) + "/deploy/config/device-config.yaml", nullptr);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto nodes = cli::ReadNodes(Nodes(), *cfg);
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  cli::DryRunOptions opts;
  opts.now_unix_seconds = 1700000000;
  cli::DryRunScheduler scheduler(*cfg, std::move(*nodes), opts);

  struct Chip {
    std::string type;
    std::vector<std::string> templates;  // in placement order
    int whole_users = 0;                 // whole card or soft slice
  };
  std::map<std::string, Chip> chips;  // by uuid
  int scheduled = 0, unschedulable = 0, rule_refusals = 0;
  for (auto& pod : Pods()) {
    cli::PodDecision d = scheduler.Schedule(std::move(pod));
    if (d.outcome == cli::PodDecision::Outcome::kUnschedulable) {
      ++unschedulable;
      const std::string& r = d.reasons.value_or("");
      rule_refusals +=
          r.find("Vnpu") != std::string::npos || r.find("AiC") != std::string::npos ? 1 : 0;
      continue;
    }
    ASSERT_EQ(d.outcome, cli::PodDecision::Outcome::kScheduled) << d.name;
    ++scheduled;
    for (const auto& dev : d.devices) {
      Chip& c = chips[dev.uuid];
      c.type = dev.type;
      if (dev.template_name) {
        c.templates.push_back(*dev.template_name);
      } else {
        ++c.whole_users;
      }
    }
  }
  // The workload is the one the issue describes: most pods placed, some refused.
  EXPECT_GT(scheduled, 4000);
  RecordProperty("unschedulable", unschedulable);
  RecordProperty("rule_refusals", rule_refusals);

  // Replay every chip's slices, in placement order, on npu-sim.
  std::map<std::string, std::unique_ptr<NpuSimState>> sims;
  int sliced_chips = 0, chips_with_quarters = 0, chips_with_halves = 0;
  for (const auto& [uuid, chip] : chips) {
    if (chip.templates.empty()) {
      continue;
    }
    ++sliced_chips;
    EXPECT_EQ(chip.whole_users, 0) << uuid << " is both split and used whole";
    if (chip.type == "Ascend910B3") {
      chips_with_quarters += chip.templates[0] == "vir05_1c_16g" ? 1 : 0;
      chips_with_halves += chip.templates[0] == "vir10_3c_32g" ? 1 : 0;
    }
    // The shared rule, with the scheduler's figures (the device config).
    const config::ChipConfig* cc = cfg->FindByCommonWord(chip.type);
    ASSERT_NE(cc, nullptr);
    vnpu::ChipSlices slices;
    for (const auto& t : chip.templates) {
      int32_t id = -1;
      for (size_t k = 0; k < cc->templates.size(); ++k) {
        id = cc->templates[k].name == t ? static_cast<int32_t>(k) : id;
      }
      ASSERT_GE(id, 0) << t;
      const vnpu::SliceShape shape{id, cc->templates[id].ai_core, cc->templates[id].ai_cpu};
      EXPECT_EQ(vnpu::CanAddSlice(ChipBudgetOf(*cc), slices, shape), vnpu::Verdict::kOk)
          << uuid << ": " << t;
      slices.Add(shape);
    }
    const std::string model = SimModel(chip.type);
    auto& state = sims[model];
    if (!state) {
      auto spec = sim::ParseNodeYaml("model: " + model + "\ncards: 1\n");
      ASSERT_TRUE(spec.ok()) << spec.status().ToString();
      state = sim::BuildInitialState(*spec, 0);
    }
    std::vector<uint32_t> created;
    for (const auto& t : chip.templates) {
      auto id = sim::CreateVnpu(*state, 0, t, 0xFFFFFFFFu, 0);
      EXPECT_TRUE(id.ok()) << uuid << " (" << chip.type << "): npu-sim refuses " << t << ": "
                           << id.status().ToString();
      if (id.ok()) {
        created.push_back(*id);
      }
    }
    for (uint32_t id : created) {
      ASSERT_TRUE(sim::DestroyVnpu(*state, 0, id).ok());
    }
  }
  // Both 910B3 slice sizes were in play, so mixing was possible and was avoided.
  EXPECT_GT(sliced_chips, 1000);
  EXPECT_GT(chips_with_quarters, 50);
  EXPECT_GT(chips_with_halves, 50);
}

}  // namespace
}  // namespace npushare::scheduling
