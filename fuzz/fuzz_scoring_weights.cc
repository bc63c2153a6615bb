// Fuzzes ParseScoringWeights and the policy parsers. Invariants: accepted weights are
// non-negative and not all zero; errors name the annotation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "hami/scheduler_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npushare::hami;
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  auto w = ParseScoringWeights(value);
  if (w.ok()) {
    FUZZ_CHECK(w->slot >= 0 && w->core >= 0 && w->memory >= 0);
    FUZZ_CHECK(w->slot + int64_t{w->core} + w->memory > 0);
  } else {
    FUZZ_CHECK(
        w.status().message().rfind("invalid hami.io/device-scoring-weights annotation ", 0) == 0);
  }
  const DevicePolicy p = ParseDevicePolicy(value);
  FUZZ_CHECK(p.order == DeviceOrder::kChain || p.chain.empty());
  (void)ParseNodePolicy(value, NodePolicy::kBinpack);
  return 0;
}
