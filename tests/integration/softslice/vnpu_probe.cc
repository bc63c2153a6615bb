// vnpu_probe: a small NPU application for the libvnpu.so integration tests. It uses only the
// public RTS/ACL C APIs of npu-sim (linked normally, or looked up with dlopen/dlsym) and prints
// one "key=value ..." line per result. Commands:
//   fill --chunk-mb N [--api rt|acl|dlsym|dlvsym|cached|rts|managed|physical] [--wait-go]
//        [--lib PATH --version V]
//       allocates N MiB chunks on device 0 until one fails ("dlvsym" resolves rtMalloc/rtFree
//       with dlvsym(dlopen(PATH), name, V)); prints
//       "alloc_mb=<total> code=<rc>", then holds until stdin closes, frees everything and
//       prints "freed=<n>". --wait-go waits for a line on stdin before allocating.
//   churn --chunk-mb N   fill, print "READY", then free and re-allocate one chunk forever.
//   grab --mb N --deadline-ms D   retries one N MiB allocation until it succeeds or D ms pass;
//       prints "grab=ok" or "grab=timeout code=<rc>".
//   meminfo [--mb N]     allocates N MiB (default 0), then prints rtMemGetInfoEx,
//       rtMemGetInfo and aclrtGetMemInfo views: "rt_total= rt_free= info_total= ...".
//   forkexec --parent-mb P --chunk-mb N   allocates P MiB, then a fork child fills (prints
//       "child_alloc_mb="), then a fork+exec child runs "fill" (prints its own lines).
//   rtldnext             prints "rtld_next_vnpu=<0|1>": whether dlsym(RTLD_NEXT) from the
//       executable finds libvnpu's vnpu_is_limited (it must, when preloaded).
//   rtldnextv --version V   prints "rtld_next_v=<0|1>": whether dlvsym(RTLD_NEXT, "rtMalloc",
//       V) from the executable finds a definition of that version.
//   dlvsym --lib PATH --version V   looks names up with dlvsym and prints
//       "malloc=<null|global|other> absent_hook=<0|1> missing=<0|1> wrong_version=<0|1>
//       runtime=<0|1>": rtMalloc@V in PATH (global = the same function as the process-wide
//       rtMalloc, i.e. libvnpu's hook when preloaded), then whether each lookup found anything:
//       rtMallocCached@V (a hooked name PATH lacks), an unknown name, rtMalloc at another
//       version, and rtMalloc@V in the (unversioned) libruntime.so.
#include <dlfcn.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "acl/acl.h"
#include "runtime/rt.h"

namespace {

std::string Flag(int argc, char** argv, const char* name, const char* def) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (strcmp(argv[i], name) == 0) {
      return argv[i + 1];
    }
  }
  return def;
}

