#include "state/state_validation.h"

#include <pthread.h>

#include <cstring>
#include <string>

#include "state/chip_models.h"

namespace npushare::sim {
namespace {

Status Corrupt(const std::string& what) {
  return FailedPreconditionError("corrupt npu-sim state: " + what + "; re-run `npu-sim init`");
}

std::string ChipField(uint32_t chip, const char* field) {
  return "chips[" + std::to_string(chip) + "]." + field;
}

Status ValidateVnpu(const NpuSimChip& chip, uint32_t index, const NpuSimVnpu& v, size_t k) {
  if (v.id == 0) {
    return OkStatus();  // free entry
  }
  const std::string where = ChipField(index, "vnpus[") + std::to_string(k) + "]";
  const ChipModel& model = AllChipModels()[chip.model_index];
  const uint64_t base = 100 + 16ull * chip.phy_id;
  if (v.id < base || v.id >= base + NPUSIM_MAX_VNPUS_PER_CHIP) {
    return Corrupt(where + ".id " + std::to_string(v.id) + " outside this chip's range");
  }
  if (v.template_index >= model.templates.size()) {
    return Corrupt(where + ".template_index " + std::to_string(v.template_index) +
                   " not in the model's table");
  }
  if (v.core_offset > chip.aicore || v.aicore > chip.aicore - v.core_offset) {
    return Corrupt(where + " core range [" + std::to_string(v.core_offset) + ", +" +
                   std::to_string(v.aicore) + ") outside the chip's " +
                   std::to_string(chip.aicore) + " cores");
  }
  return OkStatus();
}

Status ValidateChip(const NpuSimChip& chip, uint32_t index) {
  if (chip.phy_id != index) {
    return Corrupt(ChipField(index, "phy_id") + " " + std::to_string(chip.phy_id));
  }
  if (chip.model_index >= AllChipModels().size()) {
    return Corrupt(ChipField(index, "model_index") + " " + std::to_string(chip.model_index));
  }
  const ChipModel& model = AllChipModels()[chip.model_index];
  if (chip.device_index >= model.chips_per_card) {
    return Corrupt(ChipField(index, "device_index") + " " + std::to_string(chip.device_index));
  }
  if (chip.aicore == 0 || chip.aicore > NPUSIM_MAX_CORES) {
    return Corrupt(ChipField(index, "aicore") + " " + std::to_string(chip.aicore));
  }
  if (chip.reserved_mb > chip.memory_mb) {
    return Corrupt(ChipField(index, "reserved_mb") + " exceeds memory_mb");
  }
  if (chip.health > 3) {
    return Corrupt(ChipField(index, "health") + " " + std::to_string(chip.health));
  }
  if (chip.error_count > NPUSIM_MAX_ERROR_CODES) {
    return Corrupt(ChipField(index, "error_count") + " " + std::to_string(chip.error_count));
  }
  if (chip.device_share > 1) {
    return Corrupt(ChipField(index, "device_share") + " " + std::to_string(chip.device_share));
  }
  for (size_t k = 0; k < NPUSIM_MAX_VNPUS_PER_CHIP; ++k) {
    NPUSHARE_RETURN_IF_ERROR(ValidateVnpu(chip, index, chip.vnpus[k], k));
  }
  return OkStatus();
}

}  // namespace

Status ValidateStateHeader(const void* data, size_t size, size_t file_size) {
  if (size < kStateHeaderBytes || file_size < kStateHeaderBytes) {
    return Corrupt("file too short");
  }
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (std::memcmp(bytes, NPUSIM_STATE_MAGIC, 8) != 0) {
    return Corrupt("bad magic");
  }
  uint32_t version = 0;
  uint32_t header_size = 0;
  uint64_t recorded_size = 0;
  std::memcpy(&version, bytes + 8, 4);
  std::memcpy(&header_size, bytes + 12, 4);
  std::memcpy(&recorded_size, bytes + 16, 8);
  if (version != NPUSIM_STATE_VERSION) {
    return FailedPreconditionError("npu-sim state has version " + std::to_string(version) +
                                   ", this build reads version " +
                                   std::to_string(NPUSIM_STATE_VERSION) + "; re-run npu-sim init");
  }
  if (header_size != sizeof(NpuSimState) || recorded_size != sizeof(NpuSimState) ||
      file_size != sizeof(NpuSimState)) {
    return Corrupt("size mismatch (header " + std::to_string(header_size) + ", recorded " +
                   std::to_string(recorded_size) + ", file " + std::to_string(file_size) +
                   ", expected " + std::to_string(sizeof(NpuSimState)) + ")");
  }
  return OkStatus();
}

Status ValidateStateLock(const NpuSimState& state) {
#ifdef __GLIBC__
  // The kind word says which algorithm pthread_mutex_lock runs; compare it with a mutex
  // initialised exactly as SharedState::Create does. Other words (lock, owner) may hold
  // anything a live or dead holder left; the timed probe in Open deals with those.
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_t fresh;
  pthread_mutex_init(&fresh, &attr);
  pthread_mutexattr_destroy(&attr);
  const int want = fresh.__data.__kind;
  pthread_mutex_destroy(&fresh);
  if (state.lock.mutex.__data.__kind != want) {
    return Corrupt("lock area does not hold a robust process-shared mutex");
  }
#else
  (void)state;
#endif
  return OkStatus();
}

Status ValidateStateContents(const NpuSimState& state) {
  if (state.chip_count > NPUSIM_MAX_CHIPS) {
    return Corrupt("chip_count " + std::to_string(state.chip_count));
  }
  if (state.card_count > state.chip_count || (state.chip_count > 0 && state.card_count == 0)) {
    return Corrupt("card_count " + std::to_string(state.card_count));
  }
  if (std::memchr(state.driver_version, '\0', sizeof(state.driver_version)) == nullptr) {
    return Corrupt("driver_version not terminated");
  }
  for (uint32_t i = 0; i < state.chip_count; ++i) {
    NPUSHARE_RETURN_IF_ERROR(ValidateChip(state.chips[i], i));
  }
  for (size_t p = 0; p < NPUSIM_MAX_PROCS; ++p) {
    // A negative pid would make the liveness probe signal a process group.
    if (state.procs[p].pid < 0) {
      return Corrupt("procs[" + std::to_string(p) + "].pid " + std::to_string(state.procs[p].pid));
    }
    if (state.procs[p].liveness > NPUSIM_PROC_LIVENESS_SLOT_LOCK) {
      return Corrupt("procs[" + std::to_string(p) + "].liveness " +
                     std::to_string(state.procs[p].liveness));
    }
  }
  return OkStatus();
}

}  // namespace npushare::sim
