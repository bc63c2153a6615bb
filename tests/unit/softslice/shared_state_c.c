/* Compiles softslice/shared_state.h as C11: the layout's static asserts run in C too, and the
 * accessors below give the C++ test something to compare against. */
#include "softslice/shared_state.h"

size_t VnpuTestSizeofLedgerC(void) {
  return sizeof(VnpuLedger);
}
size_t VnpuTestOffsetofProcsC(void) {
  return offsetof(VnpuLedger, procs);
}
size_t VnpuTestOffsetofTablesC(void) {
  return offsetof(VnpuLedger, tables);
}
size_t VnpuTestOffsetofLockC(void) {
  return offsetof(VnpuLedger, lock);
}
