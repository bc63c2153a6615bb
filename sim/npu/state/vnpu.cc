#include "state/vnpu.h"

#include "state/chip_models.h"
#include "state/shared_state.h"

namespace npushare::sim {
namespace {

constexpr int kDcmiInvalidParameter = -8001;
constexpr int kDcmiInnerErr = -8005;
constexpr int kDcmiDeviceNotExist = -8008;
constexpr int kDcmiResourceOccupied = -8020;
constexpr int kDcmiNotSupport = -8255;

}  // namespace

ChipFreeResources FreeResources(const NpuSimState& state, uint32_t chip_index) {
  const NpuSimChip& chip = state.chips[chip_index];
  ChipFreeResources free{chip.aicore, chip.aicpu, chip.memory_mb - chip.reserved_mb, 0};
  for (const auto& v : chip.vnpus) {
    if (v.id == 0) {
      continue;
    }
    free.aicore -= v.aicore < free.aicore ? v.aicore : free.aicore;
    free.aicpu -= v.aicpu < free.aicpu ? v.aicpu : free.aicpu;
    free.memory_mb -= v.memory_mb < free.memory_mb ? v.memory_mb : free.memory_mb;
    ++free.vnpu_count;
  }
  return free;
}

Result<uint32_t> CreateVnpu(NpuSimState& state, uint32_t chip_index, std::string_view template_name,
                            uint32_t requested_id, uint32_t vgroup) {
  if (chip_index >= state.chip_count) {
    return NotFoundError("no such chip");
  }
  NpuSimChip& chip = state.chips[chip_index];
  const ChipModel& model = AllChipModels()[chip.model_index];
  if (model.templates.empty()) {
    return UnimplementedError(std::string(model.name) + " has no vNPU templates");
  }
  int t = FindTemplate(model, template_name);
  if (t < 0) {
    return InvalidArgumentError("unknown template " + std::string(template_name));
  }
  const VnpuTemplate& tpl = model.templates[t];
  const uint32_t span = model.max_vnpus <= 8 && model.layout == SmiLayout::kDdr310P ? 8 : 16;
  const uint32_t base = 100 + 16 * chip.phy_id;
  if (requested_id != 0xFFFFFFFFu && (requested_id < base || requested_id >= base + span)) {
    return InvalidArgumentError("vNPU id out of the chip's range");
  }
  ChipFreeResources free = FreeResources(state, chip_index);
  if (free.vnpu_count >= model.max_vnpus) {
    return ResourceExhaustedError("chip already holds the maximum number of vNPUs");
  }
  if (tpl.aicore > free.aicore) {
    return ResourceExhaustedError("insufficient AI cores");
  }
  if (tpl.aicpu > free.aicpu) {
    return ResourceExhaustedError("insufficient AICPU");
  }
  uint64_t used_cores = 0;  // bitmask of cores owned by slices
  for (const auto& v : chip.vnpus) {
    if (v.id == 0) {
      continue;
    }
    if (model.single_template_per_chip && v.template_index != static_cast<uint32_t>(t)) {
      return FailedPreconditionError("this chip already holds slices of another template");
    }
    if (requested_id == v.id) {
      return AlreadyExistsError("vNPU id in use");
    }
    for (uint32_t c = v.core_offset; c < v.core_offset + v.aicore && c < 64; ++c) {
      used_cores |= 1ull << c;
    }
  }
  // First contiguous run of free cores (aicore fit is already guaranteed in count, the run
  // may still be fragmented by destroy order).
  uint32_t offset = chip.aicore;
  for (uint32_t start = 0; start + tpl.aicore <= chip.aicore; ++start) {
    bool fits = true;
    for (uint32_t c = start; c < start + tpl.aicore; ++c) {
      if ((used_cores >> c) & 1u) {
        fits = false;
        break;
      }
    }
    if (fits) {
      offset = start;
      break;
    }
  }
  if (offset == chip.aicore) {
    return ResourceExhaustedError("AI cores fragmented");
  }
  uint32_t id = requested_id;
  if (id == 0xFFFFFFFFu) {
    for (uint32_t k = 0; k < span; ++k) {
      bool taken = false;
      for (const auto& v : chip.vnpus) {
        taken = taken || v.id == base + k;
      }
      if (!taken) {
        id = base + k;
        break;
      }
    }
  }
  for (auto& v : chip.vnpus) {
    if (v.id == 0) {
      v = NpuSimVnpu{};
      v.id = id;
      v.template_index = static_cast<uint32_t>(t);
      v.aicore = tpl.aicore;
      v.aicpu = tpl.aicpu;
      v.core_offset = offset;
      v.vgroup = vgroup;
      v.memory_mb = tpl.memory_create_mb;
      v.container_id = 0;
      v.status = 0;
      v.is_container_used = 0;
      return id;
    }
  }
  return ResourceExhaustedError("no free vNPU entry");
}

Status DestroyVnpu(NpuSimState& state, uint32_t chip_index, uint32_t vnpu_id) {
  if (chip_index >= state.chip_count) {
    return NotFoundError("no such chip");
  }
  NpuSimChip& chip = state.chips[chip_index];
  if (AllChipModels()[chip.model_index].templates.empty()) {
    return UnimplementedError("vNPU not supported");
  }
  for (auto& v : chip.vnpus) {
    if (v.id == vnpu_id && vnpu_id != 0) {
      if (ChipUsedBytes(state, chip_index, vnpu_id) > 0) {
        return AlreadyExistsError("vNPU memory is in use by a process");
      }
      v = NpuSimVnpu{};
      return OkStatus();
    }
  }
  return InvalidArgumentError("no such vNPU");
}

NpuSimVnpu* FindVnpu(NpuSimState& state, uint32_t vnpu_id, uint32_t* chip_out) {
  for (uint32_t c = 0; c < state.chip_count; ++c) {
    for (auto& v : state.chips[c].vnpus) {
      if (v.id != 0 && v.id == vnpu_id) {
        *chip_out = c;
        return &v;
      }
    }
  }
  return nullptr;
}

int DcmiCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return kDcmiInvalidParameter;
    case StatusCode::kNotFound:
      return kDcmiDeviceNotExist;
    case StatusCode::kAlreadyExists:
      return kDcmiResourceOccupied;
    case StatusCode::kUnimplemented:
    case StatusCode::kResourceExhausted:
    case StatusCode::kFailedPrecondition:
      return kDcmiNotSupport;
    default:
      return kDcmiInnerErr;
  }
}

}  // namespace npushare::sim
