// File: sim/npu/state/vnpu.h
//
// vNPU (hard slicing) rules of the simulated chips, applied to the shared state.
//
// Rules (ascend-abi.md §5.3; where the note is unsure the stricter rule is chosen):
//   * only models with a template table support vNPUs (910C: kUnimplemented -> -8255);
//   * the template must be in the chip's table (kInvalidArgument -> -8001);
//   * which slices may share a chip is the rule the scheduler uses too,
//     scheduling/vnpu_placement.h (vnpu::CanAddSlice over ChipSlicesOf): AI cores and AI
//     CPUs of all slices fit the chip and at most `max_vnpus` per chip (kResourceExhausted
//     -> -8255, as npu-smi reports NOT_SUPPORT for "insufficient"); 910B/910C: one template
//     per chip (kFailedPrecondition -> -8255). The rule's "split or whole" part is the
//     scheduler's business: whether the driver refuses a vNPU while a process holds the
//     physical chip is not documented, so npu-sim records no whole-chip users;
//   * ids are 100 + 16*phy_id + k, k < 16 (310P: k < 8); a requested id outside that range is
//     kInvalidArgument, an id in use kAlreadyExists (-8020);
//   * slices own contiguous AI-core ranges (used by the device timeline), disjoint unless
//     destroy order fragmented the free cores (then the least-overlapping run is shared);
//   * a slice whose memory is still held by a process cannot be destroyed (-8020).
//
// Thread safety: REQUIRES the state lock for every function.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "scheduling/vnpu_placement.h"
#include "state/state_layout.h"

namespace npushare::sim {

// CreateVnpu: creates a slice on chip `chip` (index == phy id). `requested_id` 0xFFFFFFFF means
// allocate. On success returns the vNPU id.
Result<uint32_t> CreateVnpu(NpuSimState& state, uint32_t chip, std::string_view template_name,
                            uint32_t requested_id, uint32_t vgroup);

// DestroyVnpu: kInvalidArgument when no such slice on the chip (npu-smi: "Error parameter of
// -v"); kAlreadyExists when memory is held.
Status DestroyVnpu(NpuSimState& state, uint32_t chip, uint32_t vnpu_id);

// FindVnpu: the slice with `vnpu_id` anywhere on the node, or nullptr; `*chip_out` gets its chip.
NpuSimVnpu* FindVnpu(NpuSimState& state, uint32_t vnpu_id, uint32_t* chip_out);

// VnpuResources: what a chip has left for new slices.
struct ChipFreeResources {
  uint32_t aicore;
  uint32_t aicpu;
  uint64_t memory_mb;
  uint32_t vnpu_count;
};
ChipFreeResources FreeResources(const NpuSimState& state, uint32_t chip);

// ChipSlicesOf: the chip's slices as the shared placement rule sees them (no whole-chip
// users: see the file comment).
vnpu::ChipSlices ChipSlicesOf(const NpuSimState& state, uint32_t chip);

// DcmiCodeFor: the DCMI error code for a Status from this file.
int DcmiCodeFor(const Status& status);

}  // namespace npushare::sim
