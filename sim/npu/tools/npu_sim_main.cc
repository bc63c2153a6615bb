// npu-sim: creates and manipulates the simulated node.
//   npu-sim init NODE.yaml
//   npu-sim fault --chip N --health ok|warning|alarm|critical [--errorcode X]
//   npu-sim status
// Exit status: 0 success, 1 runtime error (state missing/corrupt), 2 usage error.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/file_reader.h"
#include "state/chip_models.h"
#include "state/node_config.h"
#include "state/shared_state.h"

namespace npushare::sim {
namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: npu-sim init NODE.yaml\n"
               "       npu-sim fault --chip N --health ok|warning|alarm|critical "
               "[--errorcode X]\n"
               "       npu-sim status\n"
               "The state lives in $NPU_SIM_STATE (default %s).\n",
               ResolveStateDir().c_str());
  return 2;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "npu-sim: %s\n", s.ToString().c_str());
  return 1;
}

bool ParseU32(const std::string& s, uint32_t* out) {
  if (s.empty() || s.size() > 12) {
    return false;
  }
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (errno != 0 || *end != '\0' || v > 0xFFFFFFFFull || s[0] == '-') {
    return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

int Init(const std::string& path) {
  // ReadFileLimited: the errno of a failed open/read becomes its own code (fs_error.h).
  Result<std::string> text = ReadFileLimited(path, size_t{1} << 20);
  if (!text.ok()) {
    return Fail(text.status().WithContext("node description"));
  }
  Result<NodeSpec> spec = ParseNodeYaml(*text);
  if (!spec.ok()) {
    return Fail(spec.status().WithContext(path));
  }
  auto initial = BuildInitialState(*spec, MonotonicNs());
  std::string dir = ResolveStateDir();
  Status s = SharedState::Create(dir, *initial);
  if (!s.ok()) {
    return Fail(s);
  }
  std::printf("npu-sim: %u chip(s) on %u card(s) initialised in %s\n", initial->chip_count,
              initial->card_count, dir.c_str());
  return 0;
}

int Fault(const std::vector<std::string>& args) {
  uint32_t chip = 0;
  bool have_chip = false;
  Result<uint32_t> health = InvalidArgumentError("--health is required");
  bool have_code = false;
  uint32_t code = 0;
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--chip") {
      have_chip = ParseU32(args[i + 1], &chip);
    } else if (args[i] == "--health") {
      health = ParseHealth(args[i + 1]);
    } else if (args[i] == "--errorcode") {
      have_code = ParseU32(args[i + 1], &code);
      if (!have_code) {
        return Usage();
      }
    } else {
      return Usage();
    }
  }
  if (args.size() % 2 != 0 || !have_chip || !health.ok()) {
    return Usage();
  }
  auto state = SharedState::OpenDefault();
  if (!state.ok()) {
    return Fail(state.status());
  }
  StateLock lock(**state);
  if (chip >= lock->chip_count) {
    return Fail(NotFoundError("no chip " + std::to_string(chip)));
  }
  NpuSimChip& c = lock->chips[chip];
  c.health = *health;
  c.health_recover_at_ns = 0;
  c.error_count = 0;
  if (have_code) {
    c.error_codes[0] = code;
    c.error_count = 1;
  }
  return 0;
}

int StatusCmd() {
  auto state = SharedState::OpenDefault();
  if (!state.ok()) {
    return Fail(state.status());
  }
  StateLock lock(**state, /*force_sweep=*/true);
  uint64_t now = MonotonicNs();
  for (uint32_t i = 0; i < lock->chip_count; ++i) {
    const NpuSimChip& c = lock->chips[i];
    std::printf("chip %u card %u dev %u model %s health %u used_bytes %llu util %u%% share %u\n", i,
                c.card_id, c.device_index, std::string(AllChipModels()[c.model_index].name).c_str(),
                c.health, static_cast<unsigned long long>(ChipUsedBytes(*lock, i)),
                ChipUtilizationPercent(*lock, i, now), c.device_share);
  }
  for (const auto& p : lock->procs) {
    if (p.pid != 0) {
      std::printf("proc %d\n", p.pid);
    }
  }
  return 0;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    return Usage();
  }
  if (args[0] == "init" && args.size() == 2) {
    return Init(args[1]);
  }
  if (args[0] == "fault") {
    return Fault(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (args[0] == "status" && args.size() == 1) {
    return StatusCmd();
  }
  return Usage();
}

}  // namespace
}  // namespace npushare::sim

int main(int argc, char** argv) {
  return npushare::sim::Main(argc, argv);
}
