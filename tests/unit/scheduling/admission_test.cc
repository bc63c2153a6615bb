#include "scheduling/admission.h"

#include <gtest/gtest.h>

#include "unit/scheduling/test_chips.h"

namespace npushare::scheduling {
namespace {

using testing::Chip910B3;

ContainerSpec Container(ResourceList limits) {
  ContainerSpec c;
  c.name = "main";
  c.limits = std::move(limits);
  return c;
}

PodSpec SoftPod() {
  PodSpec p;
  p.annotations[hami::kVnpuModeAnnotation] = hami::kVnpuModeHamiCore;
  return p;
}

TEST(AdmissionTest, HardSliceRoundsUpToTemplate) {
  auto chip = Chip910B3();
  PodSpec pod;
  auto c = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "4096"}});
  ContainerAdmission r = MutateContainer(chip, c, pod);
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_TRUE(r.found);
  EXPECT_EQ((*c.limits)["huawei.com/Ascend910B3-memory"], "16384");
  ASSERT_TRUE(c.requests.has_value());
  EXPECT_EQ((*c.requests)["huawei.com/Ascend910B3-memory"], "16384");
}

TEST(AdmissionTest, NoMemoryMeansWholeCard) {
  auto chip = Chip910B3();
  PodSpec pod;
  auto c = Container({{"huawei.com/Ascend910B3", "2"}});
  ContainerAdmission r = MutateContainer(chip, c, pod);
  ASSERT_TRUE(r.error.ok());
  EXPECT_EQ((*c.limits)["huawei.com/Ascend910B3-memory"], "65536");
}

// Regression, issue 2: byte-like memory is rejected in both modes (upstream lets it through).
TEST(Issue2ByteMemoryTest, BinarySuffixRejectedInHardMode) {
  auto chip = Chip910B3();
  PodSpec pod;
  auto c = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "16Gi"}});
  ContainerAdmission r = MutateContainer(chip, c, pod);
  EXPECT_EQ(r.error.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(r.found);
}

TEST(Issue2ByteMemoryTest, BinarySuffixRejectedInSoftMode) {
  auto chip = Chip910B3();
  PodSpec pod = SoftPod();
  for (const char* v : {"16Gi", "512Mi", "17179869184", "3e10", "16G"}) {
    auto c = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", v}});
    ContainerAdmission r = MutateContainer(chip, c, pod);
    EXPECT_EQ(r.error.code(), StatusCode::kInvalidArgument) << v;
  }
}

TEST(Issue2ByteMemoryTest, PlainMegabytesAccepted) {
  auto chip = Chip910B3();
  PodSpec pod = SoftPod();
  auto c = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "16384"}});
  ContainerAdmission r = MutateContainer(chip, c, pod);
  EXPECT_TRUE(r.error.ok());
  EXPECT_EQ((*c.limits)["huawei.com/Ascend910B3-memory"], "16384");
}

TEST(AdmissionTest, NegativeAndFractionalMemoryRejected) {
  auto chip = Chip910B3();
  for (const char* v : {"-100", "500m", "1.5", "-1m", "garbage"}) {
    PodSpec pod;
    auto c = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", v}});
    EXPECT_EQ(MutateContainer(chip, c, pod).error.code(), StatusCode::kInvalidArgument) << v;
  }
}

TEST(AdmissionTest, CoreRequiresSoftMode) {
  auto chip = Chip910B3();
  PodSpec pod;
  auto c = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-core", "10"}});
  EXPECT_EQ(MutateContainer(chip, c, pod).error.code(), StatusCode::kInvalidArgument);

  auto zero = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-core", "0"}});
  EXPECT_TRUE(MutateContainer(chip, zero, pod).error.ok());

  PodSpec soft = SoftPod();
  auto c2 = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-core", "10"}});
  EXPECT_TRUE(MutateContainer(chip, c2, soft).error.ok());
}

TEST(AdmissionTest, MultiDeviceSliceRejectedButFoundIsTrue) {
  auto chip = Chip910B3();
  PodSpec pod;
  auto c = Container({{"huawei.com/Ascend910B3", "2"}, {"huawei.com/Ascend910B3-memory", "4096"}});
  ContainerAdmission r = MutateContainer(chip, c, pod);
  EXPECT_TRUE(r.found);
  EXPECT_EQ(r.error.code(), StatusCode::kInvalidArgument);
}

