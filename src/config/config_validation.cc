#include "config/config_validation.h"

#include <map>
#include <set>
#include <string>

#include "config/names.h"

namespace npushare::config {
namespace {

// Reporter: appends diagnostics positioned through the SourceMap, skipping fields the
// decoder already rejected.
class Reporter {
 public:
  Reporter(const SourceMap& positions, std::string_view source, Diagnostics* diags)
      : positions_(positions), source_(source), diags_(diags) {}

  bool Skip(const std::string& field) const { return positions_.IsInvalid(field); }

  void Add(Severity s, const std::string& field, std::string message) {
    if (Skip(field)) {
      return;
    }
    const SourcePos pos = positions_.Find(field);
    diags_->push_back(
        Diagnostic{s, std::string(source_), pos.line, pos.column, field, std::move(message)});
  }
  void Error(const std::string& field, std::string message) {
    Add(Severity::kError, field, std::move(message));
  }
  void Warning(const std::string& field, std::string message) {
    Add(Severity::kWarning, field, std::move(message));
  }
  // Range: error if `value` is outside [min, max].
  void Range(const std::string& field, int64_t value, int64_t min, int64_t max) {
    if (value < min) {
      Error(field, "must not be " +
                       std::string(value < 0 ? "negative" : "below " + std::to_string(min)) +
                       " (got " + std::to_string(value) + ")");
    } else if (value > max) {
      Error(field,
            std::to_string(value) + " is absurdly large (limit " + std::to_string(max) + ")");
    }
  }

