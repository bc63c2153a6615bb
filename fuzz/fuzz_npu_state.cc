// Fuzzes the npu-sim state reader (sim/npu/state/state_validation.h) and what every tool reads
// from a state that passed it. The input patches a well-formed state (two 910B3 cards and one
// 310P3 card with a vNPU and a process slot) so the fuzzer reaches the deep fields: it is a
// sequence of records [offset: 3 bytes LE][length: 1 byte][bytes], each written at
// offset % sizeof(NpuSimState). Invariants: validation never crashes; a state it accepts can
// be read by the status/DCMI paths (models, templates, vNPU core ranges, memory and
// utilisation sums) without any out-of-bounds access (ASan) and with in-range results.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "fuzz_check.h"
#include "state/chip_models.h"
#include "state/node_config.h"
#include "state/shared_state.h"
#include "state/state_validation.h"
#include "state/vnpu.h"

namespace {

using namespace npushare::sim;

const NpuSimState& Template() {
  static const NpuSimState* state = [] {
    auto spec = ParseNodeYaml(
        "cards:\n  - {id: 0, model: 910B3}\n  - {id: 1, model: 910B3}\n"
        "  - {id: 4, model: 310P3}\n");
    FUZZ_CHECK(spec.ok());
    std::unique_ptr<NpuSimState> s = BuildInitialState(*spec, 1'000'000'000);
    std::memcpy(s->magic, NPUSIM_STATE_MAGIC, 8);
    s->version = NPUSIM_STATE_VERSION;
    s->header_size = sizeof(NpuSimState);
    s->file_size = sizeof(NpuSimState);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&s->lock.mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    const uint32_t p310 = s->chip_count - 1;
    const auto& model = AllChipModels()[s->chips[p310].model_index];
    FUZZ_CHECK(!model.templates.empty());
    auto id = CreateVnpu(*s, p310, model.templates[0].name, 0xFFFFFFFFu, 0);
    FUZZ_CHECK(id.ok());
    s->procs[0].pid = 1;
    s->procs[0].used_bytes[p310] = 1 << 20;
    s->procs[0].vnpu_id[p310] = *id;
    FUZZ_CHECK(ValidateStateContents(*s).ok());
    return s.release();
  }();
  return *state;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto state = std::make_unique<NpuSimState>();
  std::memcpy(state.get(), &Template(), sizeof(NpuSimState));
  auto* bytes = reinterpret_cast<unsigned char*>(state.get());
  size_t i = 0;
  while (i + 4 <= size) {
    const size_t offset = (size_t{data[i]} | size_t{data[i + 1]} << 8 | size_t{data[i + 2]} << 16) %
                          sizeof(NpuSimState);
    size_t len = data[i + 3];
    i += 4;
    len = std::min({len, size - i, sizeof(NpuSimState) - offset});
    std::memcpy(bytes + offset, data + i, len);
    i += len;
  }
  if (!ValidateStateHeader(state.get(), kStateHeaderBytes, sizeof(NpuSimState)).ok() ||
      !ValidateStateLock(*state).ok() || !ValidateStateContents(*state).ok()) {
    return 0;
  }
  // What npu-sim status, DCMI and the runtime read from an accepted state.
  const uint64_t now = 5'000'000'000;
  for (uint32_t c = 0; c < state->chip_count; ++c) {
    const NpuSimChip& chip = state->chips[c];
    const ChipModel& model = AllChipModels()[chip.model_index];
    FUZZ_CHECK(!model.name.empty());
    FUZZ_CHECK(ChipUtilizationPercent(*state, c, now) <= 100);
    (void)ChipUsedBytes(*state, c);
    const ChipFreeResources left = FreeResources(*state, c);
    FUZZ_CHECK(left.aicore <= chip.aicore);
    (void)ChipSlicesOf(*state, c);
    for (const NpuSimVnpu& v : chip.vnpus) {
      if (v.id == 0) {
        continue;
      }
      FUZZ_CHECK(!model.templates[v.template_index].name.empty());
      FUZZ_CHECK(v.core_offset + v.aicore <= NPUSIM_MAX_CORES);
      uint32_t found_chip = 0;
      FUZZ_CHECK(FindVnpu(*state, v.id, &found_chip) != nullptr);
      (void)ChipUsedBytes(*state, c, v.id);
    }
    for (uint32_t e = 0; e < chip.error_count; ++e) {
      (void)chip.error_codes[e];
    }
  }
  ApplyHealthRecovery(*state, now);
  return 0;
}