TEST(AdmissionTest, ZeroCountIsNotARequest) {
  auto chip = Chip910B3();
  chip.overwrite_env = true;
  PodSpec pod;
  auto c = Container({{"huawei.com/Ascend910B3", "0"}});
  ContainerAdmission r = MutateContainer(chip, c, pod);
  EXPECT_FALSE(r.found);
  EXPECT_TRUE(r.error.ok());
  ASSERT_EQ(c.env.size(), 1u);
  EXPECT_EQ(c.env[0].name, "ASCEND_VISIBLE_DEVICES");
}

TEST(AdmissionTest, SuperPodRoundsOneToTwoAndRejectsOdd) {
  config::ChipConfig chip = Chip910B3();
  chip.common_word = "Ascend910C";
  chip.resource_name = "huawei.com/Ascend910C";
  chip.resource_memory_name = "huawei.com/Ascend910C-memory";
  chip.resource_core_name.clear();
  chip.super_pod = true;
  PodSpec pod;
  auto one = Container({{"huawei.com/Ascend910C", "1"}});
  one.requests = ResourceList{{"huawei.com/Ascend910C", "1"}};
  ASSERT_TRUE(MutateContainer(chip, one, pod).error.ok());
  EXPECT_EQ((*one.limits)["huawei.com/Ascend910C"], "2");
  EXPECT_EQ((*one.requests)["huawei.com/Ascend910C"], "2");
  auto three = Container({{"huawei.com/Ascend910C", "3"}});
  EXPECT_EQ(MutateContainer(chip, three, pod).error.code(), StatusCode::kInvalidArgument);
}

TEST(AdmissionTest, RuntimeClassFilledOnlyWhenAbsent) {
  auto chip = Chip910B3();
  chip.runtime_class_name = "ascend";
  PodSpec pod;
  auto c = Container({{"huawei.com/Ascend910B3", "1"}});
  ASSERT_TRUE(MutateContainer(chip, c, pod).error.ok());
  EXPECT_EQ(pod.runtime_class_name, "ascend");
  PodSpec custom;
  custom.runtime_class_name = "mine";
  auto c2 = Container({{"huawei.com/Ascend910B3", "1"}});
  ASSERT_TRUE(MutateContainer(chip, c2, custom).error.ok());
  EXPECT_EQ(custom.runtime_class_name, "mine");
}

TEST(AdmissionTest, MutatePodStopsAtFirstErrorInitContainersFirst) {
  config::DeviceConfig cfg;
  cfg.chips = {Chip910B3()};
  PodSpec pod;
  pod.init_containers.push_back(
      Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "99999999"}}));
  pod.containers.push_back(Container({{"huawei.com/Ascend910B3", "1"}}));
  PodAdmission r = MutatePod(cfg, pod);
  EXPECT_EQ(r.error.code(), StatusCode::kInvalidArgument);
  // The app container was never reached, so it has no memory written.
  EXPECT_EQ(pod.containers[0].limits->count("huawei.com/Ascend910B3-memory"), 0u);
}

// --- Issue 11 "Bad input": the dry run's hostile-input findings -----------------------
// These tests read the message because the issue is about what the message says.

std::string MemoryError(const std::string& value, bool soft = false) {
  auto chip = Chip910B3();
  PodSpec pod = soft ? SoftPod() : PodSpec{};
  auto c = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", value}});
  ContainerAdmission r = MutateContainer(chip, c, pod);
  EXPECT_EQ(r.error.code(), StatusCode::kInvalidArgument) << value;
  return r.error.message();
}

