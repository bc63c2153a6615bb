// File: softslice/interceptor/dlsym_hook.cc
//
// Applications that resolve runtime functions themselves (torch_npu: dlopen + dlsym on the
// runtime's handle) would bypass an LD_PRELOAD hook, because a handle-scoped lookup searches
// only that library and its dependencies. libvnpu therefore exports dlsym: a lookup of a hooked
// name through any handle except RTLD_NEXT returns our hook when the real lookup finds the
// symbol (and NULL, like the real one, when it does not).
//
// RTLD_NEXT is relative to the caller, which glibc takes from the return address. Every path
// therefore ends in a tail call to glibc's dlsym, so the caller glibc sees is the application,
// not libvnpu. This file is compiled with -O2 -foptimize-sibling-calls for that reason, and
// dlsym_test checks the behaviour. dlvsym is not intercepted (documented limitation).
#include <dlfcn.h>
#include <string.h>

#include "softslice/interceptor/hooks.h"
#include "softslice/interceptor/process_state.h"

namespace npushare::vnpu {
namespace {

struct HookEntry {
  const char* name;
  void* hook;
};

// OurHook: our definition for a hooked name, or nullptr.
void* OurHook(const char* name) {
  // Built on demand: function addresses are not constant expressions for a static table
  // without relocations, and this keeps libvnpu free of global constructors.
  const HookEntry entries[] = {
      {"rtMalloc", reinterpret_cast<void*>(&rtMalloc)},
      {"rtMallocCached", reinterpret_cast<void*>(&rtMallocCached)},
      {"rtsMalloc", reinterpret_cast<void*>(&rtsMalloc)},
      {"rtMemAllocManaged", reinterpret_cast<void*>(&rtMemAllocManaged)},
      {"rtMallocPhysical", reinterpret_cast<void*>(&rtMallocPhysical)},
      {"rtFree", reinterpret_cast<void*>(&rtFree)},
      {"rtsFree", reinterpret_cast<void*>(&rtsFree)},
      {"rtMemFreeManaged", reinterpret_cast<void*>(&rtMemFreeManaged)},
      {"rtFreePhysical", reinterpret_cast<void*>(&rtFreePhysical)},
      {"rtMemGetInfoEx", reinterpret_cast<void*>(&rtMemGetInfoEx)},
      {"rtMemGetInfo", reinterpret_cast<void*>(&rtMemGetInfo)},
      {"rtSetDevice", reinterpret_cast<void*>(&rtSetDevice)},
      {"rtKernelLaunch", reinterpret_cast<void*>(&rtKernelLaunch)},
      {"rtKernelLaunchWithFlag", reinterpret_cast<void*>(&rtKernelLaunchWithFlag)},
      {"rtKernelLaunchWithFlagV2", reinterpret_cast<void*>(&rtKernelLaunchWithFlagV2)},
      {"rtKernelLaunchWithHandle", reinterpret_cast<void*>(&rtKernelLaunchWithHandle)},
      {"rtKernelLaunchWithHandleV2", reinterpret_cast<void*>(&rtKernelLaunchWithHandleV2)},
      {"rtLaunchKernelByFuncHandleV3", reinterpret_cast<void*>(&rtLaunchKernelByFuncHandleV3)},
      {"rtCpuKernelLaunchWithFlag", reinterpret_cast<void*>(&rtCpuKernelLaunchWithFlag)},
      {"rtAicpuKernelLaunchWithFlag", reinterpret_cast<void*>(&rtAicpuKernelLaunchWithFlag)},
      {"rtAicpuKernelLaunchExWithArgs", reinterpret_cast<void*>(&rtAicpuKernelLaunchExWithArgs)},
      {"rtModelExecute", reinterpret_cast<void*>(&rtModelExecute)},
      {"rtStreamSynchronize", reinterpret_cast<void*>(&rtStreamSynchronize)},
      {"rtEventSynchronize", reinterpret_cast<void*>(&rtEventSynchronize)},
      {"rtDeviceSynchronize", reinterpret_cast<void*>(&rtDeviceSynchronize)},
  };
  for (const HookEntry& e : entries) {
    if (strcmp(e.name, name) == 0) {
      return e.hook;
    }
  }
  return nullptr;
}

}  // namespace
}  // namespace npushare::vnpu

extern "C" void* dlsym(void* handle, const char* name) noexcept {
  npushare::vnpu::DlsymFn real = npushare::vnpu::GlibcDlsym();
  if (real == nullptr) {
    return nullptr;
  }
  // name is declared nonnull by glibc, as for the real dlsym.
  if (handle != RTLD_NEXT && name[0] == 'r' && name[1] == 't') {
    void* ours = npushare::vnpu::OurHook(name);
    if (ours != nullptr) {
      return real(handle, name) != nullptr ? ours : nullptr;
    }
  }
  return real(handle, name);  // tail call: see the file comment
}
