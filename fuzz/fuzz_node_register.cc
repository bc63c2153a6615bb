// Fuzzes DecodeNodeRegister. Invariants: on success the list is non-empty, every device
// carries the common word as vendor, and encode -> decode reproduces every field.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "hami/node_register.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npushare::hami;
  const std::string json(reinterpret_cast<const char*>(data), size);
  auto devs = DecodeNodeRegister(json, "Ascend910B3");
  if (!devs.ok()) {
    FUZZ_CHECK(!devs.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(!devs->empty());
  for (const DeviceInfo& d : *devs) {
    FUZZ_CHECK(d.device_vendor == "Ascend910B3");
  }
  auto back = DecodeNodeRegister(EncodeNodeRegister(*devs), "Ascend910B3");
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->size() == devs->size());
  for (size_t i = 0; i < devs->size(); ++i) {
    const DeviceInfo& a = (*devs)[i];
    const DeviceInfo& b = (*back)[i];
    FUZZ_CHECK(a.id == b.id && a.index == b.index && a.count == b.count && a.devmem == b.devmem &&
               a.devcore == b.devcore && a.type == b.type && a.numa == b.numa && a.mode == b.mode &&
               a.health == b.health && a.has_custom_info == b.has_custom_info &&
               a.network_id == b.network_id);
  }
  return 0;
}