TEST(Issue11BadInputTest, CoreMustBeAWholePercentage) {
  auto chip = Chip910B3();
  for (bool soft : {false, true}) {
    for (const char* v : {"-1", "abc", "101", "1000", "1e9", "500m", "1.5", "+5", "", "1k"}) {
      PodSpec pod = soft ? SoftPod() : PodSpec{};
      auto c = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-core", v}});
      ContainerAdmission r = MutateContainer(chip, c, pod);
      ASSERT_EQ(r.error.code(), StatusCode::kInvalidArgument) << v << " soft=" << soft;
      EXPECT_NE(r.error.message().find("must be a whole percentage from 0 to 100"),
                std::string::npos)
          << r.error.message();
    }
  }
  // Garbage in requests is refused too, even when limits are fine.
  PodSpec soft = SoftPod();
  auto c = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-core", "50"}});
  c.requests = ResourceList{{"huawei.com/Ascend910B3-core", "-1"}};
  EXPECT_EQ(MutateContainer(chip, c, soft).error.code(), StatusCode::kInvalidArgument);
}

TEST(Issue11BadInputTest, CoreZeroToHundredAccepted) {
  auto chip = Chip910B3();
  for (const char* v : {"0", "1", "50", "100", "007"}) {
    PodSpec soft = SoftPod();
    auto c = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-core", v}});
    EXPECT_TRUE(MutateContainer(chip, c, soft).error.ok()) << v;
  }
  // 0 (best effort) is also fine for a hard-slicing pod; anything above needs hami-core.
  PodSpec hard;
  auto z = Container({{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-core", "0"}});
  EXPECT_TRUE(MutateContainer(chip, z, hard).error.ok());
}

TEST(Issue11BadInputTest, MemoryAboveTheChipSaysSoWithTheRightFigure) {
  EXPECT_EQ(MemoryError("65537"),
            "huawei.com/Ascend910B3-memory 65537 is invalid: it exceeds the chip's 65536 MB");
  EXPECT_EQ(MemoryError("65537", /*soft=*/true),
            "huawei.com/Ascend910B3-memory 65537 is invalid: it exceeds the chip's 65536 MB");
  EXPECT_EQ(MemoryError("2147483647"),
            "huawei.com/Ascend910B3-memory 2147483647 is invalid: it exceeds the chip's 65536 MB "
            "(memory is in MB; as bytes, 2147483647 would be 2047 MB)");
  EXPECT_EQ(MemoryError("1e9"),
            "huawei.com/Ascend910B3-memory 1e9 is invalid: it exceeds the chip's 65536 MB "
            "(memory is in MB; as bytes, 1e9 would be 953 MB)");
  // 99999999999999999999 / 2^20 = 95367431640624.9999...: exact, not the saturated int64.
  EXPECT_EQ(MemoryError("99999999999999999999"),
            "huawei.com/Ascend910B3-memory 99999999999999999999 looks like bytes: memory is in "
            "MB, e.g. 16384 for 16 GiB (99999999999999999999 would be 95367431640624 MB)");
  EXPECT_EQ(MemoryError("16Gi"),
            "huawei.com/Ascend910B3-memory 16Gi looks like bytes: memory is in MB, e.g. 16384 "
            "for 16 GiB (16Gi would be 16384 MB)");
}

TEST(Issue11BadInputTest, MemoryZeroIsRefusedBothModes) {
  for (bool soft : {false, true}) {
    EXPECT_NE(MemoryError("0", soft).find("omit the memory resource to get the whole chip"),
              std::string::npos);
  }
}

TEST(Issue11BadInputTest, TooManyContainersRejectedAtAdmission) {
  config::DeviceConfig cfg;
  cfg.chips = {Chip910B3()};
  PodSpec pod;
  pod.name = "huge";
  for (int i = 0; i < 2000; ++i) {
    pod.containers.push_back(Container({{"huawei.com/Ascend910B3", "1"}}));
  }
  PodAdmission r = MutatePod(cfg, pod);
  EXPECT_EQ(r.error.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.error.message().find("at most 1024"), std::string::npos) << r.error.message();
  // 1024 is fine, and a pod that asks for no NPU is none of our business.
  pod.containers.resize(1024);
  EXPECT_TRUE(MutatePod(cfg, pod).error.ok());
  PodSpec plain;
  plain.containers.resize(2000);
  EXPECT_TRUE(MutatePod(cfg, plain).error.ok());
}

}  // namespace
}  // namespace npushare::scheduling
