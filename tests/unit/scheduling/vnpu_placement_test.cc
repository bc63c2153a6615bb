// The shared vNPU placement rule (issue 11 "Placements the driver will accept"), and how
// Fit / AddPodUsage / FilterPod apply it.
#include "scheduling/vnpu_placement.h"

#include <gtest/gtest.h>

#include "scheduling/fit.h"
#include "scheduling/node_usage.h"
#include "scheduling/pod_filter.h"
#include "unit/scheduling/test_chips.h"

namespace npushare::scheduling {
namespace {

using testing::Chip310P;
using testing::Chip910B3;
using vnpu::Verdict;

// 310P3 with the driver's full template table (ascend-abi.md §5.2).
constexpr vnpu::SliceShape kVir01{0, 1, 1};
constexpr vnpu::SliceShape kVir02{1, 2, 2};
constexpr vnpu::SliceShape kVir02_1c{2, 2, 1};
constexpr vnpu::SliceShape kVir04{3, 4, 4};
constexpr vnpu::SliceShape kVir04_3c{4, 4, 3};
constexpr vnpu::ChipBudget k310P{8, 7, 0, false};

TEST(Issue11PlacementRuleTest, SixVir01LeaveRoomForOneVir01OrOneVir02_1c) {
  vnpu::ChipSlices chip;
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(vnpu::CanAddSlice(k310P, chip, kVir01), Verdict::kOk) << i;
    chip.Add(kVir01);
  }
  EXPECT_EQ(vnpu::CanAddSlice(k310P, chip, kVir02_1c), Verdict::kOk);
  EXPECT_EQ(vnpu::CanAddSlice(k310P, chip, kVir02), Verdict::kInsufficientAiCpu);
  ASSERT_EQ(vnpu::CanAddSlice(k310P, chip, kVir01), Verdict::kOk);
  chip.Add(kVir01);
  // Not two more vir01: the seventh used the last AI CPU.
  EXPECT_EQ(vnpu::CanAddSlice(k310P, chip, kVir01), Verdict::kInsufficientAiCpu);
}

TEST(Issue11PlacementRuleTest, Recommended310PCombinationsFit) {
  vnpu::ChipSlices a;
  a.Add(kVir04);
  EXPECT_EQ(vnpu::CanAddSlice(k310P, a, kVir04_3c), Verdict::kOk);
  EXPECT_EQ(vnpu::CanAddSlice(k310P, a, kVir04), Verdict::kInsufficientAiCpu);
  vnpu::ChipSlices b;
  b.Add(kVir04);
  b.Add(kVir02);
  EXPECT_EQ(vnpu::CanAddSlice(k310P, b, kVir02_1c), Verdict::kOk);
  b.Add(kVir02_1c);
  EXPECT_EQ(vnpu::CanAddSlice(k310P, b, kVir01), Verdict::kInsufficientAiCore);
}

TEST(Issue11PlacementRuleTest, Chip910BHoldsOneTemplate) {
  const vnpu::ChipBudget b910{20, 7, 0, vnpu::OneTemplatePerChip("910B3")};
  const vnpu::SliceShape vir05{0, 5, 1}, vir10{1, 10, 3};
  vnpu::ChipSlices chip;
  chip.Add(vir10);
  EXPECT_EQ(vnpu::CanAddSlice(b910, chip, vir05), Verdict::kTemplateMix);
  EXPECT_EQ(vnpu::CanAddSlice(b910, chip, vir10), Verdict::kOk);
  chip.Add(vir10);
  EXPECT_EQ(vnpu::CanAddSlice(b910, chip, vir10), Verdict::kInsufficientAiCore);
  vnpu::ChipSlices quarters;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(vnpu::CanAddSlice(b910, quarters, vir05), Verdict::kOk);
    quarters.Add(vir05);
  }
  EXPECT_EQ(vnpu::CanAddSlice(b910, quarters, vir05), Verdict::kInsufficientAiCore);
}

TEST(Issue11PlacementRuleTest, SplitOrWholeNeverBoth) {
  vnpu::ChipSlices whole;
  whole.AddPhysical();
  EXPECT_EQ(vnpu::CanAddSlice(k310P, whole, kVir01), Verdict::kChipUsedWhole);
  EXPECT_EQ(vnpu::CanUseWhole(whole), Verdict::kOk);  // more soft slices share it
  vnpu::ChipSlices split;
  split.Add(kVir01);
  EXPECT_EQ(vnpu::CanUseWhole(split), Verdict::kChipSplit);
}

TEST(Issue11PlacementRuleTest, UnknownBudgetsAreNotChecked) {
  const vnpu::ChipBudget none{};  // e.g. HAMi's 910A entry has no aiCPU
  vnpu::ChipSlices chip;
  for (int i = 0; i < 40; ++i) {
    chip.Add({0, 16, 7});
  }
  EXPECT_EQ(vnpu::CanAddSlice(none, chip, {0, 16, 7}), Verdict::kOk);
  EXPECT_EQ(vnpu::CanAddSlice({0, 0, 40, false}, chip, {0, 16, 7}), Verdict::kTooManyVnpus);
  EXPECT_EQ(vnpu::CanAddSlice(none, chip, {vnpu::kMaxTemplateIds, 1, 1}), Verdict::kBadTemplateId);
}

