// Test helpers for npu-sim: a private state directory initialised from inline YAML.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "state/node_config.h"
#include "state/shared_state.h"

namespace npushare::sim::testing {

// MakeTempDir: a fresh directory under $TMPDIR (mode 0700 from mkdtemp), removed when the
// test process exits normally (forked children leave with _exit and do not remove it).
inline std::string MakeTempDir() {
  static std::vector<std::string>* dirs = [] {
    auto* v = new std::vector<std::string>();
    atexit([] {
      std::error_code ignored;
      for (const auto& d : *dirs) {
        std::filesystem::remove_all(d, ignored);
      }
    });
    return v;
  }();
  const char* tmp = getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/npusim-test-XXXXXX";
  char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  dirs->push_back(tmpl);
  return tmpl;
}

// InitState: parses `yaml`, writes the state into `dir` and fails the test on error.
inline void InitState(const std::string& dir, const std::string& yaml) {
  Result<NodeSpec> spec = ParseNodeYaml(yaml);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto initial = BuildInitialState(*spec, MonotonicNs());
  Status s = SharedState::Create(dir, *initial);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// UseNewState: InitState into a new temp dir and point NPU_SIM_STATE at it.
inline std::string UseNewState(const std::string& yaml) {
  std::string dir = MakeTempDir();
  InitState(dir, yaml);
  setenv("NPU_SIM_STATE", dir.c_str(), 1);
  return dir;
}

}  // namespace npushare::sim::testing
