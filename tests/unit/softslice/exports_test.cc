// libvnpu.so hygiene checked on the built artefact: it exports exactly the intercepted RTS
// symbols, dlsym, dlvsym and the vnpu_ API, and needs nothing beyond libc at run time.
#include <gtest/gtest.h>
#include <stdio.h>

#include <set>
#include <sstream>
#include <string>

namespace {

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) {
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
    out.append(buf, n);
  }
  pclose(f);
  return out;
}

const std::string kLib = std::string(NPUSHARE_BIN_DIR) + "/../lib/libvnpu.so";

TEST(VnpuExportsTest, ExportsExactlyTheHooksDlsymDlvsymAndTheVnpuApi) {
  std::istringstream in(RunCommand("nm -D --defined-only " + kLib));
  std::set<std::string> names;
  std::string addr, type, name;
  while (in >> addr >> type >> name) {
    names.insert(name);
  }
  const std::set<std::string> expected = {
      // memory
      "rtMalloc", "rtMallocCached", "rtsMalloc", "rtMemAllocManaged", "rtMallocPhysical", "rtFree",
      "rtsFree", "rtMemFreeManaged", "rtFreePhysical", "rtMemGetInfoEx", "rtMemGetInfo",
      // launches and what the gate needs around them
      "rtSetDevice", "rtKernelLaunch", "rtKernelLaunchWithFlag", "rtKernelLaunchWithFlagV2",
      "rtKernelLaunchWithHandle", "rtKernelLaunchWithHandleV2", "rtLaunchKernelByFuncHandleV3",
      "rtCpuKernelLaunchWithFlag", "rtAicpuKernelLaunchWithFlag", "rtAicpuKernelLaunchExWithArgs",
      "rtModelExecute", "rtStreamSynchronize", "rtEventSynchronize", "rtDeviceSynchronize",
      // lookup and introspection
      "dlsym", "dlvsym", "vnpu_is_limited", "vnpu_memory_status", "vnpu_reclaim_dead",
      "vnpu_gate_status"};
  EXPECT_EQ(names, expected);
}

// Every launch or memory entry point that the runtime exports is hooked: a new one in the
// runtime fails here until it is wrapped (or consciously listed as not needing a hook).
TEST(VnpuExportsTest, EveryRuntimeLaunchAndAllocationEntryIsHooked) {
  std::istringstream ours(RunCommand("nm -D --defined-only " + kLib));
  std::set<std::string> hooked;
  std::string addr, type, name;
  while (ours >> addr >> type >> name) {
    hooked.insert(name);
  }
  const std::set<std::string> not_needed = {"rtMallocHost",
                                            "rtFreeHost"};  // host memory is not device quota
  std::istringstream rt(RunCommand("nm -D --defined-only " + std::string(NPUSHARE_BIN_DIR) +
                                   "/../lib/libruntime.so"));
  int checked = 0;
  while (rt >> addr >> type >> name) {
    bool relevant = name.find("Launch") != std::string::npos ||
                    name.find("ModelExecute") != std::string::npos ||
                    name.find("Malloc") != std::string::npos ||
                    name.find("Free") != std::string::npos ||
                    name.find("MemGetInfo") != std::string::npos ||
                    name.find("AllocManaged") != std::string::npos;
    if (relevant && not_needed.count(name) == 0) {
      ++checked;
      EXPECT_EQ(hooked.count(name), 1u) << name << " is exported by the runtime but not hooked";
    }
  }
  EXPECT_GE(checked, 20);
}

TEST(VnpuExportsTest, NeedsOnlyLibc) {
  std::string dyn = RunCommand("readelf -d " + kLib);
  ASSERT_NE(dyn.find("(NEEDED)"), std::string::npos) << dyn;
  std::istringstream in(dyn);
  std::string line;
  int needed = 0;
  while (std::getline(in, line)) {
    if (line.find("(NEEDED)") != std::string::npos) {
      ++needed;
      EXPECT_NE(line.find("[libc.so.6]"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(needed, 1);
  EXPECT_EQ(RunCommand("readelf -V " + kLib).find("GLIBCXX"), std::string::npos);
}

}  // namespace