TEST(Issue11PlacementRuleTest, OneTemplateFamilies) {
  for (const char* yes :
       {"910B1", "910B2C", "910B3", "910B4-1", "Ascend910B4", "Ascend910", "Ascend910C", "910C"}) {
    EXPECT_TRUE(vnpu::OneTemplatePerChip(yes)) << yes;
  }
  for (const char* no : {"310P3", "Ascend310P", "910A", "Ascend910A", ""}) {
    EXPECT_FALSE(vnpu::OneTemplatePerChip(no)) << no;
  }
}

// --- Fit ---------------------------------------------------------------------------

DeviceUsage Dev(const char* id, uint32_t index) {
  DeviceUsage d;
  d.id = id;
  d.index = index;
  d.type = "Ascend910B3";
  d.health = true;
  d.count = 4;
  d.totalmem = 65536;
  d.totalcore = 20;
  return d;
}

FitInput HardRequest(const config::ChipConfig& chip, int32_t memreq,
                     const hami::Annotations& annotations) {
  FitInput in;
  in.chip = &chip;
  in.request.nums = 1;
  in.request.type = chip.common_word;
  in.request.memreq = memreq;
  in.pod_annotations = &annotations;
  return in;
}

TEST(Issue11FitTest, RefusesSecondTemplateOn910BChipWithReason) {
  const config::ChipConfig chip = Chip910B3();
  const hami::Annotations none;
  DeviceUsage d = Dev("a", 0);
  d.used = 1;
  d.usedmem = 32768;
  d.slices.Add(*SliceFor(chip, 32768));
  FitResult r = Fit({d}, HardRequest(chip, 16384, none));
  EXPECT_FALSE(r.fit);
  EXPECT_EQ(r.reason, "1/1 CardVnpuTemplateMix");
  // The same template still fits.
  FitResult same = Fit({d}, HardRequest(chip, 32768, none));
  ASSERT_TRUE(same.fit);
  EXPECT_TRUE(same.devices[0].hard_slice);
  EXPECT_EQ(same.devices[0].slice.ai_core, 10);
}

TEST(Issue11FitTest, PicksTheChipThatKeepsOneTemplate) {
  const config::ChipConfig chip = Chip910B3();
  const hami::Annotations none;
  DeviceUsage mixed = Dev("a", 0), clean = Dev("b", 1);
  mixed.used = 1;
  mixed.usedmem = 32768;
  mixed.slices.Add(*SliceFor(chip, 32768));
  // "a" is last, so upstream would try it first and mix templates.
  FitResult r = Fit({clean, mixed}, HardRequest(chip, 16384, none));
  ASSERT_TRUE(r.fit);
  EXPECT_EQ(r.devices[0].uuid, "b");
}

TEST(Issue11FitTest, WholeCardAndSoftSlicesStayOffSplitChips) {
  const config::ChipConfig chip = Chip910B3();
  DeviceUsage d = Dev("a", 0);
  d.count = 8;
  d.totalcore = 100;
  d.used = 1;
  d.usedmem = 16384;
  d.slices.Add(*SliceFor(chip, 16384));
  const hami::Annotations soft = {{"huawei.com/vnpu-mode", "hami-core"}};
  FitInput in = HardRequest(chip, 1000, soft);
  in.pod_hami_core = true;
  in.node_supports_hami_core = true;
  FitResult r = Fit({d}, in);
  EXPECT_EQ(r.reason, "1/1 CardSplitIntoVnpus");
  // And a vNPU is not cut from a chip soft slices use.
  DeviceUsage s = Dev("b", 1);
  s.count = 8;
  s.used = 1;
  s.usedmem = 1000;
  s.slices.AddPhysical();
  const hami::Annotations none;
  EXPECT_EQ(Fit({s}, HardRequest(chip, 16384, none)).reason, "1/1 CardInUseWhole");
}

TEST(Issue11FitTest, Chip310PCountsAiCpus) {
  config::ChipConfig chip = Chip310P();
  chip.ai_cpu = 7;
  const hami::Annotations none;
  DeviceUsage d = Dev("p", 0);
  d.type = "Ascend310P";
  d.count = 7;
  d.totalmem = 24576;  // the real card; HAMi's 21527 would refuse by memory first
  d.totalcore = 8;
  // vir04 + vir02 = 6 AI cores, 6 AI CPUs: a vir02 (2 CPUs) does not fit, a vir01 does.
  d.slices.Add(*SliceFor(chip, 12288));
  d.slices.Add(*SliceFor(chip, 6144));
  d.used = 2;
  d.usedmem = 12288 + 6144;
  EXPECT_EQ(Fit({d}, HardRequest(chip, 6144, none)).reason, "1/1 CardInsufficientAiCpu");
  EXPECT_TRUE(Fit({d}, HardRequest(chip, 3072, none)).fit);
}

