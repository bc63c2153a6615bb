#include "scheduling/admission.h"

#include <cstdint>
#include <limits>
#include <string>

#include "common/quantity.h"
#include "scheduling/template_trimmer.h"

namespace npushare::scheduling {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr char kAscendVisibleDevices[] = "ASCEND_VISIBLE_DEVICES";

bool HasBinarySuffix(std::string_view text) {
  return text.size() >= 2 && text.back() == 'i' &&
         std::string_view("KMGTPE").find(text[text.size() - 2]) != std::string_view::npos;
}

// ValidateMemoryText: npushare's MB-only rule for the memory resource (see header).
// On success returns the amount in MB.
Result<int64_t> ValidateMemoryText(const std::string& resource, const std::string& text) {
  auto q = Quantity::Parse(text);
  if (!q.ok()) {
    return InvalidArgumentError(resource + " " + text +
                                " is not a valid quantity: " + q.status().message());
  }
  if (q->IsNegative()) {
    return InvalidArgumentError(resource + " " + text + " is negative");
  }
  const bool bytes_like = HasBinarySuffix(text) || q->Value() > kInt32Max;
  if (bytes_like) {
    std::string hint;
    if (q->Value() >= (int64_t{1} << 20)) {
      hint = " (" + text + " would be " + std::to_string(q->Value() >> 20) + " MB)";
    }
    return InvalidArgumentError(resource + " " + text +
                                " looks like bytes: memory is in MB, e.g. 16384 for 16 GiB" + hint);
  }
  std::optional<int64_t> mb = q->AsInt64();
  if (!mb) {
    return InvalidArgumentError(resource + " " + text + " must be a whole number of MB");
  }
  return *mb;
}

void AppendEmptyVisibleDevices(ContainerSpec& container) {
  container.env.push_back(EnvVar{kAscendVisibleDevices, ""});
}

}  // namespace

ContainerAdmission MutateContainer(const config::ChipConfig& chip, ContainerSpec& container,
                                   PodSpec& pod) {
  ContainerAdmission out;
  const std::string* count_text = FindResource(container.limits, chip.resource_name);
  if (count_text == nullptr) {
    if (chip.overwrite_env) {
      AppendEmptyVisibleDevices(container);
    }
    return out;
  }
  auto count_q = Quantity::Parse(*count_text);
  if (count_q.ok() && count_q->IsZero()) {
    // An explicit 0 asks for nothing; treat it like an absent resource.
    if (chip.overwrite_env) {
      AppendEmptyVisibleDevices(container);
    }
    return out;
  }
  if (!count_q.ok() || !count_q->AsInt64() || *count_q->AsInt64() <= 0 ||
      *count_q->AsInt64() > kInt32Max) {
    out.error = InvalidArgumentError(chip.resource_name + " " + *count_text +
                                     " must be a positive whole number of devices");
    return out;
  }
  const int64_t original_count = *count_q->AsInt64();
  const bool hami_core = pod.IsHamiCore();

  // 2. 910C super-pod: a module is two dies, so one die is rounded up to a module.
  if (chip.common_word == "Ascend910C" && chip.super_pod) {
    if (original_count == 1) {
      (*container.limits)[chip.resource_name] = "2";
      if (container.requests && container.requests->count(chip.resource_name) != 0) {
        (*container.requests)[chip.resource_name] = "2";
      }
    } else if (original_count % 2 != 0) {
      out.error = InvalidArgumentError("Ascend910C device request must be 1 or 2*n, got " +
                                       std::to_string(original_count));
      return out;
    }
  }

  // 3. -core guard.
  if (!hami_core && !chip.resource_core_name.empty()) {
    const std::string* core_text = FindResource(container.limits, chip.resource_core_name);
    if (core_text == nullptr) {
      core_text = FindResource(container.requests, chip.resource_core_name);
    }
    if (core_text != nullptr) {
      auto core_q = Quantity::Parse(*core_text);
      if (!core_q.ok() || core_q->Value() > 0) {
        out.error = InvalidArgumentError(chip.resource_core_name +
                                         " is only supported in hami-core (soft split) mode");
        return out;
      }
    }
  }

  // 4. Memory.
  int64_t trimmed = chip.memory_allocatable;
  if (const std::string* mem_text = FindResource(container.limits, chip.resource_memory_name)) {
    auto mb = ValidateMemoryText(chip.resource_memory_name, *mem_text);
    if (!mb.ok()) {
      out.error = mb.status();
      return out;
    }
    trimmed = hami_core ? *mb : TrimMemory(chip, *mb).memory_mb;
    if (trimmed == 0) {
      out.error = InvalidArgumentError(chip.resource_memory_name + " " + std::to_string(*mb) +
                                       " is invalid");
      return out;
    }
  }

  // 5. Multi-device rule (original count, as upstream).
  out.found = true;
  if (original_count > 1 && !hami_core && trimmed != chip.memory_allocatable) {
    out.error = InvalidArgumentError("vNPU not supported for multiple devices");
    return out;
  }

  // 6. Explicit memory amount on both limits and requests.
  if (!chip.resource_memory_name.empty()) {
    (*container.limits)[chip.resource_memory_name] = std::to_string(trimmed);
    if (!container.requests) {
      container.requests.emplace();
    }
    (*container.requests)[chip.resource_memory_name] = std::to_string(trimmed);
  }

  // 7. runtimeClassName.
  if (!pod.runtime_class_name && !chip.runtime_class_name.empty()) {
    pod.runtime_class_name = chip.runtime_class_name;
  }
  return out;
}

PodAdmission MutatePod(const config::DeviceConfig& config, PodSpec& pod) {
  PodAdmission out;
  auto run = [&](std::vector<ContainerSpec>& list) {
    for (auto& c : list) {
      for (const auto& chip : config.chips) {
        ContainerAdmission r = MutateContainer(chip, c, pod);
        out.found = out.found || r.found;
        if (!r.error.ok()) {
          out.error = r.error.WithContext("container " + c.name);
          return false;
        }
      }
    }
    return true;
  };
  if (run(pod.init_containers)) {
    run(pod.containers);
  }
  return out;
}

}  // namespace npushare::scheduling
