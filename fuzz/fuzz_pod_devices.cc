// Fuzzes DecodePodDevices. Invariants: on success, re-encoding and decoding again
// yields the same devices plus exactly one trailing empty container (the upstream
// terminator quirk), and re-encoding that adds exactly one ';'.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "hami/pod_devices.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npushare::hami;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pd = DecodePodDevices(text);
  if (!pd.ok()) {
    FUZZ_CHECK(!pd.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(!pd->empty());
  // Fields containing a separator cannot round-trip; the decoder never produces them.
  const std::string encoded = EncodePodDevices(*pd);
  auto again = DecodePodDevices(encoded);
  if (encoded.size() > kMaxPodDevicesTextBytes || pd->size() + 1 > kMaxPodDevicesContainers) {
    return 0;  // the re-encoded text may legitimately exceed the limits
  }
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->size() == pd->size() + 1);
  FUZZ_CHECK(again->back().empty());
  for (size_t i = 0; i < pd->size(); ++i) {
    FUZZ_CHECK((*again)[i] == (*pd)[i]);
  }
  FUZZ_CHECK(EncodePodDevices(*again) == encoded + ";");
  PodDevices copy = *pd;
  auto popped = PopFirstNonEmptyContainer(copy);
  if (popped.ok()) {
    FUZZ_CHECK(!popped->devices.empty());
    FUZZ_CHECK(copy[popped->container_index].empty());
  }
  return 0;
}
