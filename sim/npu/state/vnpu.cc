#include "state/vnpu.h"

#include <string>

#include "state/chip_models.h"
#include "state/shared_state.h"

namespace npushare::sim {
namespace {

constexpr int kDcmiInvalidParameter = -8001;
constexpr int kDcmiInnerErr = -8005;
constexpr int kDcmiDeviceNotExist = -8008;
constexpr int kDcmiResourceOccupied = -8020;
constexpr int kDcmiNotSupport = -8255;

vnpu::ChipBudget BudgetOf(const NpuSimChip& chip, const ChipModel& model) {
  vnpu::ChipBudget b;
  b.ai_core = static_cast<int32_t>(chip.aicore);
  b.ai_cpu = static_cast<int32_t>(chip.aicpu);
  b.max_vnpus = static_cast<int32_t>(model.max_vnpus);
  b.one_template = vnpu::OneTemplatePerChip(model.name);
  return b;
}

}  // namespace

vnpu::ChipSlices ChipSlicesOf(const NpuSimState& state, uint32_t chip_index) {
  vnpu::ChipSlices out;
  const NpuSimChip& chip = state.chips[chip_index];
  for (const auto& v : chip.vnpus) {
    if (v.id != 0) {
      out.Add({static_cast<int32_t>(v.template_index), static_cast<int32_t>(v.aicore),
               static_cast<int32_t>(v.aicpu)});
    }
  }
  return out;
}

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
  // Which slices may share a chip is decided by the rule the scheduler uses too
  // (scheduling/vnpu_placement.h); only id bookkeeping and core layout are decided here.
  const vnpu::ChipSlices slices = ChipSlicesOf(state, chip_index);
  const vnpu::SliceShape shape{t, static_cast<int32_t>(tpl.aicore),
                               static_cast<int32_t>(tpl.aicpu)};
  const vnpu::Verdict verdict = vnpu::CanAddSlice(BudgetOf(chip, model), slices, shape);
  if (verdict == vnpu::Verdict::kTemplateMix) {
    return FailedPreconditionError("this chip already holds slices of another template");
  }
  if (verdict != vnpu::Verdict::kOk) {
    return ResourceExhaustedError("vNPU refused: " + std::string(vnpu::VerdictName(verdict)));
  }
  uint64_t used_cores = 0;  // bitmask of cores owned by slices
  for (const auto& v : chip.vnpus) {
    if (v.id == 0) {
      continue;
    }
    if (requested_id == v.id) {
      return AlreadyExistsError("vNPU id in use");
    }
    for (uint32_t c = v.core_offset; c < v.core_offset + v.aicore && c < 64; ++c) {
      used_cores |= 1ull << c;
    }
  }
  // Slices own core ranges for the device timeline: the first free contiguous run. The rule
  // above is a budget, so when destroy order left the free cores fragmented the slice takes
  // the run that overlaps owned cores least and shares those (never a refusal the
  // scheduler could not foresee).
  uint32_t offset = 0;
  int best_overlap = -1;
  for (uint32_t start = 0; start + tpl.aicore <= chip.aicore; ++start) {
    int overlap = 0;
    for (uint32_t c = start; c < start + tpl.aicore && c < 64; ++c) {
      overlap += static_cast<int>((used_cores >> c) & 1u);
    }
    if (best_overlap < 0 || overlap < best_overlap) {
      best_overlap = overlap;
      offset = start;
    }
    if (overlap == 0) {
      break;
    }
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
