// File: softslice/interceptor/dlsym_hook.cc
//
// Applications that resolve runtime functions themselves (torch_npu: dlopen + dlsym on the
// runtime's handle) would bypass an LD_PRELOAD hook, because a handle-scoped lookup searches
// only that library and its dependencies. libvnpu therefore exports dlsym and dlvsym: a lookup
// of a hooked name through any handle except RTLD_NEXT returns our hook when the real lookup
// (with the same version, for dlvsym) finds the symbol, and NULL, like the real one, when it
// does not.
//
// RTLD_NEXT is relative to the caller, which glibc takes from the return address. Every path
// therefore ends in a tail call to glibc's function, so the caller glibc sees is the
// application, not libvnpu. This file is compiled with -O2 -foptimize-sibling-calls for that
// reason, and the RtldNext tests of softslice_memory_quota_test check the behaviour.
//
// Finding glibc's dlvsym: no relocation or global lookup can name it, because an unversioned
// definition satisfies a versioned reference and our export comes first in the global scope
// (a reference to dlvsym@GLIBC_2.34 from libvnpu binds back to us when we are preloaded), and
// dlsym is ours too. GlibcDlvsym therefore reads libc.so.6's own dynamic symbol table (through
// dl_iterate_phdr and its hash table) once. GlibcDlsym (process_state.cc) finds glibc's
// dlsym with dlvsym(RTLD_NEXT, ...), which lands here and ends in that function.
#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <atomic>

#include "softslice/interceptor/hooks.h"
#include "softslice/interceptor/process_state.h"

namespace npushare::vnpu {
namespace {

// Plain loops instead of strcmp/strrchr: these run inside dlsym/dlvsym, which a sanitizer
// runtime calls while it is still installing its own interceptors of the string functions.
// libvnpu (preloaded, bound with -z now) would reach those interceptors before they work.
bool SameString(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

const char* BaseName(const char* path) {
  const char* base = path;
  for (const char* p = path; *p != '\0'; ++p) {
    if (*p == '/') {
      base = p + 1;
    }
  }
  return base;
}

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
    if (SameString(e.name, name)) {
      return e.hook;
    }
  }
  return nullptr;
}

using DlvsymFn = void* (*)(void*, const char*, const char*);

uint32_t GnuHash(const char* name) {
  uint32_t h = 5381;
  for (const unsigned char* c = reinterpret_cast<const unsigned char*>(name); *c != 0; ++c) {
    h = h * 33 + *c;
  }
  return h;
}

// LibcLookup: the default-version definition of `name` in libc.so.6 (see the file comment),
// written to *out (nullptr when absent). Used only through dl_iterate_phdr.
struct LibcLookup {
  const char* name;
  void* out;
};

int FindInLibc(dl_phdr_info* info, size_t, void* data) {
  auto* lookup = static_cast<LibcLookup*>(data);
  if (info->dlpi_name == nullptr) {
    return 0;
  }
  if (!SameString(BaseName(info->dlpi_name), "libc.so.6")) {
    return 0;
  }
  const ElfW(Dyn)* dyn = nullptr;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) {
      dyn = reinterpret_cast<const ElfW(Dyn)*>(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    }
  }
  if (dyn == nullptr) {
    return 1;
  }
  // Most ports relocate these entries in place when loading; the rest (read-only dynamic
  // section) keep offsets, which are below the load address.
  const ElfW(Addr) base = info->dlpi_addr;
  auto at = [base](ElfW(Addr) p) { return p < base ? p + base : p; };
  const ElfW(Sym)* symtab = nullptr;
  const char* strtab = nullptr;
  const ElfW(Half)* versym = nullptr;
  const uint32_t* gnu_hash = nullptr;
  const uint32_t* sysv_hash = nullptr;
  for (; dyn->d_tag != DT_NULL; ++dyn) {
    switch (dyn->d_tag) {
      case DT_SYMTAB:
        symtab = reinterpret_cast<const ElfW(Sym)*>(at(dyn->d_un.d_ptr));
        break;
      case DT_STRTAB:
        strtab = reinterpret_cast<const char*>(at(dyn->d_un.d_ptr));
        break;
      case DT_VERSYM:
        versym = reinterpret_cast<const ElfW(Half)*>(at(dyn->d_un.d_ptr));
        break;
      case DT_GNU_HASH:
        gnu_hash = reinterpret_cast<const uint32_t*>(at(dyn->d_un.d_ptr));
        break;
      case DT_HASH:
        sysv_hash = reinterpret_cast<const uint32_t*>(at(dyn->d_un.d_ptr));
        break;
      default:
        break;
    }
  }
  // The default version (name@@VER) is the one without the hidden bit.
  auto matches = [&](uint32_t i) {
    const ElfW(Sym)& sym = symtab[i];
    if (sym.st_shndx == SHN_UNDEF || !SameString(strtab + sym.st_name, lookup->name) ||
        (versym != nullptr && (versym[i] & 0x8000) != 0)) {
      return false;
    }
    lookup->out = reinterpret_cast<void*>(base + sym.st_value);
    return true;
  };
  if (symtab == nullptr || strtab == nullptr) {
    return 1;
  }
  if (gnu_hash == nullptr) {
    // Only a SysV hash table: its second word is the number of symbols; scan them all.
    for (uint32_t i = 0; sysv_hash != nullptr && i < sysv_hash[1]; ++i) {
      if (matches(i)) {
        break;
      }
    }
    return 1;
  }
  // GNU hash layout: nbuckets, symoffset, bloom_size, bloom_shift, bloom words, buckets, chain.
  const uint32_t nbuckets = gnu_hash[0];
  const uint32_t symoffset = gnu_hash[1];
  const uint32_t bloom_size = gnu_hash[2];
  const auto* buckets = reinterpret_cast<const uint32_t*>(
      reinterpret_cast<const ElfW(Addr)*>(gnu_hash + 4) + bloom_size);
  const uint32_t* chain = buckets + nbuckets;
  const uint32_t hash = GnuHash(lookup->name);
  if (nbuckets == 0) {
    return 1;
  }
  for (uint32_t i = buckets[hash % nbuckets]; i >= symoffset; ++i) {
    const uint32_t h = chain[i - symoffset];
    if ((h | 1) == (hash | 1) && matches(i)) {
      return 1;
    }
    if ((h & 1) != 0) {
      break;
    }
  }
  return 1;
}

