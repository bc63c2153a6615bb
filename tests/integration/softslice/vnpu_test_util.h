// Test helpers for libvnpu.so integration tests: spawn vnpu_probe with an explicit environment
// (LD_PRELOAD, quotas, state directory) and read the container ledger from outside.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "softslice/shared_state.h"
#include "unit/sim/run_process.h"
#include "unit/sim/sim_test_util.h"

namespace npushare::vnpu::testing {

using sim::testing::BinPath;
using sim::testing::Child;
using sim::testing::ReadLine;
using sim::testing::Wait;

inline std::string LibPath(const std::string& name) {
  return std::string(NPUSHARE_BIN_DIR) + "/../lib/" + name;
}

// UseFreshSim: points this test process (and the children it spawns) at a new npu-sim state of
// `cards` 910B4 chips, all of them visible. For SetUpTestSuite.
inline void UseFreshSim(int cards) {
  unsetenv("ASCEND_VISIBLE_DEVICES");
  sim::testing::UseNewState("model: 910B4\ncards: " + std::to_string(cards) + "\n");
}

// SpawnEnv: like sim::testing::Spawn but with `env` (KEY=VALUE) added to a minimal environment
// (NPU_SIM_STATE, TMPDIR, the sanitizer options and LD_LIBRARY_PATH are passed on). `pre_exec`, if
// set, runs in the child before exec; when it returns a reason, the child prints "SKIP <reason>"
// and exits with kSkipExit instead of exec'ing.
inline constexpr int kSkipExit = 77;
inline Child SpawnEnv(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                      const std::function<std::string()>& pre_exec = {}) {
  sim::testing::SpawnOptions options;
  options.env = env;
  for (const char* keep : {"NPU_SIM_STATE", "TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
    if (const char* v = getenv(keep)) {
      options.env->push_back(std::string(keep) + "=" + v);
    }
  }
  options.env->push_back("LD_LIBRARY_PATH=" + LibPath(""));
  if (pre_exec) {
    options.pre_exec = [&pre_exec] {
      std::string why = pre_exec();
      if (!why.empty()) {
        dprintf(1, "SKIP %s\n", why.c_str());
        _exit(kSkipExit);
      }
    };
  }
  return sim::testing::Spawn(argv, options);
}

// Fields: parses "a=1 b=2" into a map.
inline std::map<std::string, std::string> Fields(const std::string& line) {
  std::map<std::string, std::string> m;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t end = line.find(' ', pos);
    if (end == std::string::npos) {
      end = line.size();
    }
    std::string kv = line.substr(pos, end - pos);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) {
      m[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    pos = end + 1;
  }
  return m;
}

inline uint64_t U64(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? ~0ull : std::strtoull(it->second.c_str(), nullptr, 10);
}

// LedgerView: read-only mapping of a container ledger, as the arbiter or metrics would see it.
class LedgerView {
 public:
  explicit LedgerView(const std::string& dir) {
    int fd = open((dir + "/" VNPU_LEDGER_FILE_NAME).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return;
    }
    void* p = mmap(nullptr, sizeof(VnpuLedger), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p != MAP_FAILED) {
      ledger_ = static_cast<const VnpuLedger*>(p);
    }
  }
  ~LedgerView() {
    if (ledger_ != nullptr) {
      munmap(const_cast<VnpuLedger*>(ledger_), sizeof(VnpuLedger));
    }
  }
  bool ok() const { return ledger_ != nullptr; }
  uint64_t Used(uint32_t dev) const {
    uint64_t total = 0;
    for (uint32_t i = 0; i < VNPU_MAX_PROCS; ++i) {
      total += __atomic_load_n(&ledger_->procs[i].charged_bytes[dev], __ATOMIC_ACQUIRE);
    }
    return total;
  }
  const VnpuLedger* get() const { return ledger_; }

 private:
  const VnpuLedger* ledger_ = nullptr;
};

}  // namespace npushare::vnpu::testing
