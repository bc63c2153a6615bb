// A do-nothing RTS for the libvnpu.so benchmarks: each entry returns at once, so what a
// benchmark measures through the hook is the hook's own cost. Events exist and complete at
// once, so gated launches run with libvnpu's event fences on (their slow-path cost included). The
// bench_direct_* names are the same functions under names libvnpu.so does not intercept (the
// baseline).
#include <stdint.h>

#include <atomic>

#define FAKE_API extern "C" __attribute__((visibility("default"), noinline))

namespace {

std::atomic<uint64_t> g_next{0x100000000ull};

// The bodies live in internal functions: an exported name called from inside this library
// would go through the PLT and so through libvnpu's hook, and the baseline would not be one.
__attribute__((noinline)) int32_t Launch() {
  return 0;
}
__attribute__((noinline)) int32_t Malloc(void** p) {
  *p = reinterpret_cast<void*>(g_next.fetch_add(4096, std::memory_order_relaxed));
  return 0;
}
__attribute__((noinline)) int32_t Free() {
  return 0;
}

}  // namespace

FAKE_API int32_t rtSetDevice(int32_t) {
  return 0;
}
FAKE_API int32_t rtGetDevice(int32_t* dev) {
  *dev = 0;
  return 0;
}
FAKE_API int32_t rtKernelLaunch(const void*, uint32_t, void*, uint32_t, void*, void*) {
  return Launch();
}
FAKE_API int32_t rtMalloc(void** p, uint64_t, uint32_t, uint16_t) {
  return Malloc(p);
}
FAKE_API int32_t rtFree(void*) {
  return Free();
}
FAKE_API int32_t rtStreamSynchronize(void*) {
  return 0;
}
FAKE_API int32_t rtEventCreate(void** evt) {
  static std::atomic<uintptr_t> next{0x1000};
  *evt = reinterpret_cast<void*>(next.fetch_add(16, std::memory_order_relaxed));
  return 0;
}
FAKE_API int32_t rtEventRecord(void*, void*) {
  return 0;
}
FAKE_API int32_t rtEventQueryStatus(void*, int32_t* status) {
  *status = 1;  // RT_EVENT_RECORDED: complete at once
  return 0;
}
FAKE_API int32_t rtEventSynchronize(void*) {
  return 0;
}
FAKE_API int32_t rtEventElapsedTime(float* ms, void*, void*) {
  *ms = 0.0f;
  return 0;
}
FAKE_API int32_t bench_direct_kernel_launch(const void*, uint32_t, void*, uint32_t, void*, void*) {
  return Launch();
}
FAKE_API int32_t bench_direct_malloc(void** p, uint64_t, uint32_t, uint16_t) {
  return Malloc(p);
}
FAKE_API int32_t bench_direct_free(void*) {
  return Free();
}
