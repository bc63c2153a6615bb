// The shared ledger layout is identical whether compiled as C or C++ (a C tool or a future
// arbiter in another language maps the same bytes).
#include "softslice/shared_state.h"

#include <gtest/gtest.h>

extern "C" {
size_t VnpuTestSizeofLedgerC(void);
size_t VnpuTestOffsetofProcsC(void);
size_t VnpuTestOffsetofTablesC(void);
size_t VnpuTestOffsetofLockC(void);
}

namespace {

TEST(VnpuSharedStateTest, CAndCxxAgreeOnTheLayout) {
  EXPECT_EQ(VnpuTestSizeofLedgerC(), sizeof(VnpuLedger));
  EXPECT_EQ(VnpuTestOffsetofProcsC(), offsetof(VnpuLedger, procs));
  EXPECT_EQ(VnpuTestOffsetofTablesC(), offsetof(VnpuLedger, tables));
  EXPECT_EQ(VnpuTestOffsetofLockC(), offsetof(VnpuLedger, lock));
}

TEST(VnpuSharedStateTest, WordsWrittenByDifferentProcessesDoNotShareA128ByteLine) {
  // Each process writes only its own slot's charges; slots are 256 bytes apart.
  EXPECT_EQ(sizeof(VnpuProcSlot) % 128, 0u);
  EXPECT_EQ(offsetof(VnpuLedger, procs) % 128, 0u);
  EXPECT_EQ(offsetof(VnpuLedger, lock) % 128, 0u);
  EXPECT_EQ(offsetof(VnpuLedger, reclaimed_procs) % 128, 0u);
}

}  // namespace