// GlibcDlvsym: glibc's dlvsym, or nullptr if libc.so.6 could not be read.
DlvsymFn GlibcDlvsym() {
  static constinit std::atomic<DlvsymFn> cached{nullptr};
  DlvsymFn f = cached.load(std::memory_order_acquire);
  if (f == nullptr) {
    LibcLookup lookup = {"dlvsym", nullptr};
    dl_iterate_phdr(FindInLibc, &lookup);
    f = reinterpret_cast<DlvsymFn>(lookup.out);
    cached.store(f, std::memory_order_release);
  }
  return f;
}

// IsCandidate: whether a lookup may be redirected to our hook (every hooked name starts with
// "rt"; the test keeps the fast path for other names free of the table scan).
bool IsCandidate(void* handle, const char* name) {
  return handle != RTLD_NEXT && name[0] == 'r' && name[1] == 't';
}

}  // namespace
}  // namespace npushare::vnpu

extern "C" void* dlsym(void* handle, const char* name) noexcept {
  npushare::vnpu::DlsymFn real = npushare::vnpu::GlibcDlsym();
  if (real == nullptr) {
    return nullptr;
  }
  // name is declared nonnull by glibc, as for the real dlsym.
  if (npushare::vnpu::IsCandidate(handle, name)) {
    void* ours = npushare::vnpu::OurHook(name);
    if (ours != nullptr) {
      return real(handle, name) != nullptr ? ours : nullptr;
    }
  }
  return real(handle, name);  // tail call: see the file comment
}

extern "C" void* dlvsym(void* handle, const char* name, const char* version) noexcept {
  npushare::vnpu::DlvsymFn real = npushare::vnpu::GlibcDlvsym();
  if (real == nullptr) {
    return nullptr;
  }
  // name and version are declared nonnull by glibc, as for the real dlvsym.
  if (npushare::vnpu::IsCandidate(handle, name)) {
    void* ours = npushare::vnpu::OurHook(name);
    if (ours != nullptr) {
      return real(handle, name, version) != nullptr ? ours : nullptr;
    }
  }
  return real(handle, name, version);  // tail call: see the file comment
}
