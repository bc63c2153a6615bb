// Fuzzes DecodeRuntimeInfoLookup. Invariants: no empty UUID key; encoding the entries
// and decoding again gives the same lookup (except that 0 encodes as absent).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "hami/runtime_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npushare::hami;
  const std::string json(reinterpret_cast<const char*>(data), size);
  auto lookup = DecodeRuntimeInfoLookup(json, "Ascend910B3");
  if (!lookup.ok()) {
    FUZZ_CHECK(lookup.status().message().rfind("annotation huawei.com/Ascend910B3 value ", 0) == 0);
    return 0;
  }
  std::vector<RuntimeInfoEntry> entries;
  for (const auto& [uuid, e] : *lookup) {
    FUZZ_CHECK(!uuid.empty() && uuid == e.uuid);
    entries.push_back(e);
  }
  auto back = DecodeRuntimeInfoLookup(EncodeRuntimeInfo(entries), "Ascend910B3");
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->size() == lookup->size());
  for (const auto& [uuid, e] : *lookup) {
    const RuntimeInfoEntry& b = back->at(uuid);
    FUZZ_CHECK(b.temp == e.temp);
    FUZZ_CHECK(b.memory.value_or(0) == e.memory.value_or(0));
    FUZZ_CHECK(b.core.value_or(0) == e.core.value_or(0));
  }
  return 0;
}
