#include "state/vnpu.h"

#include <gtest/gtest.h>

#include "state/node_config.h"

namespace npushare::sim {
namespace {

std::unique_ptr<NpuSimState> Node(const char* yaml) {
  auto spec = ParseNodeYaml(yaml);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return BuildInitialState(*spec, 0);
}

TEST(VnpuTest, Chip910BTakesTwoHalvesWithIdsFromItsRange) {
  auto s = Node("model: 910B3\ncards: 8\n");
  auto a = CreateVnpu(*s, 7, "vir10_3c_32g", 0xFFFFFFFFu, 0);
  auto b = CreateVnpu(*s, 7, "vir10_3c_32g", 0xFFFFFFFFu, 0);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, 212u);  // 100 + 16 * 7
  EXPECT_EQ(*b, 213u);
  auto c = CreateVnpu(*s, 7, "vir10_3c_32g", 0xFFFFFFFFu, 0);
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(DcmiCodeFor(c.status()), -8255);
  ChipFreeResources free = FreeResources(*s, 7);
  EXPECT_EQ(free.aicore, 0u);
  EXPECT_EQ(free.aicpu, 1u);
  EXPECT_EQ(free.memory_mb, 0u);
  // Slices own disjoint core ranges.
  EXPECT_EQ(s->chips[7].vnpus[0].core_offset, 0u);
  EXPECT_EQ(s->chips[7].vnpus[1].core_offset, 10u);
}

TEST(VnpuTest, Chip910BRejectsMixingTemplates) {
  auto s = Node("model: 910B3\ncards: 1\n");
  ASSERT_TRUE(CreateVnpu(*s, 0, "vir05_1c_16g", 0xFFFFFFFFu, 0).ok());
  auto mixed = CreateVnpu(*s, 0, "vir10_3c_32g", 0xFFFFFFFFu, 0);
  EXPECT_EQ(mixed.status().code(), StatusCode::kFailedPrecondition);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(CreateVnpu(*s, 0, "vir05_1c_16g", 0xFFFFFFFFu, 0).ok());
  }
  EXPECT_FALSE(CreateVnpu(*s, 0, "vir05_1c_16g", 0xFFFFFFFFu, 0).ok());
}

TEST(VnpuTest, Chip310PAllowsSevenAndRespectsAicpu) {
  auto s = Node("model: 310P3\ncards: 1\n");
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(CreateVnpu(*s, 0, "vir01", 0xFFFFFFFFu, 0).ok()) << i;
  }
  // 6 AI CPUs used of 7; vir02 needs 2.
  EXPECT_EQ(CreateVnpu(*s, 0, "vir02", 0xFFFFFFFFu, 0).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(CreateVnpu(*s, 0, "vir02_1c", 0xFFFFFFFFu, 0).ok());
  EXPECT_EQ(CreateVnpu(*s, 0, "vir01", 0xFFFFFFFFu, 0).status().code(),
            StatusCode::kResourceExhausted);
}

TEST(VnpuTest, ErrorsMapToDcmiCodes) {
  auto s = Node("model: 910B4\ncards: 2\n");
  EXPECT_EQ(DcmiCodeFor(CreateVnpu(*s, 0, "vir99", 0xFFFFFFFFu, 0).status()), -8001);
  EXPECT_EQ(DcmiCodeFor(CreateVnpu(*s, 0, "vir05_1c_8g", 150, 0).status()),
            -8001);  // chip 1's range
  ASSERT_TRUE(CreateVnpu(*s, 0, "vir05_1c_8g", 103, 0).ok());
  EXPECT_EQ(DcmiCodeFor(CreateVnpu(*s, 0, "vir05_1c_8g", 103, 0).status()), -8020);
  EXPECT_EQ(DcmiCodeFor(DestroyVnpu(*s, 0, 104)), -8001);
  s->procs[0].pid = 1;  // init: always alive
  s->procs[0].used_bytes[0] = 1 << 20;
  s->procs[0].vnpu_id[0] = 103;
  EXPECT_EQ(DcmiCodeFor(DestroyVnpu(*s, 0, 103)), -8020);
  s->procs[0].used_bytes[0] = 0;
  EXPECT_TRUE(DestroyVnpu(*s, 0, 103).ok());
}

TEST(VnpuTest, Chip910CIsUnsupported) {
  auto s = Node("model: 910C\ncards: 1\n");
  auto r = CreateVnpu(*s, 0, "vir10_3c_32g", 0xFFFFFFFFu, 0);
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(DcmiCodeFor(r.status()), -8255);
}

}  // namespace
}  // namespace npushare::sim
