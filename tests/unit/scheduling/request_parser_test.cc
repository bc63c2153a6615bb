#include "scheduling/request_parser.h"

#include <gtest/gtest.h>

#include "scheduling/template_trimmer.h"
#include "unit/scheduling/test_chips.h"

namespace npushare::scheduling {
namespace {

using testing::Chip310P;
using testing::Chip910B3;

ParsedRequest Parse(const config::ChipConfig& chip, ResourceList limits) {
  ContainerSpec c;
  c.limits = std::move(limits);
  return ParseContainerRequest(chip, c);
}

TEST(RequestParserTest, CountMemoryCore) {
  ParsedRequest r = Parse(Chip910B3(), {{"huawei.com/Ascend910B3", "2"},
                                        {"huawei.com/Ascend910B3-memory", "8192"},
                                        {"huawei.com/Ascend910B3-core", "30"}});
  ASSERT_EQ(r.kind, ParsedRequest::Kind::kRequest);
  EXPECT_EQ(r.request, (hami::ContainerDeviceRequest{2, "Ascend910B3", 8192, 0, 30}));
}

TEST(RequestParserTest, InvalidValuesAreReportedNotRequested) {
  for (const char* mem : {"16Gi", "-1", "-1m"}) {
    ParsedRequest r = Parse(
        Chip910B3(), {{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", mem}});
    EXPECT_EQ(r.kind, ParsedRequest::Kind::kInvalid) << mem;
    EXPECT_FALSE(r.invalid_reason.empty());
  }
  EXPECT_EQ(Parse(Chip910B3(), {{"huawei.com/Ascend910B3", "0"}}).kind,
            ParsedRequest::Kind::kInvalid);
  EXPECT_EQ(Parse(Chip910B3(), {{"huawei.com/Ascend910B3", "1.5"}}).kind,
            ParsedRequest::Kind::kNone);
  EXPECT_EQ(Parse(Chip910B3(), {{"cpu", "1"}}).kind, ParsedRequest::Kind::kNone);
}

TEST(RequestParserTest, MemoryFactorScalesAndOverflows) {
  auto chip = Chip910B3();
  chip.memory_factor = 10;
  ParsedRequest r =
      Parse(chip, {{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "128"}});
  EXPECT_EQ(r.request.memreq, 1280);
  r = Parse(chip,
            {{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "300000000"}});
  EXPECT_EQ(r.kind, ParsedRequest::Kind::kInvalid);
}

TEST(TemplateTrimmerTest, RoundsUpWholeCardOrInvalid) {
  auto p = Chip310P();
  EXPECT_EQ(TrimMemory(p, 1024).template_name, "vir01");
  EXPECT_EQ(TrimMemory(p, 6000).memory_mb, 6144);
  EXPECT_EQ(TrimMemory(p, 20000).memory_mb, 21527);
  EXPECT_EQ(TrimMemory(p, 20000).template_name, "");
  EXPECT_EQ(TrimMemory(p, 24577).memory_mb, 0);
}

}  // namespace
}  // namespace npushare::scheduling
