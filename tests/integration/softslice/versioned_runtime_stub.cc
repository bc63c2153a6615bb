// versioned_runtime_stub: stands in for a runtime library built with symbol versions, for the
// dlvsym tests. npu-sim's libruntime.so has none, and glibc's dlvsym finds no symbol of any
// version in such a library, so it cannot show that libvnpu redirects a successful dlvsym.
// Exports rtMalloc and rtFree at version VNPU_TEST_RT_1.0 (versioned_runtime_stub.map) and
// nothing else. Both fail with kStubError, so a test sees at once when an application reached
// this stub instead of libvnpu's hook (which forwards to the real libruntime.so).
#include <stdint.h>

namespace {
constexpr int32_t kStubError = 999;
}  // namespace

extern "C" __attribute__((visibility("default"))) int32_t rtMalloc(void**, uint64_t, uint32_t,
                                                                   uint16_t) {
  return kStubError;
}

extern "C" __attribute__((visibility("default"))) int32_t rtFree(void*) {
  return kStubError;
}
