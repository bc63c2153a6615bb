// Fuzzes CheckHealth with arbitrary handshake values. Invariants: unhealthy only for a
// Requesting value, and then always with the delete action; a refresh always carries a
// well-formed Requesting_ value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "hami/handshake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npushare::hami;
  if (size < 2) {
    return 0;
  }
  const bool alloc = data[0] & 1;
  const bool get_ok = data[0] & 2;
  const std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  const HealthDecision d = CheckHealth(HealthInput{value, 1787293239, alloc, get_ok});
  const bool requesting = value.find("Requesting") != std::string_view::npos;
  if (!d.healthy) {
    FUZZ_CHECK(requesting && !alloc && d.action == HandshakeAction::kDeleteAnnotation);
  }
  if (d.need_update) {
    FUZZ_CHECK(!requesting && get_ok);
    FUZZ_CHECK(d.patch_value == "Requesting_2026-08-21 06:20:39");
  }
  return 0;
}
