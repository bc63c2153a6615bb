#include "state/node_config.h"

#include <gtest/gtest.h>

#include "state/chip_models.h"

namespace npushare::sim {
namespace {

TEST(NodeConfigTest, CountShortcutBuildsCards) {
  auto spec = ParseNodeYaml("model: 910B3\ncards: 8\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_EQ(spec->cards.size(), 8u);
  auto state = BuildInitialState(*spec, 0);
  EXPECT_EQ(state->chip_count, 8u);
  EXPECT_EQ(state->chips[7].card_id, 7u);
  EXPECT_EQ(state->chips[7].phy_id, 7u);
  EXPECT_EQ(state->chips[0].aicore, 20u);
  EXPECT_EQ(state->chips[0].memory_mb, 65536u);
}

TEST(NodeConfigTest, DieIdsAreDeterministicDistinctAndOneIsSmall) {
  auto spec = ParseNodeYaml("model: 910B4\ncards: 4\n");
  ASSERT_TRUE(spec.ok());
  auto a = BuildInitialState(*spec, 0);
  auto b = BuildInitialState(*spec, 0);
  for (int c = 0; c < 4; ++c) {
    for (int w = 0; w < 5; ++w) {
      EXPECT_EQ(a->chips[c].die_id[w], b->chips[c].die_id[w]);
    }
  }
  EXPECT_LT(a->chips[0].die_id[0], 0x10000000u);
  EXPECT_NE(a->chips[0].die_id[1], a->chips[1].die_id[1]);
}

TEST(NodeConfigTest, ExplicitCardsWithSparseIdsAndChipOverrides) {
  auto spec = ParseNodeYaml(R"(
version: 1
driver_version: "24.1.0"
cards:
  - id: 32
    model: 310P3
    chips:
      - memory_mb: 43000
        health: critical
        error_codes: [0x80E01801]
        recover_after_ms: 500
        die_id: [1, 2, 3, 4, 5]
  - id: 96
    model: 910C
)");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto state = BuildInitialState(*spec, 1000);
  ASSERT_EQ(state->chip_count, 3u);  // 310P3 + two 910C dies
  EXPECT_EQ(state->chips[0].card_id, 32u);
  EXPECT_EQ(state->chips[0].memory_mb, 43000u);
  EXPECT_EQ(state->chips[0].health, 3u);
  EXPECT_EQ(state->chips[0].error_count, 1u);
  EXPECT_EQ(state->chips[0].error_codes[0], 0x80E01801u);
  EXPECT_EQ(state->chips[0].health_recover_at_ns, 1000u + 500'000'000u);
  EXPECT_EQ(state->chips[0].die_id[4], 5u);
  EXPECT_EQ(state->chips[2].card_id, 96u);
  EXPECT_EQ(state->chips[2].device_index, 1u);
  EXPECT_STREQ(state->driver_version, "24.1.0");
}

TEST(NodeConfigTest, RejectsBadInput) {
  const char* bad[] = {
      "cards: [1",                                  // malformed YAML
      "model: 910B3\n",                             // no cards
      "model: 910Z\ncards: 1\n",                    // unknown model
      "model: 910B3\ncards: 1\ncolour: red\n",      // unknown key
      "cards: 2\n",                                 // count without model
      "model: 910B3\ncards: 65\n",                  // too many
      "model: 910B3\ncards: [{id: 1}, {id: 1}]\n",  // duplicate id
      "model: 910B3\ncards: [{id: 300}]\n",         // id range
      "model: 910B3\ncards: [{chips: [{health: sick}]}]\n",
      "model: 910B3\ncards: [{chips: [{aicore: 0}]}]\n",
      "model: 910B3\ncards: [{chips: [{die_id: [1, 2]}]}]\n",
      "model: 910B3\ncards: [{chips: [{memory_mb: -5}]}]\n",
      "model: 910C\ncards: [{chips: [{}]}]\n",  // 910C needs two chips
      "version: 2\nmodel: 910B3\ncards: 1\n",
      "- just\n- a list\n",
  };
  for (const char* text : bad) {
    auto spec = ParseNodeYaml(text);
    EXPECT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(NodeConfigTest, EveryModelHasConsistentTemplates) {
  for (const ChipModel& m : AllChipModels()) {
    for (const VnpuTemplate& t : m.templates) {
      EXPECT_LE(t.aicore, m.aicore) << t.name;
      EXPECT_LE(t.memory_create_mb, t.memory_show_mb) << t.name;
    }
  }
  EXPECT_GE(FindChipModel("910B3"), 0);
  EXPECT_EQ(FindChipModel("nope"), -1);
}

}  // namespace
}  // namespace npushare::sim
