#include "scheduling/request_parser.h"

#include <cstdint>
#include <limits>

#include "common/quantity.h"

namespace npushare::scheduling {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// LimitOrRequest: the quantity text from limits, else from requests, else nullptr.
const std::string* LimitOrRequest(const ContainerSpec& c, std::string_view name) {
  if (name.empty()) {
    return nullptr;
  }
  if (const std::string* v = FindResource(c.limits, name)) {
    return v;
  }
  return FindResource(c.requests, name);
}

ParsedRequest Invalid(std::string why) {
  ParsedRequest r;
  r.kind = ParsedRequest::Kind::kInvalid;
  r.invalid_reason = std::move(why);
  return r;
}

}  // namespace

ParsedRequest ParseContainerRequest(const config::ChipConfig& chip,
                                    const ContainerSpec& container) {
  const std::string* count_text = LimitOrRequest(container, chip.resource_name);
  if (count_text == nullptr) {
    return {};
  }
  auto count_q = Quantity::Parse(*count_text);
  if (!count_q.ok()) {
    return Invalid("count " + *count_text + ": " + count_q.status().message());
  }
  std::optional<int64_t> count = count_q->AsInt64();
  if (!count) {
    return {};  // fractional count: upstream treats it as "not requested"
  }
  if (*count <= 0 || *count > kInt32Max) {
    return Invalid(chip.resource_name + " " + *count_text + " is out of range");
  }

  int64_t memory = 0;
  if (const std::string* mem_text = LimitOrRequest(container, chip.resource_memory_name)) {
    auto mem_q = Quantity::Parse(*mem_text);
    if (!mem_q.ok()) {
      return Invalid("memory " + *mem_text + ": " + mem_q.status().message());
    }
    if (mem_q->IsNegative()) {
      return Invalid(chip.resource_memory_name + " is negative");
    }
    if (std::optional<int64_t> m = mem_q->AsInt64()) {
      if (*m > kInt32Max) {
        return Invalid(chip.resource_memory_name + " " + *mem_text + " is too large");
      }
      memory = *m;
      if (chip.memory_factor > 1) {
        memory *= chip.memory_factor;
        if (memory > kInt32Max) {
          return Invalid(chip.resource_memory_name + " overflows after memoryFactor");
        }
      }
    }
    // Non-integral memory is ignored (upstream quirk, hami-protocol.md §9.9).
  }

  int64_t cores = 0;
  if (const std::string* core_text = LimitOrRequest(container, chip.resource_core_name)) {
    auto core_q = Quantity::Parse(*core_text);
    if (!core_q.ok()) {
      return Invalid("core " + *core_text + ": " + core_q.status().message());
    }
    cores = core_q->Value();
    if (cores < 0 || cores > kInt32Max) {
      return Invalid(chip.resource_core_name + " " + *core_text + " is out of range");
    }
  }

  ParsedRequest r;
  r.kind = ParsedRequest::Kind::kRequest;
  r.request.nums = static_cast<int32_t>(*count);
  r.request.type = chip.common_word;
  r.request.memreq = static_cast<int32_t>(memory);
  r.request.mem_percentage_req = memory == 0 ? 100 : 0;
  r.request.coresreq = static_cast<int32_t>(cores);
  return r;
}

}  // namespace npushare::scheduling
