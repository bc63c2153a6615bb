#include "scheduling/admission.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "common/quantity.h"
#include "hami/pod_devices.h"
#include "scheduling/template_trimmer.h"

namespace npushare::scheduling {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr char kAscendVisibleDevices[] = "ASCEND_VISIBLE_DEVICES";

bool HasBinarySuffix(std::string_view text) {
  return text.size() >= 2 && text.back() == 'i' &&
         std::string_view("KMGTPE").find(text[text.size() - 2]) != std::string_view::npos;
}

// DividedByMiB: `text` read as bytes, in whole MiB (rounded down), when the figure is exact:
// plain digit strings of any length by long division, other forms through Value() unless it
// saturated. nullopt when no exact figure exists.
std::optional<std::string> DividedByMiB(const Quantity& q, const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    std::string out;
    uint64_t rem = 0;
    for (char ch : text) {
      rem = rem * 10 + static_cast<uint64_t>(ch - '0');
      const uint64_t digit = rem >> 20;
      rem &= (uint64_t{1} << 20) - 1;
      if (!out.empty() || digit != 0) {
        out += static_cast<char>('0' + digit);
      }
    }
    return out.empty() ? std::string("0") : out;
  }
  if (q.Value() == std::numeric_limits<int64_t>::max()) {
    return std::nullopt;  // saturated
  }
  return std::to_string(q.Value() >> 20);
}

// BytesHint: " (<text> would be N MB)" when the amount is at least 1 MiB read as bytes.
std::string BytesHint(const Quantity& q, const std::string& text, const char* lead) {
  if (q.Value() < (int64_t{1} << 20)) {
    return "";
  }
  std::optional<std::string> mb = DividedByMiB(q, text);
  return std::string(lead) + text + " would be " +
         (mb ? *mb + " MB" : std::string("more than 8 EiB")) + ")";
}

// ValidateMemoryText: npushare's rule for the memory resource (see header): a whole number
// of MB from 1 to the chip's memoryCapacity. On success returns the amount in MB.
Result<int64_t> ValidateMemoryText(const config::ChipConfig& chip, const std::string& text) {
  const std::string& resource = chip.resource_memory_name;
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
    return InvalidArgumentError(resource + " " + text +
                                " looks like bytes: memory is in MB, e.g. 16384 for 16 GiB" +
                                BytesHint(*q, text, " ("));
  }
  std::optional<int64_t> mb = q->AsInt64();
  if (!mb) {
    return InvalidArgumentError(resource + " " + text + " must be a whole number of MB");
  }
  if (*mb == 0) {
    return InvalidArgumentError(resource + " " + text +
                                " asks for no memory: omit the memory resource to get the whole "
                                "chip, or ask for at least 1 MB");
  }
  if (chip.memory_capacity > 0 && *mb > chip.memory_capacity) {
    // Upstream's wording first ("... is invalid"), then the reason.
    return InvalidArgumentError(resource + " " + text + " is invalid: it exceeds the chip's " +
                                std::to_string(chip.memory_capacity) + " MB" +
                                BytesHint(*q, text, " (memory is in MB; as bytes, "));
  }
  return *mb;
}

// ValidateCoreText: the -core resource is a whole percentage 0..100 written as plain digits
// (no sign, exponent, suffix or fraction). On success returns the percentage.
Result<int32_t> ValidateCoreText(const std::string& resource, const std::string& text) {
  const bool digits = !text.empty() && text.size() <= 3 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoi(text) > 100) {
    return InvalidArgumentError(resource + " " + text +
                                " must be a whole percentage from 0 to 100 (the share of the "
                                "chip's compute; 0 = best effort, no reserved share)");
  }
  return std::stoi(text);
}

void AppendEmptyVisibleDevices(ContainerSpec& container) {
  container.env.push_back(EnvVar{kAscendVisibleDevices, ""});
}

}  // namespace

std::string PodTooManyContainersMessage(size_t containers) {
  return "pod has " + std::to_string(containers) + " containers; a pod using NPUs may have at " +
         "most " + std::to_string(hami::kMaxPodDevicesContainers) +
         " (init and app containers together: the allocation annotation's limit)";
}

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

  // 3. -core: a whole percentage 0..100 wherever it is written (npushare), and above 0 only
  // for hami-core pods (upstream guard; the value used is the limit, else the request).
  if (!chip.resource_core_name.empty()) {
    int32_t core = 0;
    bool have_core = false;
    for (const auto* list : {&container.requests, &container.limits}) {
      if (const std::string* text = FindResource(*list, chip.resource_core_name)) {
        auto pct = ValidateCoreText(chip.resource_core_name, *text);
        if (!pct.ok()) {
          out.error = pct.status();
          return out;
        }
        core = *pct;  // limits are read last and win
        have_core = true;
      }
    }
    if (have_core && !hami_core && core > 0) {
      out.error = InvalidArgumentError(chip.resource_core_name +
                                       " is only supported in hami-core (soft split) mode");
      return out;
    }
  }

  // 4. Memory.
  int64_t trimmed = chip.memory_allocatable;
  if (const std::string* mem_text = FindResource(container.limits, chip.resource_memory_name)) {
    auto mb = ValidateMemoryText(chip, *mem_text);
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
  const size_t n_containers = pod.init_containers.size() + pod.containers.size();
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
  if (out.error.ok() && out.found && n_containers > hami::kMaxPodDevicesContainers) {
    out.error = InvalidArgumentError(PodTooManyContainersMessage(n_containers));
  }
  return out;
}

}  // namespace npushare::scheduling
