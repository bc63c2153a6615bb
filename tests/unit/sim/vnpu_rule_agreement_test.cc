// Issue 11: npu-sim and the scheduler accept and refuse the same vNPU combinations. Random
// create/destroy sequences (fixed seed) run on a simulated chip and, beside it, through the
// shared rule with the figures the scheduler uses (the shipped device config); every step
// must agree.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "scheduling/fit.h"
#include "scheduling/vnpu_placement.h"
#include "state/chip_models.h"
#include "state/node_config.h"
#include "state/vnpu.h"

namespace npushare::sim {
namespace {

class VnpuRuleAgreementTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VnpuRuleAgreementTest, SimAndSchedulerAgreeOnEveryStep) {
  const std::string model = GetParam();
  auto cfg = config::LoadDeviceConfigFile(
      std::string(NPUSHARE_SOURCE_DIR) + "/deploy/config/device-config.yaml", nullptr);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const config::ChipConfig* chip = cfg->FindByChipName(model);
  ASSERT_NE(chip, nullptr) << model;
  const ChipModel& sim_model = AllChipModels()[FindChipModel(model)];

  // Templates both sides know, with the scheduler's id (index in the config table).
  struct Tpl {
    std::string name;
    vnpu::SliceShape shape;
  };
  std::vector<Tpl> common;
  for (size_t i = 0; i < chip->templates.size(); ++i) {
    const auto& t = chip->templates[i];
    if (FindTemplate(sim_model, t.name) >= 0) {
      common.push_back({t.name, {static_cast<int32_t>(i), t.ai_core, t.ai_cpu}});
    }
  }
  ASSERT_GE(common.size(), 2u) << model;

  auto spec = ParseNodeYaml("model: " + model + "\ncards: 1\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto state = BuildInitialState(*spec, 0);
  const vnpu::ChipBudget budget = scheduling::ChipBudgetOf(*chip);

  std::mt19937 rng(7);
  struct Live {
    uint32_t id;
    vnpu::SliceShape shape;
  };
  std::vector<Live> live;
  int accepted = 0, refused = 0;
  for (int step = 0; step < 3000; ++step) {
    if (!live.empty() && rng() % 4 == 0) {
      const size_t k = rng() % live.size();
      ASSERT_TRUE(DestroyVnpu(*state, 0, live[k].id).ok());
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
      continue;
    }
    const Tpl& t = common[rng() % common.size()];
    vnpu::ChipSlices slices;
    for (const auto& l : live) {
      slices.Add(l.shape);
    }
    const bool scheduler_accepts = vnpu::CanAddSlice(budget, slices, t.shape) == vnpu::Verdict::kOk;
    auto id = CreateVnpu(*state, 0, t.name, 0xFFFFFFFFu, 0);
    ASSERT_EQ(id.ok(), scheduler_accepts)
        << model << " step " << step << " " << t.name << " on " << live.size()
        << " slices: sim says " << id.status().ToString();
    if (id.ok()) {
      live.push_back({*id, t.shape});
      ++accepted;
    } else {
      ++refused;
    }
  }
  // Both outcomes were exercised.
  EXPECT_GT(accepted, 100);
  EXPECT_GT(refused, 100);
}

INSTANTIATE_TEST_SUITE_P(Issue11, VnpuRuleAgreementTest,
                         ::testing::Values("910B2", "910B3", "910B4", "310P3"));

TEST(VnpuRuleAgreementTest, FragmentedCoresDoNotRefuseWhatTheBudgetAllows) {
  auto spec = ParseNodeYaml("model: 310P3\ncards: 1\n");
  ASSERT_TRUE(spec.ok());
  auto state = BuildInitialState(*spec, 0);
  // vir01 @0, vir02 @1-2, vir01 @3, vir02 @4-5, vir01 @6; destroying the vir01 at 0 and 3
  // leaves cores 0, 3 and 7 free: three cores, two AI CPUs, no two adjacent.
  std::vector<uint32_t> ids;
  for (const char* t : {"vir01", "vir02", "vir01", "vir02", "vir01"}) {
    auto id = CreateVnpu(*state, 0, t, 0xFFFFFFFFu, 0);
    ASSERT_TRUE(id.ok()) << t;
    ids.push_back(*id);
  }
  ASSERT_TRUE(DestroyVnpu(*state, 0, ids[0]).ok());
  ASSERT_TRUE(DestroyVnpu(*state, 0, ids[2]).ok());
  EXPECT_TRUE(CreateVnpu(*state, 0, "vir02_1c", 0xFFFFFFFFu, 0).ok());
}

}  // namespace
}  // namespace npushare::sim