 private:
  const SourceMap& positions_;
  std::string_view source_;
  Diagnostics* diags_;
};

std::string ChipPath(size_t i) {
  return "vnpus.configs[" + std::to_string(i) + "]";
}

void ValidateName(Reporter& r, const std::string& field, const std::string& value,
                  std::string (*problem)(std::string_view)) {
  if (std::string p = problem(value); !p.empty()) {
    r.Error(field, Quote(value) + " " + p);
  }
}

void ValidateChip(const ChipConfig& chip, const std::string& p, Reporter& r) {
  if (chip.chip_name.empty()) {
    r.Warning(p + ".chipName", "chipName is missing: the device plugin cannot match this entry");
  }
  if (chip.common_word.empty()) {
    r.Error(p + ".commonWord", "commonWord is required");
  } else {
    ValidateName(r, p + ".commonWord", chip.common_word, CommonWordProblem);
  }
  struct NameField {
    const char* key;
    const std::string* value;
    bool required;
  };
  for (const NameField& f : {NameField{"resourceName", &chip.resource_name, true},
                             NameField{"resourceMemoryName", &chip.resource_memory_name, true},
                             NameField{"resourceCoreName", &chip.resource_core_name, false}}) {
    const std::string field = p + "." + f.key;
    if (f.value->empty()) {
      if (f.required) {
        r.Error(field, std::string(f.key) + " is required");
      }
      continue;
    }
    ValidateName(r, field, *f.value, ExtendedResourceNameProblem);
  }
  if (!chip.runtime_class_name.empty()) {
    ValidateName(r, p + ".runtimeClassName", chip.runtime_class_name, Dns1123SubdomainProblem);
  }

  const std::string alloc_field = p + ".memoryAllocatable";
  const std::string cap_field = p + ".memoryCapacity";
  const bool alloc_ok = chip.memory_allocatable > 0 && chip.memory_allocatable <= kMaxMemoryMb;
  const bool cap_ok = chip.memory_capacity > 0 && chip.memory_capacity <= kMaxMemoryMb;
  if (chip.memory_allocatable == 0) {
    r.Error(alloc_field, "memoryAllocatable (MB) is required and must be > 0");
  } else {
    r.Range(alloc_field, chip.memory_allocatable, 1, kMaxMemoryMb);
  }
  if (chip.memory_capacity == 0) {
    r.Error(cap_field, "memoryCapacity (MB) is required and must be > 0");
  } else {
    r.Range(cap_field, chip.memory_capacity, 1, kMaxMemoryMb);
  }
  if (alloc_ok && cap_ok && !r.Skip(cap_field) && chip.memory_allocatable > chip.memory_capacity) {
    r.Error(alloc_field, "memoryAllocatable " + std::to_string(chip.memory_allocatable) +
                             " exceeds memoryCapacity " + std::to_string(chip.memory_capacity));
  }
  r.Range(p + ".memoryFactor", chip.memory_factor, 0, kMaxMemoryFactor);
  r.Range(p + ".aiCore", chip.ai_core, 0, kMaxCores);
  r.Range(p + ".aiCPU", chip.ai_cpu, 0, kMaxCores);
  if (chip.super_pod && chip.common_word != "Ascend910C") {
    r.Warning(p + ".superPod",
              "superPod only applies to commonWord Ascend910C; it is ignored for " +
                  Quote(chip.common_word));
  }

  std::map<std::string, size_t> names;
  std::map<int64_t, size_t> sizes;
  for (size_t j = 0; j < chip.templates.size(); ++j) {
    const VnpuTemplate& t = chip.templates[j];
    const std::string tp = p + ".templates[" + std::to_string(j) + "]";
    if (t.name.empty()) {
      r.Error(tp + ".name", "template name is required");
    } else {
      ValidateName(r, tp + ".name", t.name, TemplateNameProblem);
      auto [it, inserted] = names.emplace(t.name, j);
      if (!inserted) {
        r.Error(tp + ".name", "template name " + Quote(t.name) + " already used by templates[" +
                                  std::to_string(it->second) + "]");
      }
    }
    const std::string mem_field = tp + ".memory";
    if (t.memory_mb == 0) {
      r.Error(mem_field, "template memory (MB) is required and must be > 0");
    } else {
      r.Range(mem_field, t.memory_mb, 1, kMaxMemoryMb);
      if (cap_ok && t.memory_mb > 0 && t.memory_mb > chip.memory_capacity) {
        r.Error(mem_field, "template memory " + std::to_string(t.memory_mb) +
                               " exceeds memoryCapacity " + std::to_string(chip.memory_capacity));
      }
      auto [it, inserted] = sizes.emplace(t.memory_mb, j);
      if (!inserted && t.memory_mb > 0) {
        r.Warning(mem_field, "same memory as templates[" + std::to_string(it->second) +
                                 "]: requests always round to the first of them");
      }
    }
    r.Range(tp + ".aiCore", t.ai_core, 0, kMaxCores);
    r.Range(tp + ".aiCPU", t.ai_cpu, 0, kMaxCores);
    if (chip.ai_core > 0 && t.ai_core > chip.ai_core) {
      r.Warning(tp + ".aiCore", "template aiCore " + std::to_string(t.ai_core) +
                                    " exceeds the chip's aiCore " + std::to_string(chip.ai_core));
    }
    if (chip.ai_cpu > 0 && t.ai_cpu > chip.ai_cpu) {
      r.Warning(tp + ".aiCPU", "template aiCPU " + std::to_string(t.ai_cpu) +
                                   " exceeds the chip's aiCPU " + std::to_string(chip.ai_cpu));
    }
  }
}

}  // namespace

void ValidateDeviceConfig(const DeviceConfig& cfg, const SourceMap& positions,
                          std::string_view source, Diagnostics* diags) {
  Reporter r(positions, source, diags);
  if (cfg.chips.empty()) {
    r.Error("vnpus.configs", "no chips configured (vnpus.configs is empty)");
  }
  std::map<std::string, size_t> common_words;
  std::map<std::string, size_t> chip_names;
  // Resource names share one namespace: kubelet and the scheduler key on them, whatever role.
  std::map<std::string, std::string> resource_names;  // name -> field that first used it
  for (size_t i = 0; i < cfg.chips.size(); ++i) {
    const ChipConfig& chip = cfg.chips[i];
    const std::string p = ChipPath(i);
    ValidateChip(chip, p, r);
    if (!chip.common_word.empty()) {
      auto [it, inserted] = common_words.emplace(chip.common_word, i);
      if (!inserted) {
        r.Error(p + ".commonWord", "commonWord " + Quote(chip.common_word) + " already used by " +
                                       ChipPath(it->second));
      }
    }
    if (!chip.chip_name.empty()) {
      auto [it, inserted] = chip_names.emplace(chip.chip_name, i);
      if (!inserted) {
        r.Error(p + ".chipName",
                "chipName " + Quote(chip.chip_name) + " already used by " + ChipPath(it->second));
      }
    }
    for (const auto& [key, value] :
         {std::pair<const char*, const std::string*>{"resourceName", &chip.resource_name},
          {"resourceMemoryName", &chip.resource_memory_name},
          {"resourceCoreName", &chip.resource_core_name}}) {
      if (value->empty()) {
        continue;
      }
      const std::string field = p + "." + key;
      auto [it, inserted] = resource_names.emplace(*value, field);
      if (!inserted) {
        r.Error(field, "resource name " + Quote(*value) + " already used as " + it->second);
      }
    }
  }
}

void ValidateNodeConfig(const NodeConfig& cfg, const SourceMap& positions, std::string_view source,
                        Diagnostics* diags) {
  Reporter r(positions, source, diags);
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < cfg.nodes.size(); ++i) {
    const NodeConfigEntry& n = cfg.nodes[i];
    const std::string p = "nodes[" + std::to_string(i) + "]";
    if (n.name.empty()) {
      r.Error(p + ".name", "node name is required");
    } else {
      ValidateName(r, p + ".name", n.name, Dns1123SubdomainProblem);
      auto [it, inserted] = names.emplace(n.name, i);
      if (!inserted) {
        r.Error(p + ".name", "node " + Quote(n.name) + " already configured by nodes[" +
                                 std::to_string(it->second) + "]; upstream uses only one entry");
      }
    }
    r.Range(p + ".vDeviceCount", n.vdevice_count, 0, kMaxVDeviceCount);
    std::set<int32_t> seen_index;
    for (size_t j = 0; j < n.filter_indexes.size(); ++j) {
      const std::string field = p + ".filterDevices.index[" + std::to_string(j) + "]";
      r.Range(field, n.filter_indexes[j], 0, kMaxCardIndex);
      if (!seen_index.insert(n.filter_indexes[j]).second) {
        r.Warning(field, "card index " + std::to_string(n.filter_indexes[j]) + " listed twice");
      }
    }
    std::set<std::string> seen_uuid;
    for (size_t j = 0; j < n.filter_uuids.size(); ++j) {
      const std::string field = p + ".filterDevices.uuid[" + std::to_string(j) + "]";
      const std::string& u = n.filter_uuids[j];
      if (u.empty()) {
        r.Error(field, "empty uuid");
      } else if (u.size() > 128) {
        r.Error(field, "uuid longer than 128 characters");
      } else if (!seen_uuid.insert(u).second) {
        r.Warning(field, "uuid " + Quote(u) + " listed twice");
      }
    }
  }
}

void CheckSoftSlicingReachable(const DeviceConfig& device, const SourceMap& positions,
                               std::string_view source, const NodeConfig& nodes,
                               Diagnostics* diags) {
  if (device.hami_vnpu_core) {
    return;
  }
  for (const NodeConfigEntry& n : nodes.nodes) {
    if (n.hami_vnpu_core.value_or(false)) {
      return;
    }
  }
  Reporter r(positions, source, diags);
  for (size_t i = 0; i < device.chips.size(); ++i) {
    if (device.chips[i].resource_core_name.empty()) {
      continue;
    }
    r.Warning(ChipPath(i) + ".resourceCoreName",
              "soft slicing is off globally (vnpus.hamiVnpuCore: false) and no node-config "
              "entry sets hami-vnpu-core: true, so requests for " +
                  device.chips[i].resource_core_name + " can never be scheduled");
  }
}

}  // namespace npushare::config
