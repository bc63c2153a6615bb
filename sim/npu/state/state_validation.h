// File: sim/npu/state/state_validation.h
//
// Validation of an npu-sim state file's contents (layout: state_layout.h). The file is shared
// by every process on the node and any of them, or a stray write, can leave garbage in it; the
// libraries and tools index arrays with what they read (model_index, template_index,
// core_offset, error_count, chip_count, ...), so every such field is checked here before use
// instead of trusting the writer.
//
//   ValidateStateHeader   the first kStateHeaderBytes: magic, version, header and file size.
//   ValidateStateLock     the mutex slot holds a robust, process-shared mutex of this glibc
//                         (the kind word is compared with a freshly initialised one).
//   ValidateStateContents every count, index, offset and enumerated value; run by
//                         SharedState::Open with the state lock held, and by the fuzz target.
//
// What is checked (kFailedPrecondition with a message naming the field otherwise):
//   chip_count <= NPUSIM_MAX_CHIPS, 1 <= card_count <= chip_count (0 when no chips),
//   driver_version NUL-terminated;
//   for each chip i < chip_count: phy_id == i, model_index names a built-in model,
//   device_index < the model's chips per card, 1 <= aicore <= NPUSIM_MAX_CORES,
//   reserved_mb <= memory_mb, health <= 3, error_count <= NPUSIM_MAX_ERROR_CODES,
//   device_share <= 1, every used vNPU: id in [100 + 16*phy_id, +16), template_index in the
//   model's table, core_offset + aicore <= the chip's aicore;
//   for each process slot: pid >= 0, liveness is PID or SLOT_LOCK.
// Fields no reader uses as an index (temperatures, die ids, timestamps, utilisation) are
// not constrained.
//
// Thread safety: pure functions over the bytes given; the caller holds the state lock when
// the bytes are the live mapping.
#pragma once

#include <cstddef>

#include "common/status.h"
#include "state/state_layout.h"

namespace npushare::sim {

// kStateHeaderBytes: magic, version, header_size, file_size.
inline constexpr size_t kStateHeaderBytes = 24;

// ValidateStateHeader: `data` holds the first `size` bytes of a file of `file_size` bytes.
// kFailedPrecondition: too short, bad magic, other version (message says "re-run npu-sim
// init"), or header_size/file_size/actual size not sizeof(NpuSimState).
Status ValidateStateHeader(const void* data, size_t size, size_t file_size);

// ValidateStateLock: kFailedPrecondition when the mutex slot is not a robust, process-shared
// mutex (garbage there would make pthread_mutex_lock fail or behave as another kind).
Status ValidateStateLock(const NpuSimState& state);

// ValidateStateContents: see the file comment. REQUIRES: header already validated.
Status ValidateStateContents(const NpuSimState& state);

}  // namespace npushare::sim