// --- AddPodUsage + FilterPod ------------------------------------------------------------

TEST(Issue11FilterTest, PlacedSlicesAreSeenAndNamedInTheSummary) {
  config::DeviceConfig cfg;
  cfg.chips = {Chip910B3()};
  NodeState node;
  node.name = "n1";
  hami::DeviceInfo info;
  info.id = "n1-npu-0";
  info.count = 4;
  info.devmem = 65536;
  info.devcore = 20;
  info.type = "Ascend910B3";
  info.health = true;
  node.registered["Ascend910B3"] = {info};
  std::map<std::string, NodeDevices, std::less<>> usage;
  usage["n1"] = CapacityOf(node);
  PlacedPod placed;
  placed.key = "default/big";
  placed.node = "n1";
  placed.allocation["Ascend910B3"] = {{hami::ContainerDevice{"n1-npu-0", "Ascend910B3", 32768, 0}}};
  AddPodUsage(usage["n1"], placed, cfg);
  const DeviceUsage& d = usage["n1"]["Ascend910B3"][0];
  EXPECT_EQ(d.slices.vnpus, 1);
  EXPECT_EQ(d.slices.ai_core, 10);
  EXPECT_EQ(d.slices.ai_cpu, 3);

  PodSpec pod;
  pod.name = "small";
  ContainerSpec c;
  c.name = "main";
  c.limits =
      ResourceList{{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "16384"}};
  pod.containers.push_back(c);
  FilterOutcome out = FilterPod(cfg, pod, {&node}, usage, FilterOptions{});
  EXPECT_FALSE(out.chosen.has_value());
  EXPECT_EQ(out.Summary(), "0/1 nodes are available: 1 CardVnpuTemplateMix.");

  // The two-argument AddPodUsage cannot see templates (documented): the chip looks empty.
  NodeDevices blind = CapacityOf(node);
  AddPodUsage(blind, placed);
  EXPECT_EQ(blind["Ascend910B3"][0].slices.vnpus, 0);
}

TEST(Issue11FilterTest, TwoAppContainersOfOnePodFollowTheRuleTogether) {
  config::DeviceConfig cfg;
  cfg.chips = {Chip910B3()};
  NodeState node;
  node.name = "n1";
  hami::DeviceInfo info;
  info.id = "n1-npu-0";
  info.count = 4;
  info.devmem = 65536;
  info.devcore = 20;
  info.type = "Ascend910B3";
  info.health = true;
  node.registered["Ascend910B3"] = {info};
  std::map<std::string, NodeDevices, std::less<>> usage;
  usage["n1"] = CapacityOf(node);
  PodSpec pod;
  pod.name = "two";
  for (const char* mem : {"32768", "16384"}) {
    ContainerSpec c;
    c.name = std::string("c") + mem;
    c.limits =
        ResourceList{{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", mem}};
    pod.containers.push_back(c);
  }
  FilterOutcome out = FilterPod(cfg, pod, {&node}, usage, FilterOptions{});
  EXPECT_FALSE(out.chosen.has_value());
  EXPECT_EQ(out.Summary(), "0/1 nodes are available: 1 CardVnpuTemplateMix.");
}

TEST(Issue11FilterTest, InitContainerSlicesOutliveItsWholeChipUseDoesNot) {
  config::DeviceConfig cfg;
  cfg.chips = {Chip910B3()};
  NodeState node;
  node.name = "n1";
  for (const char* id : {"c0", "c1"}) {
    hami::DeviceInfo info;
    info.id = id;
    info.count = 4;
    info.devmem = 65536;
    info.devcore = 20;
    info.type = "Ascend910B3";
    info.health = true;
    node.registered["Ascend910B3"].push_back(info);
  }
  NodeDevices devices = CapacityOf(node);
  PlacedPod placed;
  placed.key = "default/p";
  placed.node = "n1";
  placed.init_containers = 2;
  // init 1: a vir10 on c0; init 2: the whole of c1; app: a vir10 on c0.
  placed.allocation["Ascend910B3"] = {{{"c0", "Ascend910B3", 32768, 0}},
                                      {{"c1", "Ascend910B3", 65536, 0}},
                                      {{"c0", "Ascend910B3", 32768, 0}}};
  AddPodUsage(devices, placed, cfg);
  const DeviceUsage& c0 = devices["Ascend910B3"][0];
  const DeviceUsage& c1 = devices["Ascend910B3"][1];
  EXPECT_EQ(c0.slices.vnpus, 2);  // both vNPUs exist while the pod does
  EXPECT_EQ(c0.slices.ai_core, 20);
  EXPECT_EQ(c0.usedmem, 32768);            // memory keeps upstream's init-peak-vs-app-sum
  EXPECT_EQ(c1.slices.physical_users, 1);  // no app vNPU there: the init peak stands
  EXPECT_EQ(c1.slices.vnpus, 0);
}

}  // namespace
}  // namespace npushare::scheduling
