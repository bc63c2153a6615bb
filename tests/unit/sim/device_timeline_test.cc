#include "runtime/device_timeline.h"

#include <gtest/gtest.h>

namespace npushare::sim {
namespace {

constexpr uint64_t kMs = 1'000'000;

TEST(DeviceTimelineTest, FullChipKernelsSerialise) {
  NpuSimChip chip{};
  chip.aicore = 20;
  Reservation a = ReserveKernel(chip, 0, 20, 20, 100 * kMs, kMs);
  Reservation b = ReserveKernel(chip, 0, 20, 20, 100 * kMs, kMs);  // another process, same time
  EXPECT_EQ(a.start_ns, 100 * kMs);
  EXPECT_EQ(b.start_ns, a.end_ns);
  EXPECT_EQ(b.end_ns, 102 * kMs);
}

TEST(DeviceTimelineTest, KernelsThatFitSideBySideOverlap) {
  NpuSimChip chip{};
  chip.aicore = 20;
  Reservation a = ReserveKernel(chip, 0, 20, 10, 100 * kMs, kMs);
  Reservation b = ReserveKernel(chip, 0, 20, 10, 100 * kMs, kMs);
  Reservation c = ReserveKernel(chip, 0, 20, 10, 100 * kMs, kMs);
  EXPECT_EQ(a.start_ns, b.start_ns);
  EXPECT_EQ(c.start_ns, a.end_ns);
}

TEST(DeviceTimelineTest, SlicesDoNotDisturbEachOther) {
  NpuSimChip chip{};
  chip.aicore = 20;
  // vNPU A owns cores [0,10), vNPU B [10,20).
  Reservation a1 = ReserveKernel(chip, 0, 10, 10, 0, 5 * kMs);
  Reservation b1 = ReserveKernel(chip, 10, 20, 10, 0, kMs);
  Reservation b2 = ReserveKernel(chip, 10, 20, 10, 0, kMs);
  EXPECT_EQ(a1.start_ns, 0u);
  EXPECT_EQ(b1.start_ns, 0u);
  EXPECT_EQ(b2.start_ns, kMs);
}

TEST(DeviceTimelineTest, NeverStartsBeforeNotBefore) {
  NpuSimChip chip{};
  chip.aicore = 8;
  Reservation a = ReserveKernel(chip, 0, 8, 8, 0, kMs);
  Reservation b = ReserveKernel(chip, 0, 8, 8, 10 * kMs, kMs);
  EXPECT_EQ(a.end_ns, kMs);
  EXPECT_EQ(b.start_ns, 10 * kMs);
}

}  // namespace
}  // namespace npushare::sim
