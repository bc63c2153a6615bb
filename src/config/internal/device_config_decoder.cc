#include <cstdint>
#include <limits>
#include <string>

#include "config/internal/decoders.h"

namespace npushare::config::internal {
namespace {

constexpr int64_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

void DecodeTemplate(const YAML::Node& node, const std::string& path, DecodeContext& ctx,
                    VnpuTemplate* out) {
  MapEntries m;
  if (!ctx.ReadMap(node, path, {"name", "memory", "aiCore", "aiCPU"}, &m))
    return;
  if (auto v = ctx.String(m, "name", path))
    out->name = *v;
  if (auto v = ctx.Int(m, "memory", path, kI64Min, kI64Max))
    out->memory_mb = *v;
  if (auto v = ctx.Int(m, "aiCore", path, kI32Min, kI32Max))
    out->ai_core = static_cast<int32_t>(*v);
  if (auto v = ctx.Int(m, "aiCPU", path, kI32Min, kI32Max))
    out->ai_cpu = static_cast<int32_t>(*v);
}

void DecodeChip(const YAML::Node& node, const std::string& path, DecodeContext& ctx,
                ChipConfig* out) {
  MapEntries m;
  if (!ctx.ReadMap(
          node, path,
          {"chipName", "commonWord", "resourceName", "resourceMemoryName", "resourceCoreName",
           "memoryAllocatable", "memoryCapacity", "memoryFactor", "aiCore", "aiCPU", "templates",
           "runtimeClassName", "overwriteEnv", "superPod", "hamiVnpuCore"},
          &m)) {
    return;
  }
  if (auto v = ctx.String(m, "chipName", path))
    out->chip_name = *v;
  if (auto v = ctx.String(m, "commonWord", path))
    out->common_word = *v;
  if (auto v = ctx.String(m, "resourceName", path))
    out->resource_name = *v;
  if (auto v = ctx.String(m, "resourceMemoryName", path))
    out->resource_memory_name = *v;
  if (auto v = ctx.String(m, "resourceCoreName", path))
    out->resource_core_name = *v;
  if (auto v = ctx.Int(m, "memoryAllocatable", path, kI64Min, kI64Max)) {
    out->memory_allocatable = *v;
  }
  if (auto v = ctx.Int(m, "memoryCapacity", path, kI64Min, kI64Max))
    out->memory_capacity = *v;
  if (auto v = ctx.Int(m, "memoryFactor", path, kI32Min, kI32Max)) {
    out->memory_factor = static_cast<int32_t>(*v);
  }
  if (auto v = ctx.Int(m, "aiCore", path, kI32Min, kI32Max))
    out->ai_core = static_cast<int32_t>(*v);
  if (auto v = ctx.Int(m, "aiCPU", path, kI32Min, kI32Max))
    out->ai_cpu = static_cast<int32_t>(*v);
  if (auto v = ctx.String(m, "runtimeClassName", path))
    out->runtime_class_name = *v;
  if (auto v = ctx.Bool(m, "overwriteEnv", path))
    out->overwrite_env = *v;
  if (auto v = ctx.Bool(m, "superPod", path))
    out->super_pod = *v;
  // Upstream has no per-chip switch (hami-protocol.md §7.1): both the scheduler and the
  // plugin ignore this key, so we ignore it too (applying it would make the two halves of a
  // mixed deployment disagree) and say where it belongs.
  if (const YAML::Node* n = m.Find("hamiVnpuCore")) {
    ctx.Warning(ctx.PosOf(*n), Join(path, "hamiVnpuCore"),
                "hamiVnpuCore is global and is ignored here; move it to vnpus.hamiVnpuCore "
                "(or enable it per node in node-config.yaml)");
  }
  if (auto seq = ctx.Sequence(m, "templates", path, kMaxTemplatesPerChip)) {
    const std::string tpath = Join(path, "templates");
    for (size_t i = 0; i < seq->size() && i < kMaxTemplatesPerChip; ++i) {
      VnpuTemplate t;
      DecodeTemplate((*seq)[i], Index(tpath, i), ctx, &t);
      out->templates.push_back(std::move(t));
    }
  }
}

}  // namespace

void DecodeDeviceConfig(const YAML::Node& root, DecodeContext& ctx, DeviceConfig* out) {
  MapEntries top;
  if (!ctx.ReadMap(root, "", {"vnpus"}, &top))
    return;
  const YAML::Node* vnpus = top.Find("vnpus");
  if (vnpus == nullptr) {
    ctx.Error(ctx.PosOf(root), "vnpus", "vnpus is empty");
    return;
  }
  MapEntries v;
  if (!ctx.ReadMap(*vnpus, "vnpus", {"hamiVnpuCore", "configs"}, &v))
    return;
  if (auto b = ctx.Bool(v, "hamiVnpuCore", "vnpus"))
    out->hami_vnpu_core = *b;
  if (auto seq = ctx.Sequence(v, "configs", "vnpus", kMaxChips)) {
    for (size_t i = 0; i < seq->size() && i < kMaxChips; ++i) {
      ChipConfig chip;
      DecodeChip((*seq)[i], Index("vnpus.configs", i), ctx, &chip);
      out->chips.push_back(std::move(chip));
    }
  }
}

}  // namespace npushare::config::internal