bool HasFlag(int argc, char** argv, const char* name) {
  for (int i = 2; i < argc; ++i) {
    if (strcmp(argv[i], name) == 0) {
      return true;
    }
  }
  return false;
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

using MallocFn = rtError_t (*)(void**, uint64_t, rtMemType_t, uint16_t);
using FreeFn = rtError_t (*)(void*);

struct Allocator {
  std::string api;
  std::string lib = {};      // dlvsym: the library to dlopen
  std::string version = {};  // dlvsym: the symbol version to ask for
  MallocFn dl_malloc = nullptr;
  FreeFn dl_free = nullptr;

  bool Init() {
    if (api == "acl") {
      return aclInit(nullptr) == 0 && aclrtSetDevice(0) == 0;
    }
    if (api == "dlsym") {
      void* h = dlopen("libruntime.so", RTLD_NOW | RTLD_LOCAL);
      if (h == nullptr) {
        return false;
      }
      dl_malloc = reinterpret_cast<MallocFn>(dlsym(h, "rtMalloc"));
      dl_free = reinterpret_cast<FreeFn>(dlsym(h, "rtFree"));
      if (dl_malloc == nullptr || dl_free == nullptr) {
        return false;
      }
    }
    if (api == "dlvsym") {
      void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (h == nullptr) {
        return false;
      }
      dl_malloc = reinterpret_cast<MallocFn>(dlvsym(h, "rtMalloc", version.c_str()));
      dl_free = reinterpret_cast<FreeFn>(dlvsym(h, "rtFree", version.c_str()));
      if (dl_malloc == nullptr || dl_free == nullptr) {
        return false;
      }
    }
    return rtSetDevice(0) == 0;
  }
  int Alloc(void** p, uint64_t bytes) {
    if (api == "acl") {
      return aclrtMallocAlign32(p, bytes, ACL_MEM_MALLOC_HUGE_FIRST);
    }
    if (api == "dlsym" || api == "dlvsym") {
      return dl_malloc(p, bytes, RT_MEMORY_HBM, 0);
    }
    if (api == "cached") {
      return rtMallocCached(p, bytes, RT_MEMORY_HBM, 0);
    }
    if (api == "rts") {
      return rtsMalloc(p, bytes, 0, 0, nullptr);
    }
    if (api == "managed") {
      return rtMemAllocManaged(p, bytes, 0, 0);
    }
    if (api == "physical") {
      rtDrvMemProp_t prop = {};
      prop.devid = 0;
      return rtMallocPhysical(p, bytes, &prop, 0);
    }
    return rtMalloc(p, bytes, RT_MEMORY_HBM, 0);
  }
  int Free(void* p) {
    if (api == "acl") {
      return aclrtFree(p);
    }
    if (api == "dlsym" || api == "dlvsym") {
      return dl_free(p);
    }
    if (api == "rts") {
      return rtsFree(p);
    }
    if (api == "managed") {
      return rtMemFreeManaged(p);
    }
    if (api == "physical") {
      return rtFreePhysical(p);
    }
    return rtFree(p);
  }
};

void WaitForEof() {
  char buf[64];
  while (read(0, buf, sizeof(buf)) > 0) {
  }
}

// Fill: allocates chunks until failure; returns the total in MiB and the failing code.
uint64_t Fill(Allocator& a, uint64_t chunk_mb, std::vector<void*>* ptrs, int* code) {
  uint64_t total = 0;
  while (true) {
    void* p = nullptr;
    int rc = a.Alloc(&p, chunk_mb << 20);
    if (rc != 0) {
      *code = rc;
      return total;
    }
    ptrs->push_back(p);
    total += chunk_mb;
  }
}

int CmdFill(int argc, char** argv) {
  Allocator a{Flag(argc, argv, "--api", "rt"), Flag(argc, argv, "--lib", ""),
              Flag(argc, argv, "--version", "")};
  if (!a.Init()) {
    printf("init=failed\n");
    return 2;
  }
  if (HasFlag(argc, argv, "--wait-go")) {
    char c;
    while (read(0, &c, 1) == 1 && c != '\n') {
    }
  }
  std::vector<void*> ptrs;
  int code = 0;
  uint64_t total = Fill(a, std::stoull(Flag(argc, argv, "--chunk-mb", "64")), &ptrs, &code);
  printf("alloc_mb=%llu code=%d\n", static_cast<unsigned long long>(total), code);
  fflush(stdout);
  WaitForEof();
  int freed = 0;
  for (void* p : ptrs) {
    freed += a.Free(p) == 0 ? 1 : 0;
  }
  printf("freed=%d\n", freed);
  return 0;
}

int CmdChurn(int argc, char** argv) {
  Allocator a{"rt"};
  if (!a.Init()) {
    return 2;
  }
  uint64_t chunk = std::stoull(Flag(argc, argv, "--chunk-mb", "64")) << 20;
  std::vector<void*> ptrs;
  int code = 0;
  uint64_t total = Fill(a, chunk >> 20, &ptrs, &code);
  printf("alloc_mb=%llu code=%d\nREADY\n", static_cast<unsigned long long>(total), code);
  fflush(stdout);
  if (ptrs.empty()) {
    return 3;
  }
  // Killed somewhere in here: inside or outside the ledger's critical section.
  while (true) {
    a.Free(ptrs.back());
    if (a.Alloc(&ptrs.back(), chunk) != 0) {
      return 4;
    }
  }
}

int CmdGrab(int argc, char** argv) {
  Allocator a{"rt"};
  if (!a.Init()) {
    return 2;
  }
  uint64_t bytes = std::stoull(Flag(argc, argv, "--mb", "64")) << 20;
  uint64_t deadline = NowNs() + std::stoull(Flag(argc, argv, "--deadline-ms", "1000")) * 1000000;
  int rc = 0;
  do {
    void* p = nullptr;
    rc = a.Alloc(&p, bytes);
    if (rc == 0) {
      printf("grab=ok\n");
      return 0;
    }
    sched_yield();
  } while (NowNs() < deadline);
  printf("grab=timeout code=%d\n", rc);
  return 1;
}

int CmdMeminfo(int argc, char** argv) {
  if (aclInit(nullptr) != 0 || aclrtSetDevice(0) != 0) {
    return 2;
  }
  uint64_t mb = std::stoull(Flag(argc, argv, "--mb", "0"));
  void* p = nullptr;
  if (mb > 0 && rtMalloc(&p, mb << 20, RT_MEMORY_HBM, 0) != 0) {
    printf("alloc=failed\n");
    return 3;
  }
  size_t f1 = 0, t1 = 0, f2 = 0, t2 = 0, f3 = 0, t3 = 0;
  int rc1 = rtMemGetInfoEx(RT_MEMORYINFO_HBM, &f1, &t1);
  int rc2 = rtMemGetInfo(&f2, &t2);
  int rc3 = aclrtGetMemInfo(ACL_HBM_MEM, &f3, &t3);
  printf(
      "rc=%d,%d,%d rt_total=%zu rt_free=%zu info_total=%zu info_free=%zu acl_total=%zu "
      "acl_free=%zu\n",
      rc1, rc2, rc3, t1, f1, t2, f2, t3, f3);
  return 0;
}

int CmdForkExec(int argc, char** argv) {
  Allocator a{"rt"};
  if (!a.Init()) {
    return 2;
  }
  void* p = nullptr;
  uint64_t parent_mb = std::stoull(Flag(argc, argv, "--parent-mb", "1024"));
  std::string chunk = Flag(argc, argv, "--chunk-mb", "64");
  if (a.Alloc(&p, parent_mb << 20) != 0) {
    printf("parent_alloc=failed\n");
    return 3;
  }
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    Allocator c{"rt"};
    if (!c.Init()) {
      _exit(2);
    }
    std::vector<void*> ptrs;
    int code = 0;
    uint64_t total = Fill(c, std::stoull(chunk), &ptrs, &code);
    printf("child_alloc_mb=%llu code=%d\n", static_cast<unsigned long long>(total), code);
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  pid_t exec_child = fork();
  if (exec_child == 0) {
    FILE* devnull = freopen("/dev/null", "r", stdin);
    (void)devnull;
    execl("/proc/self/exe", "vnpu_probe", "fill", "--chunk-mb", chunk.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  waitpid(exec_child, &status, 0);
  printf("parent_done=1\n");
  return 0;
}

int CmdRtldNext() {
  printf("rtld_next_vnpu=%d\n", dlsym(RTLD_NEXT, "vnpu_is_limited") != nullptr ? 1 : 0);
  return 0;
}

int CmdRtldNextV(int argc, char** argv) {
  std::string version = Flag(argc, argv, "--version", "");
  printf("rtld_next_v=%d\n", dlvsym(RTLD_NEXT, "rtMalloc", version.c_str()) != nullptr ? 1 : 0);
  return 0;
}

int CmdDlvsym(int argc, char** argv) {
  std::string lib = Flag(argc, argv, "--lib", "");
  std::string v = Flag(argc, argv, "--version", "");
  void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  void* rt = dlopen("libruntime.so", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr || rt == nullptr) {
    printf("dlopen=failed\n");
    return 2;
  }
  void* m = dlvsym(h, "rtMalloc", v.c_str());
  const char* kind = m == nullptr                           ? "null"
                     : m == dlsym(RTLD_DEFAULT, "rtMalloc") ? "global"
                                                            : "other";
  auto found = [](void* p) { return p != nullptr ? 1 : 0; };
  printf("malloc=%s absent_hook=%d missing=%d wrong_version=%d runtime=%d\n", kind,
         found(dlvsym(h, "rtMallocCached", v.c_str())),
         found(dlvsym(h, "rtNoSuchFunction", v.c_str())),
         found(dlvsym(h, "rtMalloc", "VNPU_TEST_NO_SUCH_VERSION")),
         found(dlvsym(rt, "rtMalloc", v.c_str())));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) {
    fprintf(stderr,
            "usage: vnpu_probe fill|churn|grab|meminfo|forkexec|rtldnext|rtldnextv|dlvsym ...\n");
    return 64;
  }
  std::string cmd = argv[1];
  if (cmd == "fill")
    return CmdFill(argc, argv);
  if (cmd == "churn")
    return CmdChurn(argc, argv);
  if (cmd == "grab")
    return CmdGrab(argc, argv);
  if (cmd == "meminfo")
    return CmdMeminfo(argc, argv);
  if (cmd == "forkexec")
    return CmdForkExec(argc, argv);
  if (cmd == "rtldnext")
    return CmdRtldNext();
  if (cmd == "rtldnextv")
    return CmdRtldNextV(argc, argv);
  if (cmd == "dlvsym")
    return CmdDlvsym(argc, argv);
  return 64;
}
